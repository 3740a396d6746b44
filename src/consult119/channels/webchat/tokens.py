"""Web-chat session tokens: random and opaque; the server keeps only their SHA-256.

A token's row (``webchat_sessions``, :mod:`consult119.channels.webchat.repository`) holds the
session id (the traveller's web-chat identity) and what they told us. Staff may revoke a case's
sessions: a revoked or expired token is refused.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from consult119.channels.webchat import repository as webchat_repo
from consult119.channels.webchat.models import WebchatSession

SOURCE = "webchat"


#: Prefix of a web-chat token; the rest is 32 random bytes. Nothing else is in it.
TOKEN_PREFIX = "wct_"
MAX_TOKEN_CHARS = 200


def token_hash(token: str) -> str:
    """What the database keeps of a token: its SHA-256 (the token itself is never stored)."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue_session(session: Session, claims: dict[str, Any], *, now: datetime, ttl: int) -> str:
    """A new opaque token for ``claims`` (which hold ``sid``), valid ``ttl`` seconds.

    Sessions expired for a day or more are deleted here: they hold what travellers told us,
    and nothing reads them any more.
    """
    webchat_repo.delete_sessions_expired_before(session, now - timedelta(days=1))
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(
        WebchatSession(
            token_hash=token_hash(token),
            sid=claims["sid"],
            claims=claims,
            created_at=now,
            expires_at=now + timedelta(seconds=ttl),
        )
    )
    return token


def session_row(session: Session, digest: str, now: datetime) -> WebchatSession | None:
    """The session of a token hash while it is unexpired and unrevoked."""
    row = webchat_repo.session_by_hash(session, digest)
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    return row


def read_session(session: Session, token: object, *, now: datetime) -> dict[str, Any] | None:
    """The claims of a known, unexpired, unrevoked token, else None."""
    if not isinstance(token, str) or not token.startswith(TOKEN_PREFIX):
        return None
    if len(token) > MAX_TOKEN_CHARS:
        return None
    row = session_row(session, token_hash(token), now)
    return None if row is None else dict(row.claims)


def revoke_contact_sessions(
    session: Session, contact_id: int, *, now: datetime, by: int | None
) -> tuple[list[str], int]:
    """Revoke every live web-chat session of a contact: its session ids (``sid``) and how many
    sessions were revoked now."""
    sids = webchat_repo.identity_ids_of_contact(session, contact_id, SOURCE)
    if not sids:
        return [], 0
    return sids, webchat_repo.revoke_sessions(session, sids, now=now, by=by)
