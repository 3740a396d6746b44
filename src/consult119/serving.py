"""The HTTP server's own limits, which uvicorn leaves open (docs/security.md, "Input limits").

uvicorn arms no timer on a fresh connection, and cancels its keep-alive timer as soon as any
byte arrives: a client that sends half a request line and then one byte a minute holds a
connection (and its memory) for ever, and enough of them exhaust the process. Its httptools
parser also takes headers of any size. :func:`guarded_http_protocol` returns uvicorn's
httptools protocol with both bounded:

- the request line and headers must be complete within ``header_timeout`` seconds of the
  connection opening (or of the previous response ending), else the connection is closed;
- together they may hold ``max_header_bytes``, else ``431`` and the connection is closed.

This guards the socket before any ASGI code runs; a proxy in front should still set its own
limits (docs/operations.md).

:func:`run_server` is the one way the process serves (``consult119 serve`` and ``consult119
demo``): the schema upgraded first, the server lock held, uvicorn started with these limits.
This module builds the web app, so the CLI imports it only for the commands that serve.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from consult119.backup import server_lock
from consult119.config import WS_IMPLEMENTATIONS, Settings
from consult119.db import build_engine
from consult119.i18n import DEFAULT_LOCALE, use_locale
from consult119.logs import logging_config
from consult119.main import create_app
from consult119.migrate import upgrade


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a header deadline and a header size limit."""

    header_timeout: float = 10.0
    max_header_bytes: int = 65536

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None
        self._header_bytes = 0
        self._headers_too_large = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._header_bytes = 0
        if self._header_timer is None:  # a pipelined request: its own deadline
            self._arm_header_timer()

    def on_url(self, url: bytes) -> None:
        self._count_header_bytes(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count_header_bytes(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._cancel_header_timer()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_header_timer()  # the next request's headers are due in time too

    def send_400_response(self, msg: str) -> None:
        if not self._headers_too_large:
            super().send_400_response(msg)
            return
        # The parser stopped at our refusal (a callback error): answer what it really was.
        body = b"Request header fields too large"
        self.transport.write(
            b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
            b"content-type: text/plain; charset=utf-8\r\n"
            b"content-length: " + str(len(body)).encode() + b"\r\n"
            b"connection: close\r\n\r\n" + body
        )
        self.transport.close()

    def _count_header_bytes(self, n: int) -> None:
        self._header_bytes += n
        if self._header_bytes > self.max_header_bytes:
            self._headers_too_large = True
            raise ValueError("request headers too large")  # stops the parser (see above)

    def _arm_header_timer(self) -> None:
        self._cancel_header_timer()
        self._header_timer = self.loop.call_later(self.header_timeout, self._headers_overdue)

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_overdue(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            self.transport.close()


def guarded_http_protocol(*, header_timeout: float, max_header_bytes: int) -> type:
    """A :class:`GuardedHttpToolsProtocol` with these limits, for ``uvicorn.run(http=...)``."""
    return type(
        "GuardedHttpToolsProtocol",
        (GuardedHttpToolsProtocol,),
        {"header_timeout": header_timeout, "max_header_bytes": max_header_bytes},
    )


def forwarded_settings(trusted_proxies: str) -> dict[str, Any]:
    """uvicorn's proxy-header settings: believe ``X-Forwarded-For`` only from the listed
    proxies, and from none (uvicorn's default is 127.0.0.1) when the list is empty."""
    proxies = [p.strip() for p in trusted_proxies.split(",") if p.strip()]
    if not proxies:
        return {"proxy_headers": False, "forwarded_allow_ips": ""}
    return {"proxy_headers": True, "forwarded_allow_ips": proxies}


def run_server(
    settings: Settings,
    *,
    host: str,
    port: int,
    log_level: str = "info",
    ws: str = WS_IMPLEMENTATIONS[0],
    log_format: str = "text",
) -> None:
    """Upgrade the schema, then serve until stopped (``serve`` and ``demo`` share this).

    On SQLite the process holds the database's server lock while it runs, so ``restore``
    cannot replace the file under it (``consult119.backup``)."""
    if log_format == "json":
        log_options: dict = {"log_config": logging_config("json", log_level), "access_log": False}
    else:
        logging.basicConfig(level=log_level.upper())
        logging.getLogger("consult119.access").setLevel(logging.WARNING)  # uvicorn's line stays
        log_options = {}
    waiting = logging.getLogger("consult119.serve")
    with contextlib.ExitStack() as held:
        held.enter_context(
            server_lock(settings, wait_message=lambda: waiting.warning("waiting for a restore"))
        )
        engine = build_engine(settings)
        upgrade(engine)
        engine.dispose()
        # The server speaks to travellers and staff, not to this terminal: its default is Korean.
        held.enter_context(use_locale(DEFAULT_LOCALE))
        uvicorn.run(
            create_app(settings),
            host=host,
            port=port,
            log_level=log_level,
            ws=ws,
            ws_ping_interval=20,
            ws_ping_timeout=20,
            # Console frames are small JSON; per-connection deflate state would cost more memory
            # than a thousand idle consoles need, and no client frame is anywhere near 1 MiB.
            ws_per_message_deflate=False,
            ws_max_size=1024 * 1024,
            # Limits uvicorn leaves open (docs/security.md, "Input limits"): a deadline and a
            # size for the request headers, idle keep-alive, connections at once, and
            # X-Forwarded-For believed only from the proxies configured.
            http=guarded_http_protocol(
                header_timeout=settings.header_timeout_seconds,
                max_header_bytes=settings.max_header_bytes,
            ),
            timeout_keep_alive=settings.keep_alive_seconds,
            limit_concurrency=settings.max_connections,
            **forwarded_settings(settings.trusted_proxies),
            **log_options,
        )
