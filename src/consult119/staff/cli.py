"""``consult119 staff …`` and ``consult119 roster …``: accounts and shifts from the shell."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import typer
from pydantic_core import PydanticCustomError
from rich.table import Table
from rich.text import Text

from consult119.config import get_settings
from consult119.db import Database, utcnow
from consult119.errors import DomainError
from consult119.i18n import get_locale
from consult119.i18n import gettext as _
from consult119.migrate import upgrade
from consult119.staff import repository as staff_repo
from consult119.staff import service
from consult119.staff.models import Role
from consult119.terminal import err, fail
from consult119.terminal import out as console
from consult119.types import EARLIEST, LATEST, to_bounded_utc

staff_app = typer.Typer(
    help="Staff accounts: doctors, EMTs, managers and admins.", no_args_is_help=True
)
roster_app = typer.Typer(
    help="The roster: shifts in UTC. A doctor inside a shift is on duty.", no_args_is_help=True
)


@contextmanager
def _database() -> Iterator[Database]:
    """The configured database, its schema brought up to date first."""
    db = Database(get_settings())
    upgrade(db.engine)
    try:
        yield db
    finally:
        db.dispose()


def _fail(exc: DomainError) -> typer.Exit:
    err.print(f"[red]{exc.text(get_locale())}[/red] ({exc.code})")
    return typer.Exit(code=1)


def read_password() -> str:
    """From stdin when piped (first line), else a hidden prompt asked twice."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt(_("Password"), hide_input=True, confirmation_prompt=True)


def _parse_time(value: str, name: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise typer.BadParameter(
            _("not an ISO 8601 time: {value}", value=repr(value)), param_hint=name
        ) from exc
    if parsed.tzinfo is None:
        raise typer.BadParameter(
            _("give a timezone, e.g. 2025-03-01T09:00Z or +09:00"), param_hint=name
        )
    try:
        return to_bounded_utc(parsed)
    except PydanticCustomError as exc:
        raise typer.BadParameter(
            _(
                "{value} is outside {earliest}..{latest} (UTC)",
                value=repr(value),
                earliest=EARLIEST.isoformat(),
                latest=LATEST.isoformat(),
            ),
            param_hint=name,
        ) from exc


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if value else "—"


@staff_app.command("add")
def staff_add(
    email: str = typer.Argument(..., help="Sign-in e-mail address."),
    name: str = typer.Option(..., "--name", help="Full name as colleagues see it."),
    role: Role = typer.Option(..., "--role", help="doctor, emt, manager or admin."),
    capacity: int = typer.Option(
        8, min=1, max=100, help="Most open cases a doctor receives automatically."
    ),
) -> None:
    """Add a staff account. The password is read from stdin when piped
    (`echo "$PW" | consult119 staff add …`), otherwise asked twice without echo.
    It is stored only as an Argon2 hash."""
    password = read_password()
    with _database() as db:
        try:
            with db.unit_of_work() as session:
                staff = service.create_staff(
                    session,
                    email=email,
                    name=name,
                    role=role.value,
                    password=password,
                    now=utcnow(),
                )
                staff.capacity = capacity
        except DomainError as exc:
            raise _fail(exc) from exc
    added = _(
        "Added {role} {name} <{email}> (id {id}).",
        role=staff.role,
        name=staff.name,
        email=staff.email,
        id=staff.id,
    )
    console.print(added, style="green")


@staff_app.command("list")
def staff_list(
    role: Role | None = typer.Option(None, help="Only this role."),
    on_duty: bool = typer.Option(False, "--on-duty", help="Only those on duty now."),
    all_accounts: bool = typer.Option(False, "--all", help="Include disabled accounts."),
) -> None:
    """List staff accounts with role, duty and presence."""
    now = utcnow()
    with _database() as db, db.read_session() as session:
        rows = staff_repo.staff_with_duty(
            session,
            now,
            role=role.value if role is not None else None,
            on_duty=on_duty,
            all_accounts=all_accounts,
        )
    table = Table(title=_("Staff ({count})", count=len(rows)))
    for col in (
        _("id"),
        _("e-mail"),
        _("name"),
        _("role"),
        _("on duty"),
        _("presence"),
        _("capacity"),
        _("account"),
    ):
        table.add_column(col)
    for staff, duty in rows:
        table.add_row(
            str(staff.id),
            staff.email,
            staff.name,
            staff.role,
            _("yes") if duty else _("no"),
            staff.presence,
            str(staff.capacity),
            Text(_("disabled"), style="red") if staff.disabled else _("active"),
        )
    console.print(table)


@staff_app.command("disable")
def staff_disable(email: str = typer.Argument(..., help="E-mail address of the account.")) -> None:
    """Disable an account: its tokens stop working at once and its open cases are handed over."""
    with _database() as db, db.unit_of_work() as session:
        staff = staff_repo.find_by_email(session, email)
        if staff is None:
            fail(_("No account {email}.", email=email), 1)
        changed = service.disable_staff(session, staff, now=utcnow())
    if changed:
        console.print(_("Disabled {email}.", email=staff.email), style="green")
    else:
        console.print(_("{email} was already disabled.", email=staff.email))


@staff_app.command("role")
def staff_role(
    email: str = typer.Argument(..., help="E-mail address of the account."),
    role: Role = typer.Argument(..., help="The new role: doctor, emt, manager or admin."),
) -> None:
    """Give an account another role. Its tokens for the old role stop working at once and its
    open consoles close; it signs in again to work in the new role."""
    with _database() as db, db.unit_of_work() as session:
        staff = staff_repo.find_by_email(session, email)
        if staff is None:
            fail(_("No account {email}.", email=email), 1)
        old = staff.role
        changed = service.change_role(session, staff, role.value, now=utcnow())
    if changed:
        console.print(
            _("{email} is now {role} (was {old}).", email=staff.email, role=role.value, old=old),
            style="green",
        )
    else:
        console.print(_("{email} is already {role}.", email=staff.email, role=role.value))


@roster_app.command("add")
def roster_add(
    email: str = typer.Argument(..., help="E-mail address of the staff member."),
    start: str = typer.Option(
        ..., "--start", help="ISO 8601 with a timezone, e.g. 2025-03-01T09:00Z."
    ),
    end: str = typer.Option(..., "--end", help="ISO 8601 with a timezone; after --start."),
) -> None:
    """Add a shift. Times are converted to and stored in UTC."""
    starts_at, ends_at = _parse_time(start, "--start"), _parse_time(end, "--end")
    with _database() as db:
        try:
            with db.unit_of_work() as session:
                staff = staff_repo.find_by_email(session, email)
                if staff is None:
                    fail(_("No account {email}.", email=email), 1)
                shift = service.add_shift(
                    session, staff, starts_at=starts_at, ends_at=ends_at, now=utcnow()
                )
        except DomainError as exc:
            raise _fail(exc) from exc
    added = _(
        "Shift {id}: {name} from {start} to {end}.",
        id=shift.id,
        name=staff.name,
        start=_when(shift.starts_at),
        end=_when(shift.ends_at),
    )
    console.print(added, style="green")


@roster_app.command("show")
def roster_show(
    at: str | None = typer.Option(None, "--at", help="ISO 8601 moment (default: now)."),
    hours: int = typer.Option(
        0, min=0, max=24 * 31, help="Also list shifts starting within this many hours after it."
    ),
) -> None:
    """Show who is on shift at a moment (default now), in UTC."""
    moment = _parse_time(at, "--at") if at else utcnow()
    with _database() as db, db.read_session() as session:
        if hours:
            rows = staff_repo.shifts_between(session, moment, moment + timedelta(hours=hours))
        else:
            rows = staff_repo.shifts_covering(session, moment)
    title = (
        _("Shifts at {moment} and the next {hours} h", moment=_when(moment), hours=hours)
        if hours
        else _("Shifts at {moment}", moment=_when(moment))
    )
    table = Table(title=title)
    for col in (
        _("shift"),
        _("name"),
        _("e-mail"),
        _("role"),
        _("start (UTC)"),
        _("end (UTC)"),
        _("presence"),
    ):
        table.add_column(col)
    for shift, staff in rows:
        table.add_row(
            str(shift.id),
            staff.name,
            staff.email,
            staff.role,
            _when(shift.starts_at),
            _when(shift.ends_at),
            staff.presence,
        )
    console.print(table)
    if not rows:
        console.print(_("Nobody is on shift then."), style="yellow")
