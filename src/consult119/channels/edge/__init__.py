"""The shared edge every channel adapter reads its request through.

:func:`read_json` reads the body (content type and size cap), verifies it with the channel's
check, parses it as a JSON object and validates it into the adapter's pydantic model, each
refusal with its stable code; :mod:`consult119.channels.edge.admission` holds the per-sender
rate limit the intake pipeline applies (:func:`consult119.intake.pipeline.take`). An adapter
then only translates its payload into an :class:`~consult119.intake.service.InboundMessage`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from consult119.channels.edge.http import (
    SIGNATURE_HEADER,
    parse_json_object,
    read_body,
    verify_signature,
)
from consult119.errors import Invalid
from consult119.i18n import lazy_gettext as _l

M = TypeVar("M", bound=BaseModel)
JSON = ("application/json",)
#: A channel's check of the raw body (a signature); raises its refusal.
Verify = Callable[[bytes], None]


def invalid_from(exc: ValidationError) -> Invalid:
    """The 422 for a payload pydantic refused; raise it ``from exc`` so every field's error is
    rendered in the reader's language (``errors.DomainError.detail``)."""
    err = exc.errors()[0]
    field = ".".join(str(p) for p in err.get("loc", ()))
    return Invalid("invalid_field", _l("{field}: invalid value.", field=field or "-"), field=field)


def signed(request: Request, secret: str | None) -> Verify:
    """The intake-secret check: ``X-Consult119-Signature`` the HMAC of the body (none when
    ``secret`` is ``None``, an unsigned local run)."""
    header = request.headers.get(SIGNATURE_HEADER)
    return lambda body: verify_signature(secret, body, header)


async def read_verified(
    request: Request,
    *,
    max_bytes: int,
    content_types: tuple[str, ...] = JSON,
    verify: Verify | None = None,
) -> bytes:
    """The raw body, within ``max_bytes`` and of one of ``content_types``, checked by ``verify``."""
    body = await read_body(request, max_bytes=max_bytes, content_types=content_types)
    if verify is not None:
        verify(body)
    return body


async def read_json(
    request: Request,
    model: type[M],
    *,
    max_bytes: int,
    verify: Verify | None = None,
    empty: dict[str, Any] | None = None,
) -> M:
    """The body read, verified, parsed and validated into ``model`` (``422 invalid_field``);
    a blank body reads as ``empty`` when one is given."""
    body = await read_verified(request, max_bytes=max_bytes, verify=verify)
    data = empty if empty is not None and not body.strip() else parse_json_object(body)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid_from(exc) from exc
