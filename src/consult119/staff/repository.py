"""Queries about staff and shifts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case, exists, func, insert, select, update
from sqlalchemy.orm import Session

from consult119.staff.models import Presence, Role, Shift, Staff
from consult119.tickets.codes import OPEN_STATUSES
from consult119.tickets.models import Ticket


def on_duty_clause(now: datetime):
    """SQL true when the staff row has a shift covering ``now``."""
    return exists().where(Shift.staff_id == Staff.id, Shift.starts_at <= now, Shift.ends_at > now)


def is_on_duty(session: Session, staff_id: int, now: datetime) -> bool:
    return bool(
        session.scalar(
            select(Shift.id)
            .where(Shift.staff_id == staff_id, Shift.starts_at <= now, Shift.ends_at > now)
            .limit(1)
        )
    )


def list_staff(
    session: Session, *, now: datetime, on_duty: bool | None = None, role: str | None = None
) -> list[tuple[Staff, bool]]:
    """Active staff with their on-duty flag, in one query."""
    flag = on_duty_clause(now).label("on_duty")
    stmt = select(Staff, flag).where(Staff.disabled.is_(False)).order_by(Staff.name, Staff.id)
    if on_duty is not None:
        stmt = stmt.where(on_duty_clause(now) if on_duty else ~on_duty_clause(now))
    if role is not None:
        stmt = stmt.where(Staff.role == role)
    return [(row[0], bool(row[1])) for row in session.execute(stmt)]


def open_cases_count():
    """Correlated count of a staff row's open cases (for ranking and capacity)."""

    return (
        select(func.count())
        .select_from(Ticket)
        .where(Ticket.assignee_id == Staff.id, Ticket.status.in_([s.value for s in OPEN_STATUSES]))
        .scalar_subquery()
    )


def pick_doctor(
    session: Session, *, now: datetime, exclude: set[int] | frozenset[int] = frozenset()
) -> Staff | None:
    """The doctor the next case goes to, in one query: on duty, at the console (available
    before busy; away and offline never), under capacity, fewest open cases, then the one idle
    longest (never assigned counts as idle longest)."""

    count = open_cases_count()
    stmt = (
        select(Staff)
        .where(
            Staff.role == Role.DOCTOR.value,
            Staff.disabled.is_(False),
            Staff.presence.in_([Presence.AVAILABLE.value, Presence.BUSY.value]),
            on_duty_clause(now),
            count < Staff.capacity,
        )
        .order_by(
            case((Staff.presence == Presence.AVAILABLE.value, 0), else_=1),
            count,
            Staff.last_assigned_at.asc().nulls_first(),
            Staff.id,
        )
        .limit(1)
    )
    if exclude:
        stmt = stmt.where(Staff.id.not_in(list(exclude)))
    return session.scalars(stmt).first()


def doctor_at_console(session: Session, now: datetime) -> bool:
    """Whether any active doctor is on duty now and at the console (available or busy): someone
    who can answer a case, whether or not they have room for one more."""
    return (
        session.scalar(
            select(Staff.id)
            .where(
                Staff.role == Role.DOCTOR.value,
                Staff.disabled.is_(False),
                Staff.presence.in_([Presence.AVAILABLE.value, Presence.BUSY.value]),
                on_duty_clause(now),
            )
            .limit(1)
        )
        is not None
    )


def count_doctors_on_duty(session: Session, now: datetime) -> int:
    """Active doctors with a shift covering ``now``, whatever their presence."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(Staff)
            .where(
                Staff.role == Role.DOCTOR.value,
                Staff.disabled.is_(False),
                on_duty_clause(now),
            )
        )
        or 0
    )


def doctor_shift_windows(
    session: Session, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """``(starts_at, ends_at)`` of every active doctor's shift overlapping [start, end), in
    start order: one scan, for the roster's gaps."""
    rows = session.execute(
        select(Shift.starts_at, Shift.ends_at)
        .join(Staff, Staff.id == Shift.staff_id)
        .where(
            Staff.role == Role.DOCTOR.value,
            Staff.disabled.is_(False),
            Shift.starts_at < end,
            Shift.ends_at > start,
        )
        .order_by(Shift.starts_at)
    )
    return [(r[0], r[1]) for r in rows]


def lock_staff(session: Session, staff_id: int) -> Staff | None:
    """The staff row, locked until commit on PostgreSQL (capacity checks must not race)."""
    return session.scalars(
        select(Staff)
        .where(Staff.id == staff_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()


def count_open_cases(session: Session, staff_id: int) -> int:

    return int(
        session.scalar(
            select(func.count())
            .select_from(Ticket)
            .where(
                Ticket.assignee_id == staff_id,
                Ticket.status.in_([s.value for s in OPEN_STATUSES]),
            )
        )
        or 0
    )


def find_by_email(session: Session, email: str) -> Staff | None:

    return session.scalars(
        select(Staff).where(func.lower(Staff.email) == email.strip().lower())
    ).first()


def shifts_covering(session: Session, at: datetime) -> list[tuple[Shift, Staff]]:
    """Shifts running at ``at`` with their staff, by role then name."""
    rows = session.execute(
        select(Shift, Staff)
        .join(Staff, Staff.id == Shift.staff_id)
        .where(Shift.starts_at <= at, Shift.ends_at > at)
        .order_by(Staff.role, Staff.name, Shift.starts_at)
    )
    return [(r[0], r[1]) for r in rows]


def shifts_between(
    session: Session, start: datetime, end: datetime, staff_id: int | None = None
) -> list[tuple[Shift, Staff]]:
    """Shifts overlapping [start, end), in start order."""
    stmt = (
        select(Shift, Staff)
        .join(Staff, Staff.id == Shift.staff_id)
        .where(Shift.starts_at < end, Shift.ends_at > start)
        .order_by(Shift.starts_at, Staff.name)
    )
    if staff_id is not None:
        stmt = stmt.where(Shift.staff_id == staff_id)
    return [(r[0], r[1]) for r in session.execute(stmt)]


def overlapping_shift(
    session: Session, staff_id: int, start: datetime, end: datetime
) -> Shift | None:
    return session.scalars(
        select(Shift)
        .where(Shift.staff_id == staff_id, Shift.starts_at < end, Shift.ends_at > start)
        .limit(1)
    ).first()


def ended_shifts(session: Session, now: datetime, limit: int = 100) -> list[Shift]:
    """Shifts that ended and whose open cases were not handed over yet."""
    return list(
        session.scalars(
            select(Shift)
            .where(Shift.ends_at <= now, Shift.handed_over_at.is_(None))
            .order_by(Shift.ends_at)
            .limit(limit)
        )
    )


def get_staff(session: Session, staff_id: int, *, for_update: bool = False) -> Staff | None:
    """The staff row by id (from the session's identity map when it is there); ``for_update``
    locks it until commit on PostgreSQL."""
    return session.get(Staff, staff_id, with_for_update=for_update or None)


def confirm_presence(session: Session, staff_id: int, now: datetime) -> None:
    """Stamp ``presence_at`` of a staff member who is not offline."""

    session.execute(
        update(Staff)
        .where(Staff.id == staff_id, Staff.presence != Presence.OFFLINE.value)
        .values(presence_at=now)
    )


def access_of(session: Session, staff_id: int) -> Any:
    """``(disabled, role)`` of a staff member, or None when the account is gone."""
    return session.execute(select(Staff.disabled, Staff.role).where(Staff.id == staff_id)).first()


def staff_with_duty(
    session: Session,
    now: datetime,
    *,
    role: str | None = None,
    on_duty: bool = False,
    all_accounts: bool = False,
) -> list[Any]:
    """``(Staff, on_duty)`` rows by role then name: active accounts unless ``all_accounts``."""
    stmt = select(Staff, on_duty_clause(now).label("on_duty")).order_by(Staff.role, Staff.name)
    if not all_accounts:
        stmt = stmt.where(Staff.disabled.is_(False))
    if role is not None:
        stmt = stmt.where(Staff.role == role)
    if on_duty:
        stmt = stmt.where(on_duty_clause(now))
    return list(session.execute(stmt).all())


def email_taken(session: Session, email: str) -> bool:
    """Whether an account already uses ``email`` (compared without case)."""
    return (
        session.scalars(select(Staff.id).where(func.lower(Staff.email) == email)).first()
        is not None
    )


def stamp_ended_shifts(session: Session, now: datetime) -> list[Any]:
    """Mark ended shifts whose cases were seen to; ``(staff_id, started_seen_at)`` of the
    shifts this call stamped (a conditional update, so each end is returned once)."""
    return list(
        session.execute(
            update(Shift)
            .where(Shift.ends_at <= now, Shift.handed_over_at.is_(None))
            .values(handed_over_at=now)
            .returning(Shift.staff_id, Shift.started_seen_at)
        ).all()
    )


def any_shift_started_unseen(session: Session, now: datetime) -> bool:
    """Whether a shift has begun that no tick has announced yet."""
    return (
        session.scalar(
            select(Shift.id).where(Shift.starts_at <= now, Shift.started_seen_at.is_(None)).limit(1)
        )
        is not None
    )


def stamp_started_shifts(session: Session, now: datetime) -> list[Any]:
    """Mark begun shifts as seen; ``(staff_id, ends_at)`` of the shifts this call stamped."""
    return list(
        session.execute(
            update(Shift)
            .where(Shift.starts_at <= now, Shift.started_seen_at.is_(None))
            .values(started_seen_at=now)
            .returning(Shift.staff_id, Shift.ends_at)
        ).all()
    )


def count_staff(session: Session, *, outside_domain: str | None = None) -> int:
    """How many accounts there are (disabled ones too); with ``outside_domain``, only those
    whose e-mail address is not at that domain."""
    stmt = select(func.count()).select_from(Staff)
    if outside_domain is not None:
        stmt = stmt.where(~Staff.email.like(f"%@{outside_domain}"))
    return session.scalar(stmt) or 0


def insert_shifts(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert many shifts in one ``executemany`` (a roster written at once; no duty events)."""
    session.execute(insert(Shift.__table__), rows)  # type: ignore[attr-defined]
