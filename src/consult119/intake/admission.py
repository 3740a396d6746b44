"""Per-sender rate limits on intake that a redelivery never pays for.

A channel redelivers what it thinks was lost (LINE after a non-2xx, Kakao after its 5 s, a
gateway after a timeout). Redeliveries are harmless to the data (the intake dedupes them), so
they must be harmless to the limit too: a message already stored is let in without a token (it
answers as a duplicate), and a token taken by something that turned out to be a duplicate is
given back. The database is read only for a sender whose bucket is empty.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool

from consult119.context import AppContext
from consult119.intake.service import InboundMessage, IntakeResult
from consult119.ratelimit import too_many
from consult119.tickets import repository as repo


@dataclass(frozen=True)
class Admission:
    """A message let in: by a token of ``key``'s bucket, or (``token`` False) as a redelivery."""

    key: str
    token: bool


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
            out.append(Admission(key, token=True))
        else:
            out.append(None)
            refused.append(i)
    if refused:
        stored = await run_in_threadpool(_stored, ctx, [inbounds[i] for i in refused])
        for i, was_stored in zip(refused, stored, strict=True):
            if was_stored:
                out[i] = Admission(limiter_key(inbounds[i]), token=False)
    return out


async def admit(ctx: AppContext, inbound: InboundMessage) -> Admission:
    """Let one message in, or raise ``429 rate_limited``."""
    [admission] = await admit_all(ctx, [inbound])
    if admission is None:
        raise too_many()
    return admission


def settle(ctx: AppContext, admission: Admission, result: IntakeResult) -> None:
    """After the intake: a duplicate gives back the token it took."""
    if admission.token and result.duplicate:
        ctx.limiter.refund(admission.key)
