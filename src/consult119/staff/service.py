"""Staff accounts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from consult119.auth.passwords import check_new_password
from consult119.auth.security import hash_password
from consult119.errors import Conflict, Invalid
from consult119.i18n import lazy_gettext as _l
from consult119.realtime import events
from consult119.staff import repository as staff_repo
from consult119.staff.models import Presence, Role, Shift, Staff
from consult119.staff.schemas import StaffPublic


def create_staff(
    session: Session, *, email: str, name: str, role: str, password: str, now: datetime
) -> Staff:
    """Add a staff account; the password is stored only as an Argon2 hash."""
    email = email.strip().lower()
    if "@" not in email or len(email) > 320:
        raise Invalid(
            "invalid_email", _l("Not an e-mail address: {email}", email=email), field="email"
        )
    if role not in {r.value for r in Role}:
        raise Invalid("unknown_role", _l("Unknown role: {role}", role=role), field="role")
    check_new_password(password)
    if staff_repo.email_taken(session, email):
        raise Conflict("staff_exists", _l("{email} already has an account.", email=email))
    staff = Staff(
        email=email,
        name=name.strip(),
        role=role,
        password_hash=hash_password(password),
        created_at=now,
    )
    session.add(staff)
    session.flush()
    return staff


def end_sessions(staff: Staff, *, now: datetime) -> None:
    """End every token issued to ``staff`` so far: its security version goes up, and a token
    carrying an older one is refused (:func:`consult119.auth.deps.authenticate_token`).

    A version, not a time: ``iat`` has whole-second resolution and process clocks differ, so a
    time would either let a token from the same second as the change live or refuse one issued
    just after it; a counter compares exactly, whatever the clocks say."""
    staff.security_version = (staff.security_version or 0) + 1
    staff.security_changed_at = now


def set_presence(session: Session, staff: Staff, presence: str, *, now: datetime) -> bool:
    """Record presence from the console or the API; appends ``presence.changed`` when it moves."""

    if presence not in {p.value for p in Presence}:
        raise Invalid(
            "unknown_presence",
            _l("Unknown presence status: {presence}", presence=presence),
            field="status",
        )
    if staff.presence == presence:
        return False
    old = staff.presence
    staff.presence = presence
    staff.presence_at = now
    session.add(staff)
    events.append(
        session,
        "presence.changed",
        actor_id=staff.id,
        at=now,
        data={"staff_id": staff.id, "from": old, "to": presence},
    )
    return True


def disable_staff(session: Session, staff: Staff, *, now: datetime) -> bool:
    """Disable an account: its tokens stop working at the next request (every request reads
    the account), ``staff.disabled`` closes its open consoles on every process, and the
    scheduler hands its open cases over. Returns False if already so."""

    if staff.disabled:
        return False
    staff.disabled = True
    end_sessions(staff, now=now)
    staff.presence = "offline"
    staff.presence_at = now
    session.add(staff)
    events.append(
        session,
        "staff.disabled",
        actor_id=None,
        at=now,
        data={"staff_id": staff.id},
    )
    return True


def change_role(session: Session, staff: Staff, role: str, *, now: datetime) -> bool:
    """Give an account another role. Tokens issued for the old role stop working at the next
    request, and ``staff.role_changed`` closes its open consoles on every process (a console's
    payloads are shaped by role). Returns False when the role is unchanged."""

    if role not in {r.value for r in Role}:
        raise Invalid("unknown_role", _l("Unknown role: {role}", role=role), field="role")
    if staff.role == role:
        return False
    old = staff.role
    staff.role = role
    end_sessions(staff, now=now)
    session.add(staff)
    events.append(
        session,
        "staff.role_changed",
        actor_id=None,
        at=now,
        data={"staff_id": staff.id, "from": old, "to": role},
    )
    return True


MAX_SHIFT = 7 * 24 * 3600


def duty_event(session: Session, name: str, staff: Staff, *, on_duty: bool, now: datetime) -> None:
    """Append ``duty.started`` or ``duty.ended`` for ``staff``: consoles keep their list of
    on-duty staff from these (docs/realtime.md)."""

    public = StaffPublic.json_of(staff, on_duty)
    events.append(
        session, name, actor_id=None, at=now, data={"staff_id": staff.id, "staff": public}
    )


def add_shift(
    session: Session,
    staff: Staff,
    *,
    starts_at: datetime,
    ends_at: datetime,
    now: datetime | None = None,
):
    """Add a shift in UTC; refuses a shift that ends before it starts, is over a week long, or
    overlaps another shift of the same person. A shift that covers ``now`` is announced at
    once (``duty.started``) instead of at the scheduler's next tick."""

    for name, label, value in (
        ("start", _l("start"), starts_at),
        ("end", _l("end"), ends_at),
    ):
        if value.tzinfo is None or value.utcoffset() is None:
            raise Invalid(
                "naive_time",
                _l("Give the shift's {field} time with a timezone (e.g. Z).", field=label),
                field=name,
            )
    if ends_at <= starts_at:
        raise Invalid(
            "shift_ends_before_start", _l("A shift must end after it starts."), field="end"
        )
    if (ends_at - starts_at).total_seconds() > MAX_SHIFT:
        raise Invalid("shift_too_long", _l("A shift may last at most 7 days."), field="end")
    if staff.disabled:
        raise Conflict("account_disabled", _l("{email} is disabled.", email=staff.email))
    assert staff.id is not None
    if staff_repo.overlapping_shift(session, staff.id, starts_at, ends_at) is not None:
        raise Conflict(
            "shift_overlaps", _l("{email} already has a shift in that time.", email=staff.email)
        )
    shift = Shift(staff_id=staff.id, starts_at=starts_at, ends_at=ends_at)
    if now is not None and starts_at <= now < ends_at:
        shift.started_seen_at = now
        duty_event(session, "duty.started", staff, on_duty=True, now=now)
    session.add(shift)
    session.flush()
    return shift


@dataclass(frozen=True)
class CoverPeriod:
    """A period of the roster with fewer doctors on duty than wanted."""

    start: datetime
    end: datetime
    doctors_on_duty: int


def roster_gaps(
    session: Session, start: datetime, end: datetime, *, min_doctors: int = 1
) -> list[CoverPeriod]:
    """The periods in [start, end) with fewer than ``min_doctors`` active doctors on the roster
    (with the default 1: nobody at all), from one scan of the doctors' shifts in range. Adjacent
    periods with the same count are one period, across shifts and midnight alike."""
    changes: dict[datetime, int] = {}
    for starts_at, ends_at in staff_repo.doctor_shift_windows(session, start, end):
        lo, hi = max(starts_at, start), min(ends_at, end)
        changes[lo] = changes.get(lo, 0) + 1
        changes[hi] = changes.get(hi, 0) - 1
    points = sorted({start, end, *changes})
    periods: list[CoverPeriod] = []
    count = 0
    for at, following in zip(points, points[1:], strict=False):
        count += changes.get(at, 0)
        if count >= min_doctors or at >= end:
            continue
        last = periods[-1] if periods else None
        if last is not None and last.end == at and last.doctors_on_duty == count:
            periods[-1] = CoverPeriod(last.start, following, count)
        else:
            periods.append(CoverPeriod(at, following, count))
    return periods
