"""Staff accounts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from consult119.auth.security import hash_password
from consult119.errors import Conflict, Invalid
from consult119.staff.models import Role, Staff


def create_staff(
    session: Session, *, email: str, name: str, role: str, password: str, now: datetime
) -> Staff:
    """Add a staff account; the password is stored only as an Argon2 hash."""
    email = email.strip().lower()
    if "@" not in email or len(email) > 320:
        raise Invalid("invalid_email", f"Not an e-mail address: {email!r}", field="email")
    if role not in {r.value for r in Role}:
        raise Invalid("unknown_role", f"Unknown role {role!r}", field="role")
    if len(password) < 8:
        raise Invalid("weak_password", "A password needs at least 8 characters.", field="password")
    if session.scalars(select(Staff.id).where(func.lower(Staff.email) == email)).first():
        raise Conflict("staff_exists", f"{email} already has an account.")
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


def set_presence(session: Session, staff: Staff, presence: str, *, now: datetime) -> bool:
    """Record presence from the console or the API; appends ``presence.changed`` when it moves."""
    from consult119.realtime import events
    from consult119.staff.models import Presence

    if presence not in {p.value for p in Presence}:
        raise Invalid("unknown_presence", f"Unknown presence {presence!r}", field="status")
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
