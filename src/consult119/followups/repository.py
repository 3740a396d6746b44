"""Every query of follow-ups and handoff notes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from consult119.followups.models import Followup, HandoffNote

_followups = Followup.__table__  # type: ignore[attr-defined]


def add(session: Session, followup: Followup) -> Followup:
    session.add(followup)
    session.flush()
    return followup


def insert_once(session: Session, values: dict[str, Any]) -> Followup | None:
    """Insert unless the ``cause`` exists (``ON CONFLICT (cause) DO NOTHING``): the new row,
    or None when another event of the same call made it already."""
    dialect = session.get_bind().dialect.name
    ins = pg_insert(_followups) if dialect == "postgresql" else sqlite_insert(_followups)
    new_id = session.scalar(
        ins.values(**values)
        .on_conflict_do_nothing(index_elements=["cause"])
        .returning(_followups.c.id)
    )
    return None if new_id is None else session.get(Followup, new_id)


def get(session: Session, followup_id: int, *, for_update: bool = False) -> Followup | None:
    stmt = select(Followup).where(Followup.id == followup_id)
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()


def of_ticket(session: Session, ticket_id: int) -> list[Followup]:
    return list(
        session.scalars(
            select(Followup)
            .where(Followup.ticket_id == ticket_id)
            .order_by(Followup.due_at, Followup.id)  # type: ignore[arg-type]
        )
    )


def due_ids(session: Session, now: datetime, *, limit: int = 500) -> list[int]:
    """Open follow-ups due at ``now`` not yet alerted, oldest first (the scheduler's scan)."""
    return list(
        session.scalars(
            select(Followup.id)
            .where(
                Followup.alerted_at.is_(None),  # type: ignore[union-attr]
                Followup.done_at.is_(None),  # type: ignore[union-attr]
                Followup.due_at <= now,
            )
            .order_by(Followup.due_at)  # type: ignore[arg-type]
            .limit(limit)
        )
    )


def add_handoff(session: Session, note: HandoffNote) -> HandoffNote:
    session.add(note)
    session.flush()
    return note


def latest_handoff(session: Session, ticket_id: int) -> HandoffNote | None:
    return session.scalars(
        select(HandoffNote)
        .where(HandoffNote.ticket_id == ticket_id)
        .order_by(HandoffNote.id.desc())  # type: ignore[union-attr]
        .limit(1)
    ).first()
