"""Reading an intake request safely: content type, size, signature, then JSON."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from fastapi import Request

from consult119 import jsonsafe
from consult119.errors import Invalid, PayloadTooLarge, Unauthorized, UnsupportedMediaType
from consult119.i18n import lazy_gettext as _l
from consult119.jsonsafe import MAX_JSON_DEPTH, JSONTooDeep

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
    """The body as a JSON object: ``invalid_json`` when it does not parse or nests deeper than
    ``consult119.jsonsafe.MAX_JSON_DEPTH``, ``not_an_object`` for any other JSON value."""
    try:
        value = jsonsafe.loads(body)
    except JSONTooDeep as exc:
        raise Invalid(
            "invalid_json",
            _l(
                "The body is not valid JSON: it nests deeper than {max_depth} levels.",
                max_depth=MAX_JSON_DEPTH,
            ),
        ) from exc
    except (UnicodeDecodeError, ValueError) as exc:
        raise Invalid("invalid_json", _l("The body is not valid JSON.")) from exc
    if not isinstance(value, dict):
        raise Invalid("not_an_object", _l("The body must be a JSON object."))
    return value
