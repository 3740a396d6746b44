"""Reading an intake request safely: content type, size, signature, then JSON."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from fastapi import Request

from consult119 import jsonsafe
from consult119.config import Settings
from consult119.errors import (
    DomainError,
    Invalid,
    PayloadTooLarge,
    Unauthorized,
    UnsupportedMediaType,
)
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


def sign(secret: str, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256 of body>``: the value of :data:`SIGNATURE_HEADER`. Intake
    checks it (:func:`verify_signature`); our own signed posts (the pager webhook, SMS) send it,
    so a receiver checks ours exactly as we check theirs."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(secret: str | None, body: bytes, header: str | None) -> None:
    """When a secret is set, require ``sha256=<hex HMAC-SHA256 of body>``; compare in constant time."""
    if secret is None:
        return
    if not header or not header.startswith("sha256="):
        raise Unauthorized(
            "bad_signature", _l("{header} is missing or malformed.", header=SIGNATURE_HEADER)
        )
    expected = sign(secret, body)[len("sha256=") :]
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


# -- channels off while their secret is unset ---------------------------------------------------
class ChannelNotConfigured(DomainError):
    """503: the channel has no secret configured, so it takes nothing."""

    status_code = 503


#: Channels checked with a shared secret that ``allow_unsigned_channels`` may open without one:
#: (the name logged at start, the ``Settings`` field holding the secret). LINE and telephony
#: events are not here: they are refused while their secret is unset, whatever that setting.
UNSIGNED_CAPABLE = (
    ("chat gateway", "intake_secret"),
    ("kakao", "kakao_skill_secret"),
    ("email", "intake_secret"),
)


def setting_name(field: str) -> str:
    """The environment variable of a ``Settings`` field."""
    return "CONSULT119_" + field.upper()


def channel_secret(settings: Settings, field: str) -> str | None:
    """The secret the channel checks; ``None`` when it is unset and unsigned channels are
    allowed (the local demo); ``503 channel_not_configured`` when it is unset otherwise.

    An unset secret used to mean "accept anyone": a forgotten setting opened a channel to forged
    messages joining a real traveller's case. Off is the safe reading of a missing secret.
    """
    value = getattr(settings, field)
    if value is not None:
        return str(value.get_secret_value())
    if settings.allow_unsigned_channels:
        return None
    raise ChannelNotConfigured(
        "channel_not_configured",
        _l("This channel is off until {setting} is set.", setting=setting_name(field)),
    )


def require_intake_secret(request: Request) -> None:
    """Dependency for routes signed with the intake secret: 503 while the channel is off."""
    channel_secret(request.app.state.ctx.settings, "intake_secret")


def unsigned_channels(settings: Settings) -> list[str]:
    """``name (SETTING unset)`` of each channel open without its secret, for the start-up log."""
    if not settings.allow_unsigned_channels:
        return []
    return [
        f"{name} ({setting_name(field)} unset)"
        for name, field in UNSIGNED_CAPABLE
        if getattr(settings, field) is None
    ]
