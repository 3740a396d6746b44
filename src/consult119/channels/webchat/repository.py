"""The web-chat channel's queries: session rows by token hash, their expiry and revocation."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from consult119.channels.webchat.models import WebchatSession
from consult119.tickets.models import ContactIdentity


def delete_sessions_expired_before(session: Session, before: datetime) -> None:
    """Delete web-chat sessions that expired before ``before``."""
    session.execute(delete(WebchatSession).where(WebchatSession.expires_at < before))


def session_by_hash(session: Session, digest: str) -> WebchatSession | None:
    """The web-chat session of a token hash, expired or revoked or not."""
    return session.scalars(
        select(WebchatSession).where(WebchatSession.token_hash == digest)
    ).first()


def identity_ids_of_contact(session: Session, contact_id: int, source: str) -> list[str]:
    """The external ids of a contact's identities on ``source``."""
    return list(
        session.scalars(
            select(ContactIdentity.external_id).where(
                ContactIdentity.contact_id == contact_id, ContactIdentity.source == source
            )
        )
    )


def revoke_sessions(session: Session, sids: list[str], *, now: datetime, by: int | None) -> int:
    """Revoke the live sessions of ``sids``; how many were revoked now."""
    done = session.execute(
        update(WebchatSession)
        .where(WebchatSession.sid.in_(sids), WebchatSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_by=by)
    )
    return int(done.rowcount or 0)  # type: ignore[attr-defined]
