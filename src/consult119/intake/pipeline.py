"""The one way a message comes in: :func:`take` (and its batch and blocking forms).

Every channel adapter translates its request into an :class:`InboundMessage` and hands it here.
The pipeline owns the rest, in this order:

1. **admission**: the sender's rate limit, which a redelivery never pays for
   (:mod:`consult119.channels.edge.admission`; ``429 rate_limited`` when over it);
2. **the unit of work**: the intake (:meth:`IntakeService.receive`), then the acknowledgement
   (``ack``), then the adapter's ``then(session, result, now)``, all in one transaction queued
   for the group-commit writer (:mod:`consult119.groupcommit`), which appends the events at
   commit; ``then`` and the work may run twice on a retried batch, so they only write;
3. **after the commit**: a duplicate's token given back, the outcome and latency counted.

The acknowledgement is one of :class:`Ack`: none; the expected wait read in the intake's own
transaction for an adapter that answers at once (chat gateway, Kakao); or an acknowledgement
message queued in the outbox for a push channel (LINE, e-mail), stored exactly when the case is
and never sent twice.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session

from consult119.channels.edge.admission import Admission, admit, admit_all, settle
from consult119.context import AppContext
from consult119.groupcommit import Work
from consult119.intake.ack import WaitEstimate, acknowledgement, wait_for
from consult119.intake.service import InboundMessage, IntakeResult
from consult119.metrics import count_intake, intake_outcome
from consult119.outbound.service import enqueue
from consult119.tickets import repository as ticket_repo
from consult119.tickets.events import message_event
from consult119.tickets.models import Message

T = TypeVar("T")


class Ack(Enum):
    """What acknowledges a message that opened a case."""

    #: Nothing (staff logging a call, a socket that answers with its own frame).
    NONE = "none"
    #: The expected wait, read in the intake's transaction, for the adapter's own answer.
    WAIT = "wait"
    #: An acknowledgement message queued in the outbox in the same transaction.
    QUEUED = "queued"


#: Decides, once a case is opened, whether its queued acknowledgement may go out: None to send
#: it, else the code of why not (stored on the inbound message as ``meta["ack_withheld"]``).
AckGate = Callable[[IntakeResult], str | None]
#: What an adapter adds to the unit of work after the intake: ``then(session, result, now)``.
Then = Callable[[Session, IntakeResult, datetime], T]


@dataclass(frozen=True)
class Taken(Generic[T]):
    """A message taken and committed."""

    result: IntakeResult
    #: The expected wait (``Ack.WAIT`` only, and only when the message opened the case).
    wait: WaitEstimate | None = None
    #: What ``then`` returned.
    then: T | None = None


def work(
    ctx: AppContext,
    inbound: InboundMessage,
    *,
    ack: Ack = Ack.NONE,
    gate: AckGate | None = None,
    then: Then[T] | None = None,
) -> Work[Taken[T]]:
    """The unit of work of one intake, stamped with the time it runs."""

    def unit(session: Session) -> Taken[T]:
        now = ctx.now()
        result = ctx.intake.receive(session, inbound, now=now)
        wait = None
        if ack is Ack.WAIT:
            wait = wait_for(session, result, now=now)
        elif ack is Ack.QUEUED:
            _queue_acknowledgement(session, inbound, result, gate, now)
        return Taken(result, wait, then(session, result, now) if then is not None else None)

    return unit


async def take(
    ctx: AppContext,
    inbound: InboundMessage,
    *,
    ack: Ack = Ack.NONE,
    gate: AckGate | None = None,
    then: Then[T] | None = None,
    limited: bool = True,
    counted: bool = True,
) -> Taken[T]:
    """Take one message: admitted (unless ``limited`` is False: staff logging a call),
    committed, settled. Awaits the commit without holding a thread."""
    admission = await admit(ctx, inbound) if limited else None
    started = time.perf_counter()
    taken = await ctx.db.writer.run_async(
        work(ctx, inbound, ack=ack, gate=gate, then=then), locks=inbound.locks
    )
    _after_commit(ctx, admission, taken.result, started if counted else None)
    return taken


async def take_all(
    ctx: AppContext,
    inbounds: Sequence[InboundMessage],
    *,
    ack: Ack = Ack.NONE,
) -> list[Taken[Any] | None]:
    """Take a delivery of several messages, each admitted by its own sender's limit and queued
    for the writer at once (so they share a commit); ``None`` for one over its limit."""
    admissions = await admit_all(ctx, inbounds)
    futures = {
        i: asyncio.wrap_future(ctx.db.writer.submit(work(ctx, m, ack=ack), locks=m.locks))
        for i, (m, a) in enumerate(zip(inbounds, admissions, strict=True))
        if a is not None
    }
    out: list[Taken[Any] | None] = [None] * len(inbounds)
    for i, future in futures.items():
        taken = await future
        _after_commit(ctx, admissions[i], taken.result, None)
        out[i] = taken
    return out


def take_blocking(
    ctx: AppContext,
    inbound: InboundMessage,
    *,
    ack: Ack = Ack.NONE,
    gate: AckGate | None = None,
    then: Then[T] | None = None,
) -> Taken[T]:
    """:func:`take` for code in a worker thread (the e-mail intake, the SMTP listener): no
    per-sender admission (mail answers a flood by withholding acknowledgements), the outcome
    counted after the commit."""
    started = time.perf_counter()
    taken = ctx.db.writer.run(
        work(ctx, inbound, ack=ack, gate=gate, then=then), locks=inbound.locks
    )
    _after_commit(ctx, None, taken.result, started)
    return taken


def _after_commit(
    ctx: AppContext, admission: Admission | None, result: IntakeResult, started: float | None
) -> None:
    """A duplicate gives back its token and the outcome is counted (by the admission when there
    was one, else from ``started``; ``None``: not counted)."""
    if admission is not None:
        settle(ctx, admission, result)
    elif started is not None:
        count_intake(
            result.message.source,
            intake_outcome(result.created, result.duplicate),
            time.perf_counter() - started,
        )


def _queue_acknowledgement(
    session: Session,
    inbound: InboundMessage,
    result: IntakeResult,
    gate: AckGate | None,
    now: datetime,
) -> None:
    """When the message opened a case: its acknowledgement (with the expected wait, read in
    the same transaction) stored and queued in the outbox, unless ``gate`` withholds it."""
    if not result.created:
        return
    withheld = gate(result) if gate is not None else None
    if withheld is not None:
        _record_withheld(session, result.message, withheld)
        return
    wait = wait_for(session, result, now=now)
    message = ticket_repo.add_message(
        session,
        result.ticket,
        text=acknowledgement(result, inbound.locale or result.contact.locale, wait=wait),
        now=now,
        meta={"auto_reply": True, "kind": "acknowledgement"},
    )
    enqueue(session, result.ticket, message, now=now)
    message_event(session, message, result.ticket, at=now)


def _record_withheld(session: Session, message: Message, reason: str) -> None:
    """Mark the inbound message so staff see that no acknowledgement went out, and why."""
    meta = dict(message.meta or {})
    if meta.get("ack_withheld") == reason:
        return  # known before the intake (an unusable From): already stored with the message
    meta["ack_withheld"] = reason
    ticket_repo.set_message_meta(session, message, meta)
