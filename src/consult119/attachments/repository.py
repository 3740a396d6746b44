"""Every query of the attachments domain."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from consult119.attachments.models import Attachment, AttachmentState
from consult119.channels.webchat.models import WebchatSession
from consult119.tickets.codes import Direction
from consult119.tickets.models import Message, Ticket


def add(session: Session, **values: Any) -> Attachment:
    """Insert one row (flushed, so it has its id)."""
    row = Attachment(**values)
    session.add(row)
    session.flush()
    return row


def get(session: Session, attachment_id: int) -> Attachment | None:
    return session.get(Attachment, attachment_id)


def get_with_ticket(session: Session, attachment_id: int) -> tuple[Attachment, int] | None:
    """The attachment of a message, with the message's ticket id (None: no such file on a
    message; an upload not yet sent is nobody's to read)."""
    row = session.execute(
        select(Attachment, Message.ticket_id)
        .join(Message, Message.id == Attachment.message_id)
        .where(Attachment.id == attachment_id)
    ).first()
    return None if row is None else (row[0], row[1])


def of_messages(session: Session, message_ids: Iterable[int]) -> dict[int, list[Attachment]]:
    """The attachments of each message, in one query, in the order they came."""
    ids = list(message_ids)
    out: dict[int, list[Attachment]] = {}
    if not ids:
        return out
    for row in session.scalars(
        select(Attachment).where(Attachment.message_id.in_(ids)).order_by(Attachment.id)
    ):
        out.setdefault(row.message_id, []).append(row)  # type: ignore[arg-type]
    return out


def uploads_of_session(
    session: Session, webchat_session_id: int, ids: list[int]
) -> list[Attachment]:
    """Those of ``ids`` this web-chat session uploaded and has not sent yet (locked)."""
    return list(
        session.scalars(
            select(Attachment)
            .where(
                Attachment.id.in_(ids),
                Attachment.webchat_session_id == webchat_session_id,
                Attachment.message_id.is_(None),
            )
            .order_by(Attachment.id)
            .with_for_update()
        )
    )


def uploads_of_staff(session: Session, staff_id: int, ids: list[int]) -> list[Attachment]:
    """Those of ``ids`` this staff member uploaded and has not sent yet (locked)."""
    return list(
        session.scalars(
            select(Attachment)
            .where(
                Attachment.id.in_(ids),
                Attachment.uploaded_by == staff_id,
                Attachment.message_id.is_(None),
            )
            .order_by(Attachment.id)
            .with_for_update()
        )
    )


def get_for_contact(session: Session, attachment_id: int, contact_id: int) -> Attachment | None:
    """The file, if it is on a message of a case of ``contact_id`` that is not internal."""
    return session.scalars(
        select(Attachment)
        .join(Message, Message.id == Attachment.message_id)
        .join(Ticket, Ticket.id == Message.ticket_id)
        .where(
            Attachment.id == attachment_id,
            Ticket.contact_id == contact_id,
            Message.direction != Direction.INTERNAL.value,
        )
    ).first()


def attach_to_message(session: Session, ids: list[int], message_id: int) -> None:
    session.execute(
        update(Attachment)
        .where(Attachment.id.in_(ids), Attachment.message_id.is_(None))
        .values(message_id=message_id)
        .execution_options(synchronize_session="fetch")
    )


def mark(session: Session, attachment_id: int, **values: Any) -> None:
    """Set a downloaded (or given-up) file's columns."""
    session.execute(update(Attachment).where(Attachment.id == attachment_id).values(**values))


def hashes_in_use(session: Session, hashes: Iterable[str]) -> set[str]:
    """Which of ``hashes`` some row still names."""
    wanted = list(hashes)
    if not wanted:
        return set()
    return set(
        session.scalars(select(Attachment.sha256).where(Attachment.sha256.in_(wanted)).distinct())
    )


def _due(now: datetime) -> list[Any]:
    return [
        Attachment.state == AttachmentState.PENDING.value,
        Attachment.next_attempt_at <= now,
    ]


def any_download_due(session: Session, *, now: datetime) -> bool:
    """Whether a pending file is due a try (the idle poll's one indexed read)."""
    return session.scalar(select(Attachment.id).where(*_due(now)).limit(1)) is not None


def claim_downloads(
    session: Session, *, now: datetime, lease_until: datetime, limit: int
) -> list[Attachment]:
    """Pending files due a try, taken for this process until ``lease_until`` in one
    ``UPDATE … RETURNING`` (the ids picked in its subquery; PostgreSQL skips rows another
    process is claiming): another process skips them meanwhile."""
    pick = (
        select(Attachment.id)
        .where(*_due(now))
        .order_by(Attachment.next_attempt_at, Attachment.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    return sorted(
        session.scalars(
            update(Attachment)
            .where(Attachment.id.in_(pick.scalar_subquery()), *_due(now))
            .values(next_attempt_at=lease_until, attempts=Attachment.attempts + 1)
            .returning(Attachment)
            .execution_options(synchronize_session=False)
        ),
        key=lambda a: a.id or 0,
    )


def ticket_of_message(session: Session, message_id: int) -> int | None:
    return session.scalar(select(Message.ticket_id).where(Message.id == message_id))


def delete_unsent(session: Session, *, now: datetime, created_before: datetime) -> set[str]:
    """Delete uploads no message took whose web-chat session has ended (expired or revoked), or
    that are older than ``created_before``; the hashes of their files (to remove after the
    commit)."""
    ended = select(WebchatSession.id).where(
        or_(WebchatSession.expires_at <= now, WebchatSession.revoked_at.is_not(None))
    )
    gone = session.execute(
        delete(Attachment)
        .where(
            Attachment.message_id.is_(None),
            or_(Attachment.created_at < created_before, Attachment.webchat_session_id.in_(ended)),
        )
        .returning(Attachment.sha256)
        .execution_options(synchronize_session=False)
    )
    return {sha for sha in gone.scalars() if sha is not None}
