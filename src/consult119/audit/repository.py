"""Queries of the access log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from consult119.audit.models import AuditEntry


def list_entries(
    session: Session,
    *,
    staff_id: int | None = None,
    ticket_id: int | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[AuditEntry], int]:
    """Newest first, with the total matching."""
    conds = []
    if staff_id is not None:
        conds.append(AuditEntry.staff_id == staff_id)
    if ticket_id is not None:
        conds.append(AuditEntry.ticket_id == ticket_id)
    if action is not None:
        conds.append(AuditEntry.action == action)
    if since is not None:
        conds.append(AuditEntry.at >= since)
    if until is not None:
        conds.append(AuditEntry.at < until)
    total = session.scalar(select(func.count()).select_from(AuditEntry).where(*conds)) or 0
    rows = session.scalars(
        select(AuditEntry)
        .where(*conds)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return list(rows), total
