"""The console's moving parts in one process: hub, relay and presence timers.

``main.py`` enters :func:`console_lifespan` in the app's lifespan; it registers the commit hook
that wakes the relay and stores the runtime in ``ctx.console`` (the hub also in
``ctx.hub``).
"""

from __future__ import annotations

import asyncio
import gc
import re
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from consult119.config import ConsoleSettings
from consult119.console.presence import PresenceKeeper
from consult119.context import AppContext
from consult119.realtime.hub import Hub
from consult119.realtime.relay import Relay

T = TypeVar("T")

#: gc thresholds for a server process (CPython's defaults are 700, 10, 10).
GC_THRESHOLDS = (10_000, 10, 100)


@dataclass
class ConsoleRuntime:
    ctx: AppContext
    settings: ConsoleSettings
    hub: Hub
    relay: Relay
    presence: PresenceKeeper
    #: Console database work (sign-in, snapshots, replays, presence) runs on a few threads of
    #: its own: a thousand consoles reconnecting at once neither start forty threads nor take
    #: the threads HTTP requests need.
    executor: ThreadPoolExecutor = field(default_factory=ThreadPoolExecutor)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` on a console worker thread."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)


def libpq_url(url: str) -> str:
    """The database URL as libpq takes it (no SQLAlchemy driver suffix)."""
    return re.sub(r"^postgres(?:ql)?(?:\+\w+)?://", "postgresql://", url)


def get_runtime(ctx: AppContext) -> ConsoleRuntime | None:
    return ctx.console


@asynccontextmanager
async def console_lifespan(
    ctx: AppContext, settings: ConsoleSettings | None = None
) -> AsyncIterator[ConsoleRuntime]:
    """Run the hub and the relay for as long as the app runs."""
    settings = settings or ctx.settings
    hub = Hub()
    listen_url = None if ctx.db.is_sqlite else libpq_url(ctx.settings.database_url)
    relay = Relay(
        ctx.db,
        hub,
        poll_interval=settings.relay_poll_interval,
        batch_size=settings.relay_batch_size,
        listen_url=listen_url,
    )
    executor = ThreadPoolExecutor(
        max_workers=settings.console_db_threads, thread_name_prefix="console"
    )
    runtime = ConsoleRuntime(
        ctx=ctx,
        settings=settings,
        hub=hub,
        relay=relay,
        presence=PresenceKeeper(ctx, hub, settings.presence_grace_seconds, executor),
        executor=executor,
    )
    await relay.start()
    ctx.db.add_commit_hook(relay.on_commit)
    if settings.gc_tuning:
        # Everything start-up made (modules, the app, the ORM's registries: several hundred
        # thousand objects) lives as long as the process. Left in the collector's oldest
        # generation, each full collection walks all of it — 100-200 ms with the event loop
        # stopped, every console waiting. Frozen, full collections walk only what came later.
        gc.collect()
        gc.freeze()
        # And each connection's own objects (~150 per console) stay for hours: with the
        # default thresholds a full collection walked a thousand consoles' worth every few
        # seconds under load (80-160 ms each, bench/fanout.py). Young collections still run
        # often; full ones become about a hundred times rarer.
        gc.set_threshold(*GC_THRESHOLDS)
    ctx.console = runtime
    ctx.hub = hub
    try:
        yield runtime
    finally:
        ctx.console = None
        ctx.hub = None
        await runtime.presence.stop()
        await relay.stop()
        executor.shutdown(wait=False, cancel_futures=True)
