"""Reading an intake request safely: content type, size, signature, then JSON."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from fastapi import Request

from consult119.errors import Invalid, PayloadTooLarge, Unauthorized, UnsupportedMediaType
from consult119.i18n import lazy_gettext as _l

SIGNATURE_HEADER = "X-Consult119-Signature"


async def read_body(request: Request, *, max_bytes: int, content_types: tuple[str, ...]) -> bytes:
    """The raw body, refused early when it has the wrong type or is too large."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in content_types:
        expected = " / ".join(content_types)
        raise UnsupportedMediaType(
            "unsupported_media_type",
            _l("Send {expected}, not {given}.", expected=expected, given=ctype)
            if ctype
            else _l("Send {expected}; the request names no content type.", expected=expected),
        )
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise PayloadTooLarge(
            "body_too_large", _l("The body is over {max_bytes:,} bytes.", max_bytes=max_bytes)
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLarge(
                "body_too_large",
                _l("The body is over {max_bytes:,} bytes.", max_bytes=max_bytes),
            )
        chunks.append(chunk)
    return b"".join(chunks)


def verify_signature(secret: str | None, body: bytes, header: str | None) -> None:
    """When a secret is set, require ``sha256=<hex HMAC-SHA256 of body>``; compare in constant time."""
    if secret is None:
        return
    if not header or not header.startswith("sha256="):
        raise Unauthorized(
            "bad_signature", _l("{header} is missing or malformed.", header=SIGNATURE_HEADER)
        )
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), header[7:].strip().lower().encode()):
        raise Unauthorized(
            "bad_signature", _l("{header} does not match the body.", header=SIGNATURE_HEADER)
        )


def parse_json_object(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise Invalid("invalid_json", _l("The body is not valid JSON.")) from exc
    if not isinstance(value, dict):
        raise Invalid("not_an_object", _l("The body must be a JSON object."))
    return value
