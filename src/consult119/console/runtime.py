"""The console's moving parts in one process: hub, relay and presence timers.

``main.py`` enters :func:`console_lifespan` in the app's lifespan; it registers the commit hook
that wakes the relay and stores the runtime in ``ctx.extras["console"]`` (the hub also in
``ctx.extras["hub"]``).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from consult119.console.presence import PresenceKeeper
from consult119.console.settings import ConsoleSettings, get_console_settings
from consult119.context import AppContext
from consult119.realtime.hub import Hub
from consult119.realtime.relay import Relay


@dataclass
class ConsoleRuntime:
    ctx: AppContext
    settings: ConsoleSettings
    hub: Hub
    relay: Relay
    presence: PresenceKeeper


def libpq_url(url: str) -> str:
    """The database URL as libpq takes it (no SQLAlchemy driver suffix)."""
    return re.sub(r"^postgres(?:ql)?(?:\+\w+)?://", "postgresql://", url)


def get_runtime(ctx: AppContext) -> ConsoleRuntime | None:
    return ctx.extras.get("console")


@asynccontextmanager
async def console_lifespan(
    ctx: AppContext, settings: ConsoleSettings | None = None
) -> AsyncIterator[ConsoleRuntime]:
    """Run the hub and the relay for as long as the app runs."""
    settings = settings or get_console_settings()
    hub = Hub()
    listen_url = None if ctx.db.is_sqlite else libpq_url(ctx.settings.database_url)
    relay = Relay(
        ctx.db,
        hub,
        poll_interval=settings.relay_poll_interval,
        batch_size=settings.relay_batch_size,
        listen_url=listen_url,
    )
    runtime = ConsoleRuntime(
        ctx=ctx,
        settings=settings,
        hub=hub,
        relay=relay,
        presence=PresenceKeeper(ctx, hub, settings.presence_grace_seconds),
    )
    await relay.start()
    ctx.db.add_commit_hook(relay.on_commit)
    ctx.extras["console"] = runtime
    ctx.extras["hub"] = hub
    try:
        yield runtime
    finally:
        ctx.extras.pop("console", None)
        ctx.extras.pop("hub", None)
        await runtime.presence.stop()
        await relay.stop()
