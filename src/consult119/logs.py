"""Request ids and logs a machine can read (docs/operations.md, "Logs").

:class:`RequestIds` gives every HTTP request an id — the caller's ``X-Request-ID`` when it is a
sane one (1-128 of ``A-Z a-z 0-9 . _ : -``), else a new one — hands it back as the
``X-Request-ID`` response header, keeps it in a context variable for every log line written
while the request runs, and writes one access line per request on the ``consult119.access``
logger: method, the route's *template* (``/api/v1/tickets/{ticket_id}``, never the path with
its ids, nor the query string, which can hold a search for a name), status and duration.

``serve --log-format json`` formats every line (uvicorn's, the app's, the access lines) with
:class:`JsonFormatter`: one JSON object per line with ``time``, ``level``, ``logger``,
``message``, ``request_id``, ``route``, ``status`` and ``duration_ms``. What the app logs holds
no personal data and no secret by rule (error types and SQLSTATEs, not statements' values;
``hide_parameters`` on the engines); uvicorn's own access log, which prints the client address
and the raw path with its query, is turned off in that mode: the access line replaces it.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
#: The id of the request being served in this task or thread (None outside a request).
request_id_var: ContextVar[str | None] = ContextVar("consult119_request_id", default=None)

access_log = logging.getLogger("consult119.access")


def request_id_from(headers: list[tuple[bytes, bytes]]) -> str:
    """The caller's ``X-Request-ID`` if it is a sane one, else a new random id."""
    for name, value in headers:
        if name.lower() == b"x-request-id":
            candidate = value.decode("latin-1").strip()
            if _SANE_ID.fullmatch(candidate):
                return candidate
            break
    return uuid.uuid4().hex


def route_of(scope: Scope) -> str | None:
    """The template of the route that answered (``/api/v1/tickets/{ticket_id}``), if any."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path
    root = scope.get("root_path") or ""
    if root and scope.get("app_root_path") is not None:
        return root  # a mounted app (the pages): its mount point, not the file asked for
    return None


class RequestIds:
    """ASGI middleware: request id in and out, and one access line per HTTP request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = request_id_from(scope.get("headers") or [])
        token = request_id_var.set(rid)
        started = time.perf_counter()
        status = 500
        header = (REQUEST_ID_HEADER.lower().encode(), rid.encode())

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [
                    (k, v) for k, v in message.get("headers") or [] if k.lower() != b"x-request-id"
                ]
                message = {**message, "headers": [*headers, header]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            # Text logs keep the access logger at WARNING: then no line is built per request.
            if access_log.isEnabledFor(logging.INFO):
                duration_ms = round((time.perf_counter() - started) * 1000, 3)
                route = route_of(scope)
                access_log.info(
                    "%s %s %d",
                    scope.get("method", ""),
                    route or "-",
                    status,
                    extra={"route": route, "status": status, "duration_ms": duration_ms},
                )
            request_id_var.reset(token)


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on every record (``record.request_id``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, route, status,
    duration_ms (null where they do not apply), and ``exception`` when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id_var.get(),
            "route": getattr(record, "route", None),
            "status": getattr(record, "status", None),
            "duration_ms": getattr(record, "duration_ms", None),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


LOG_FORMATS = ("text", "json")


def logging_config(log_format: str, level: str) -> dict[str, Any]:
    """The ``logging.config.dictConfig`` of the server process (uvicorn's ``log_config``)."""
    level = level.upper()
    if log_format == "json":
        formatter: dict[str, Any] = {"()": JsonFormatter}
    else:
        formatter = {"format": "%(levelname)s:%(name)s:%(message)s"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"main": formatter},
        "handlers": {
            "main": {
                "class": "logging.StreamHandler",
                "formatter": "main",
                "filters": ["request_id"],
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["main"], "level": level},
        "loggers": {
            "uvicorn": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.error": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.access": {"handlers": [], "level": level, "propagate": True},
            # The access line is for the machine-readable log; in text mode uvicorn's own stays.
            "consult119.access": {
                "handlers": [],
                "level": level if log_format == "json" else "WARNING",
                "propagate": True,
            },
        },
    }
