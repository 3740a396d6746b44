"""One bound on every request body, before any route reads it.

FastAPI reads a pydantic-model route's body whole before validating it, so without a bound a
30 MB body is buffered (and parsed) just to be refused. This ASGI middleware answers
``413 body_too_large`` as soon as the declared ``Content-Length`` or the bytes streamed so far
pass ``CONSULT119_MAX_BODY_BYTES``, and ``422 invalid_json`` for a JSON body nested deeper
than :data:`consult119.jsonsafe.MAX_JSON_DEPTH` (which the parser would meet as a
``RecursionError``). Routes that read their own body with their own limit (the intake
webhooks and the e-mail intake, through ``consult119.channels.edge.http.read_body``) are passed
through untouched: they check size, signature and then depth themselves, in that order.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from consult119.errors import Invalid, PayloadTooLarge, render_refusal
from consult119.i18n import lazy_gettext as _l
from consult119.jsonsafe import MAX_JSON_DEPTH, too_deep


def is_json(content_type: str | None) -> bool:
    """``application/json`` or any ``+json`` type, whatever its parameters."""
    media = (content_type or "").split(";")[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


class BodyLimit:
    """ASGI middleware bounding request bodies (see the module docstring)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, own_limit_paths: Iterable[str]) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.own_limit_paths = frozenset(own_limit_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.own_limit_paths:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        declared = headers.get("content-length")
        if declared is None and "transfer-encoding" not in headers:
            await self.app(scope, receive, send)  # no body
            return
        if (
            declared is not None
            and declared.isdigit()
            and (len(declared) > 18 or int(declared) > self.max_bytes)
        ):
            await self._refuse(scope, send, self._too_large())
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(scope, send, self._too_large())
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if body and is_json(headers.get("content-type")) and too_deep(body):
            refusal = Invalid(
                "invalid_json",
                _l(
                    "The body is not valid JSON: it nests deeper than {max_depth} levels.",
                    max_depth=MAX_JSON_DEPTH,
                ),
            )
            await self._refuse(scope, send, refusal)
            return
        await self.app(scope, _replay(body, receive), send)

    def _too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(
            "body_too_large", _l("The body is over {max_bytes:,} bytes.", max_bytes=self.max_bytes)
        )

    @staticmethod
    async def _refuse(scope: Scope, send: Send, exc: Invalid | PayloadTooLarge) -> None:
        request = Request(scope)
        response = render_refusal(request, exc)
        # The rest of an oversized body is never read: the connection cannot carry another
        # request after it, so say so rather than leave the client waiting to send it.
        response.headers["Connection"] = "close"
        await response(scope, _no_body, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the app the buffered body, then the client's later messages
    (a disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}
