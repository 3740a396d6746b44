"""Every query of the canned replies. The service calls these; routes never query directly."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from consult119.replies.models import CannedReply
from consult119.tickets.models import Contact, Ticket


class KeyTaken(Exception):
    """The unique (key, language) refused a write: another transaction took the key between
    the service's check and this write (PostgreSQL; SQLite has one writer at a time)."""


def list_replies(
    session: Session, *, include_inactive: bool = False, first_language: str | None = None
) -> list[CannedReply]:
    """Replies by language (``first_language`` first, else Korean first), then position."""
    conds = [] if include_inactive else [CannedReply.active.is_(True)]  # type: ignore[attr-defined]
    first = first_language or "ko"
    return list(
        session.scalars(
            select(CannedReply)
            .where(*conds)
            .order_by(
                case((CannedReply.language == first, 0), else_=1),
                CannedReply.language,
                CannedReply.position,
                CannedReply.key,
                CannedReply.id,
            )
        )
    )


def count_replies(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(CannedReply)) or 0


def get_reply(session: Session, reply_id: int) -> CannedReply | None:
    return session.get(CannedReply, reply_id)


def reload_reply(session: Session, reply: CannedReply) -> CannedReply | None:
    """The reply as the database holds it now (None when it was deleted meanwhile)."""
    return session.scalars(
        select(CannedReply)
        .where(CannedReply.id == reply.id)
        .execution_options(populate_existing=True)
    ).one_or_none()


def key_taken(session: Session, key: str, language: str, *, other_than: int | None = None) -> bool:
    """Whether another reply already has ``key`` in ``language``."""
    conds = [CannedReply.key == key, CannedReply.language == language]
    if other_than is not None:
        conds.append(CannedReply.id != other_than)
    return session.scalar(select(CannedReply.id).where(*conds).limit(1)) is not None


def add_reply(session: Session, reply: CannedReply) -> CannedReply:
    """Insert ``reply`` (in a savepoint: a refusal leaves the transaction usable); raises
    :class:`KeyTaken` when its key is taken in its language."""
    try:
        with session.begin_nested():
            session.add(reply)
            session.flush()
    except IntegrityError:
        raise KeyTaken from None
    return reply


def bump_version(session: Session, reply: CannedReply, now: datetime, **values: object) -> bool:
    """Conditional update on ``version``: True when this writer won, False when someone else
    saved the reply first (or deleted it); :class:`KeyTaken` as for :func:`add_reply`."""
    try:
        with session.begin_nested():
            result = session.execute(
                update(CannedReply)
                .where(CannedReply.id == reply.id, CannedReply.version == reply.version)
                .values(version=CannedReply.version + 1, updated_at=now, **values)
                .execution_options(synchronize_session=False)
            )
    except IntegrityError:
        raise KeyTaken from None
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    session.refresh(reply)
    return True


def delete_reply(session: Session, reply: CannedReply) -> None:
    session.execute(delete(CannedReply).where(CannedReply.id == reply.id))


def case_context(session: Session, ticket_id: int) -> tuple[Ticket, Contact | None] | None:
    """The case a reply is rendered for, with its contact (for the country and locale the
    case itself may not record)."""
    row = session.execute(
        select(Ticket, Contact)
        .outerjoin(Contact, Contact.id == Ticket.contact_id)
        .where(Ticket.id == ticket_id)
    ).first()
    return (row[0], row[1]) if row else None
