"""Per-sender rate limits on intake that a redelivery never pays for.

A channel redelivers what it thinks was lost (LINE after a non-2xx, Kakao after its 5 s, a
gateway after a timeout). Redeliveries are harmless to the data (the intake dedupes them), so
they must be harmless to the limit too: a message already stored is let in without a token (it
answers as a duplicate), and a token taken by something that turned out to be a duplicate is
given back. The database is read only for a sender whose bucket is empty.

The intake's outcome (new, joined, duplicate; refused when over the limit) and its latency are
counted here, once the outcome is known (:mod:`consult119.metrics`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from starlette.concurrency import run_in_threadpool

from consult119.context import AppContext
from consult119.intake.service import InboundMessage, IntakeResult
from consult119.metrics import count_intake, intake_outcome
from consult119.ratelimit import too_many
from consult119.tickets import repository as repo


@dataclass(frozen=True)
class Admission:
    """A message let in: by a token of ``key``'s bucket, or (``token`` False) as a redelivery."""

    key: str
    token: bool
    source: str = ""
    #: When the message was let in (``time.perf_counter``): the intake latency starts here.
    started: float = field(default_factory=time.perf_counter)


def limiter_key(inbound: InboundMessage) -> str:
    """The bucket a message draws from: its sender on its channel."""
    return f"{inbound.source}:{inbound.sender_id}"


def _stored(ctx: AppContext, inbounds: Sequence[InboundMessage]) -> list[bool]:
    with ctx.db.read_session() as session:
        return [
            m.external_id is not None
            and repo.find_message_ref(session, m.source, m.external_id) is not None
            for m in inbounds
        ]


async def admit_all(ctx: AppContext, inbounds: Sequence[InboundMessage]) -> list[Admission | None]:
    """An admission per message, in order; ``None`` for one over its sender's limit that is
    not a redelivery of a stored message."""
    out: list[Admission | None] = []
    refused: list[int] = []
    for i, inbound in enumerate(inbounds):
        key = limiter_key(inbound)
        if ctx.limiter.take(key):
            out.append(Admission(key, token=True, source=inbound.source))
        else:
            out.append(None)
            refused.append(i)
    if refused:
        stored = await run_in_threadpool(_stored, ctx, [inbounds[i] for i in refused])
        for i, was_stored in zip(refused, stored, strict=True):
            if was_stored:
                out[i] = Admission(limiter_key(inbounds[i]), token=False, source=inbounds[i].source)
            else:
                count_intake(inbounds[i].source, "refused")
    return out


async def admit(ctx: AppContext, inbound: InboundMessage) -> Admission:
    """Let one message in, or raise ``429 rate_limited``."""
    [admission] = await admit_all(ctx, [inbound])
    if admission is None:
        raise too_many()
    return admission


def settle(ctx: AppContext, admission: Admission, result: IntakeResult) -> None:
    """After the intake (committed): a duplicate gives back the token it took; the outcome
    and the latency are counted."""
    if admission.token and result.duplicate:
        ctx.limiter.refund(admission.key)
    count_intake(
        admission.source or result.message.source,
        intake_outcome(result.created, result.duplicate),
        time.perf_counter() - admission.started,
    )
