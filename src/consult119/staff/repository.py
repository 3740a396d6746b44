"""Queries about staff and shifts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from consult119.staff.models import Shift, Staff


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
