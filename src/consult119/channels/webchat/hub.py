"""The web-chat hub: wakes this process's chat sockets when a commit added an outbound message
or changed a case (its status or record: the sockets tell the page), and knows their sockets by session id so a revocation closes them at once."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from consult119.context import AppContext

if TYPE_CHECKING:
    from consult119.channels.webchat.socket import ChatSocket

#: Close code of a socket whose session is unknown, expired or revoked.
CLOSE_SESSION = 4401
#: Events after which the sockets look at their case again (the ``case`` frame).
CASE_EVENTS = frozenset({"ticket.status_changed", "ticket.updated", "ticket.merged"})


class WebchatHub:
    """Wakes the sockets of this process when a commit added an outbound message."""

    def __init__(self, ctx: AppContext, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.wakers: set[asyncio.Event] = set()
        #: Open sockets by session id, so a revocation in this process closes them at once.
        self.sockets: dict[str, set[ChatSocket]] = {}
        ctx.db.add_commit_hook(self._on_commit)

    async def end_sessions(self, sids: list[str]) -> int:
        """Close this process's sockets of ``sids`` (4401); how many were open. Sockets held by
        other processes find out at their next frame or reply (``ChatSocket.session_live``)."""
        sockets = [s for sid in sids for s in self.sockets.get(sid, ())]
        for socket in sockets:
            with contextlib.suppress(Exception):
                await socket.ws.close(code=CLOSE_SESSION, reason="session ended")
        return len(sockets)

    def _on_commit(self, committed: list[dict[str, Any]]) -> None:
        if any(
            e["name"] in CASE_EVENTS
            or (
                e["name"] == "message.created"
                and e["data"].get("message", {}).get("direction") == "outbound"
            )
            for e in committed
        ):
            # After shutdown the loop is closed: a commit must never fail for a missed wake-up.
            with contextlib.suppress(RuntimeError):
                self.loop.call_soon_threadsafe(self._wake_all)

    def _wake_all(self) -> None:
        for waker in self.wakers:
            waker.set()


def hub_of(ctx: AppContext) -> WebchatHub:
    if ctx.webchat_hub is None:
        ctx.webchat_hub = WebchatHub(ctx, asyncio.get_running_loop())
    return ctx.webchat_hub
