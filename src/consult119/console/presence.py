"""Presence from the console: what a doctor sets, and offline after their last console closes.

Auto-assignment reads ``staff.presence``; a doctor whose browser crashed must not keep
receiving cases. When the last console of a staff member on this process closes, a timer of
``presence_grace_seconds`` starts; a reconnect on this process cancels it. A reconnect on
*another* process is seen through ``staff.presence_at``: each console that connects while its
doctor is not offline stamps it, and the timer only sets offline when nothing stamped it since
the disconnect.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import Executor
from datetime import datetime

from consult119.context import AppContext
from consult119.realtime.hub import Hub
from consult119.staff import repository as staff_repo
from consult119.staff.models import Presence
from consult119.staff.service import set_presence

log = logging.getLogger(__name__)


def apply_presence(ctx: AppContext, staff_id: int, status: str) -> bool:
    """Set presence in its own unit of work (emits ``presence.changed`` when it moves)."""
    ctx.check_presence_rate(staff_id)
    with ctx.db.unit_of_work() as session:
        staff = staff_repo.get_staff(session, staff_id, for_update=True)
        if staff is None:
            return False
        return set_presence(session, staff, status, now=ctx.now())


def confirm_presence(ctx: AppContext, staff_id: int) -> None:
    """A console connected: stamp ``presence_at`` so no other process's grace timer fires."""
    with ctx.db.unit_of_work() as session:
        staff_repo.confirm_presence(session, staff_id, ctx.now())


def offline_if_gone(ctx: AppContext, staff_id: int, since: datetime) -> bool:
    """Set offline unless a console confirmed presence after ``since``."""
    with ctx.db.unit_of_work() as session:
        staff = staff_repo.get_staff(session, staff_id, for_update=True)
        if staff is None or staff.presence == Presence.OFFLINE.value:
            return False
        if staff.presence_at is not None and staff.presence_at > since:
            return False
        return set_presence(session, staff, Presence.OFFLINE.value, now=ctx.now())


class PresenceKeeper:
    """Grace timers for staff whose consoles closed on this process."""

    def __init__(
        self, ctx: AppContext, hub: Hub, grace_seconds: float, executor: Executor | None = None
    ) -> None:
        self.ctx = ctx
        self.hub = hub
        self.grace = grace_seconds
        self.executor = executor
        self._timers: dict[int, asyncio.Task[None]] = {}

    async def connected(self, staff_id: int, presence: str) -> None:
        """A console of ``staff_id`` (whose presence was ``presence`` at sign-in) is open."""
        timer = self._timers.pop(staff_id, None)
        if timer is not None:
            timer.cancel()
        if presence != Presence.OFFLINE.value:
            try:
                await self._run(confirm_presence, self.ctx, staff_id)
            except Exception as exc:  # noqa: BLE001 - the console works without the stamp
                log.warning("presence: confirming staff %s failed (%s)", staff_id, exc)

    def disconnected(self, staff_id: int) -> None:
        if self.hub.connections_of(staff_id) > 0 or staff_id in self._timers:
            return
        since = self.ctx.now()
        self._timers[staff_id] = asyncio.create_task(self._expire(staff_id, since))

    async def _expire(self, staff_id: int, since: datetime) -> None:
        try:
            await asyncio.sleep(self.grace)
        finally:
            if self._timers.get(staff_id) is asyncio.current_task():
                del self._timers[staff_id]
        if self.hub.connections_of(staff_id) > 0:
            return
        try:
            await self._run(offline_if_gone, self.ctx, staff_id, since)
        except Exception as exc:  # noqa: BLE001 - presence must not take the server down
            log.warning("presence: setting staff %s offline failed (%s)", staff_id, exc)

    async def _run(self, fn: Callable[..., object], *args: object) -> object:
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)

    async def stop(self) -> None:
        timers = list(self._timers.values())
        self._timers.clear()
        for timer in timers:
            timer.cancel()
        await asyncio.gather(*timers, return_exceptions=True)
