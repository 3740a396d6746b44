"""Outbox state: claiming items so no reply goes out twice, and recording what happened.

An item moves ``queued`` → ``sending`` (claimed, with a lease) → ``sent``, or back to ``queued``
with a later ``next_attempt_at`` after a temporary failure, or to ``failed``. The claim is one
conditional ``UPDATE … WHERE status IN ('queued', 'sending') AND next_attempt_at <= now`` (rows
picked with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL), so two processes never both win an item.
A process that dies while sending leaves a ``sending`` item whose lease runs out; it is claimed
again then. ``Message.delivery`` mirrors the state the staff see (queued, sent, failed), and each
change of it appends ``message.delivery_changed``; a staff reply given up raises
``delivery_failed`` and a delivery resolves its delivery alerts (:mod:`.watchdog`), in the same
transaction. A payload row (no message: the pager, SMS) records its outcome on the row alone:
no message changes, no event and no alert is appended for it.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from consult119.outbound import repository as repo
from consult119.outbound import watchdog
from consult119.realtime import events
from consult119.tickets.codes import Delivery

#: Sources whose replies are fetched by the traveller's side (web-chat socket, next Kakao skill
#: call) rather than pushed by the dispatcher.
PULL_SOURCES = frozenset({"webchat", "kakao"})


@dataclass(frozen=True)
class Claimed:
    """An outbox item this process has won, with the attempt number it is on (``message_id``
    None: a payload row; ``ticket_id`` None: about no case)."""

    item_id: int
    message_id: int | None
    ticket_id: int | None
    source: str
    attempts: int


def backoff(attempts: int, *, base: float, cap: float) -> timedelta:
    """Exponential backoff with full jitter on the upper half: base·2^(n-1), at most ``cap``."""
    delay = min(cap, base * (2 ** max(0, attempts - 1)))
    return timedelta(seconds=delay * (0.5 + random.random() / 2))


def claim_due(
    session: Session,
    *,
    now: datetime,
    lease: timedelta,
    sources: Sequence[str] | None,
    limit: int = 20,
) -> list[Claimed]:
    """Claim up to ``limit`` due items (of ``sources``, or any) for one attempt each."""
    return _claimed(repo.claim_due(session, now=now, lease=lease, sources=sources, limit=limit))


def claim_for_contact(
    session: Session, *, contact_id: int, source: str, now: datetime, lease: timedelta
) -> list[Claimed]:
    """Claim every undelivered reply to ``contact_id`` on ``source`` (a pull channel), now."""
    return _claimed(
        repo.claim_for_contact(session, contact_id=contact_id, source=source, now=now, lease=lease)
    )


def _claimed(rows: Sequence[Any]) -> list[Claimed]:
    # Replies in message order (a case's replies go out as written), payload rows after them.
    return sorted(
        (Claimed(*row) for row in rows),
        key=lambda c: (c.message_id is None, c.message_id or 0, c.item_id),
    )


def mark_sent(
    session: Session, claim: Claimed, *, now: datetime, external_ref: str | None = None
) -> bool:
    """Record a delivery. False when the claim was lost meanwhile (its lease ran out)."""
    values: dict = {"status": Delivery.SENT.value, "sent_at": now, "last_error": None}
    if external_ref is not None:
        values["external_ref"] = external_ref[:300]
    if not repo.settle_claim(session, claim.item_id, claim.attempts, **values):
        return False
    _set_delivery(session, claim, Delivery.SENT, now=now, sent=True)
    watchdog.on_sent(session, message_id=claim.message_id, now=now)
    return True


def mark_attempt_failed(
    session: Session,
    claim: Claimed,
    error: str,
    *,
    now: datetime,
    permanent: bool,
    max_attempts: int,
    base: float,
    cap: float,
    pushable: Collection[str] | None = None,
) -> str:
    """Record a failed attempt: retry later (``queued``) or give up (``failed``, which raises
    ``delivery_failed`` for a staff reply, its fallbacks among ``pushable`` sources)."""
    final = permanent or claim.attempts >= max_attempts
    status = Delivery.FAILED.value if final else Delivery.QUEUED.value
    next_at = now if final else now + backoff(claim.attempts, base=base, cap=cap)
    done = repo.settle_claim(
        session,
        claim.item_id,
        claim.attempts,
        status=status,
        last_error=error[:500],
        next_attempt_at=next_at,
    )
    if done and final:
        _failed(session, claim, error, now=now, pushable=pushable)
    return status


def release(session: Session, claims: Sequence[Claimed], *, now: datetime) -> None:
    """Hand claimed items back untouched (e.g. the socket closed before the push)."""
    for claim in claims:
        repo.settle_claim(
            session,
            claim.item_id,
            claim.attempts,
            status=Delivery.QUEUED.value,
            attempts=claim.attempts - 1,
            next_attempt_at=now,
        )


def _set_delivery(
    session: Session, claim: Claimed, delivery: Delivery, *, now: datetime, sent: bool
) -> None:
    if claim.message_id is None:
        return  # a payload row: its own status is the whole record
    repo.set_message_delivery(
        session, claim.message_id, delivery.value, sent_at=now if sent else None
    )
    events.append(
        session,
        "message.delivery_changed",
        ticket_id=claim.ticket_id,
        at=now,
        data={
            "message_id": claim.message_id,
            "ticket_id": claim.ticket_id,
            "delivery": delivery.value,
            "attempts": claim.attempts,
        },
    )


def _failed(
    session: Session,
    claim: Claimed,
    error: str,
    *,
    now: datetime,
    pushable: Collection[str] | None,
) -> None:
    """A reply given up: the message says so, and ``delivery_failed`` is raised."""
    _set_delivery(session, claim, Delivery.FAILED, now=now, sent=False)
    watchdog.on_failed(
        session,
        message_id=claim.message_id,
        ticket_id=claim.ticket_id,
        source=claim.source,
        error=error,
        now=now,
        pushable=pushable,
    )


def mark_bounced(
    session: Session,
    message_ids: dict[int, str],
    *,
    now: datetime,
    pushable: Collection[str] | None = None,
) -> list[int]:
    """Record that mail we sent came back: ``{message id: Message-ID}`` read from a bounce.

    Only messages whose stored Message-ID matches are touched, so a forged bounce naming a
    guessed id changes nothing. Returns the ids marked failed.
    """
    if not message_ids:
        return []
    failed = []
    for message_id, ticket_id, external_id, item_id, attempts in repo.bounce_candidates(
        session, list(message_ids)
    ):
        if external_id != message_ids[message_id]:
            continue
        repo.fail_item(session, item_id, "bounced")
        claim = Claimed(item_id, message_id, ticket_id, "smtp", attempts)
        _failed(session, claim, "bounced", now=now, pushable=pushable)
        failed.append(message_id)
    return failed
