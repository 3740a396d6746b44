"""Domain errors with a stable code, and the one handler that renders them.

Every refusal the API gives has the shape ``{"detail": {"code": ..., "message": ...}}`` (plus
``field`` where one input is at fault). Codes are stable and documented in docs/api.md; the
message is a sentence in the reader's language, chosen from ``Accept-Language``, then the
signed-in staff member's profile (``Staff.locale``), then Korean.

Raise with a translatable text so every language gets the specific sentence::

    from consult119.i18n import lazy_gettext as _l
    raise Conflict("claim_lost", _l("Case {case_number} is held by someone else.", case_number=n))

A plain string is taken as English: English readers get it as written, others get the
standard sentence for its code (``STANDARD_MESSAGES``) when there is one.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

import psycopg
import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from consult119.dberrors import database_unavailable, outage
from consult119.i18n.catalog import LazyText, translator
from consult119.i18n.catalog import lazy_gettext as _l
from consult119.i18n.negotiate import negotiate_locale

log = logging.getLogger(__name__)

#: The language plain-string messages are written in.
SOURCE_LOCALE = "en"

#: A translatable sentence per stable code, for errors raised with a plain English string.
STANDARD_MESSAGES: dict[str, LazyText] = {
    "bad_credentials": _l("E-mail address or password is wrong."),
    "not_authenticated": _l("Sign in first: a bearer token is required."),
    "invalid_token": _l("The token is invalid or has expired."),
    "account_disabled": _l("This account is disabled or no longer exists."),
    "unauthorized": _l("Sign in first."),
    "forbidden": _l("You may not do this."),
    "forbidden_role": _l("Your role may not do this."),
    "not_found": _l("Not found."),
    "method_not_allowed": _l("This method is not allowed here."),
    "rate_limited": _l("Too many messages at once; wait a moment."),
    "invalid_email": _l("Not an e-mail address."),
    "unknown_role": _l("Unknown role."),
    "weak_password": _l("A password needs at least 8 characters."),
    "staff_exists": _l("This e-mail address already has an account."),
    "unknown_presence": _l("Unknown presence status."),
    "unsupported_media_type": _l("This content type is not accepted."),
    "body_too_large": _l("The body is too large."),
    "bad_signature": _l("The request signature is missing or does not match the body."),
    "invalid_json": _l("The body is not valid JSON."),
    "not_an_object": _l("The body must be a JSON object."),
    "invalid_field": _l("A field is invalid."),
    "database_unavailable": _l(
        "The service cannot reach its database right now. Send it again in a moment: "
        "a repeated message is recognised and not stored twice."
    ),
}

#: Pydantic error types, rendered in the reader's language (``ctx`` fills the placeholders).
VALIDATION_MESSAGES: dict[str, LazyText] = {
    "missing": _l("This field is required."),
    "string_too_short": _l("Must not be empty."),
    "string_too_long": _l("Must be at most {max_length} characters."),
    "string_type": _l("Must be text."),
    "string_pattern_mismatch": _l("Has the wrong format."),
    "literal_error": _l("Must be one of: {expected}."),
    "enum": _l("Must be one of: {expected}."),
    "int_parsing": _l("Must be a whole number."),
    "int_type": _l("Must be a whole number."),
    "int_from_float": _l("Must be a whole number."),
    "int_parsing_size": _l("The number is too large."),
    "float_parsing": _l("Must be a number."),
    "float_type": _l("Must be a number."),
    "bool_parsing": _l("Must be true or false."),
    "bool_type": _l("Must be true or false."),
    "greater_than_equal": _l("Must be at least {ge}."),
    "greater_than": _l("Must be more than {gt}."),
    "less_than_equal": _l("Must be at most {le}."),
    "less_than": _l("Must be less than {lt}."),
    "too_long": _l("Has too many items."),
    "too_short": _l("Has too few items."),
    "datetime_parsing": _l("Must be a date and time (ISO 8601)."),
    "datetime_from_date_parsing": _l("Must be a date and time (ISO 8601)."),
    "datetime_type": _l("Must be a date and time (ISO 8601)."),
    "date_parsing": _l("Must be a date (YYYY-MM-DD)."),
    "date_from_datetime_parsing": _l("Must be a date (YYYY-MM-DD)."),
    "datetime_out_of_range": _l("Must be between {earliest} and {latest}."),
    "json_invalid": _l("The body is not valid JSON."),
    "model_type": _l("Must be a JSON object."),
    "dict_type": _l("Must be a JSON object."),
    "list_type": _l("Must be a list."),
    "extra_forbidden": _l("Unknown field."),
    "value_error": _l("Invalid value."),
}
_INVALID_VALUE = _l("Invalid value.")


class DomainError(Exception):
    """A refusal the caller can act on. Subclasses fix the HTTP status.

    ``message`` is a :class:`~consult119.i18n.LazyText` (preferred) or a plain English string.
    """

    status_code = 400

    def __init__(self, code: str, message: str | LazyText, **extra: Any) -> None:
        super().__init__(str(message) if not isinstance(message, LazyText) else message.singular)
        self.code = code
        self.message = message
        self.extra = extra

    def text(self, locale: str | None = None) -> str:
        """The message for a reader of ``locale`` (Korean when None)."""
        return message_for(self.code, self.message, locale)

    def detail(self, locale: str | None = None) -> dict[str, Any]:
        """The refusal's JSON body for a reader of ``locale``.

        Raised ``from`` a pydantic error as ``invalid_field``: its field errors, each rendered
        in the reader's language, rather than pydantic's English.
        """
        cause = self.__cause__
        if self.code == "invalid_field" and isinstance(cause, ValidationError):
            loc = negotiate_locale(locale)
            return {**self.extra, **_invalid_detail(validation_errors(cause.errors(), loc), loc)}
        return {"code": self.code, "message": self.text(locale), **self.extra}


class Unauthorized(DomainError):
    status_code = 401


class Forbidden(DomainError):
    status_code = 403


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    status_code = 409


class PayloadTooLarge(DomainError):
    status_code = 413


class UnsupportedMediaType(DomainError):
    status_code = 415


class Invalid(DomainError):
    status_code = 422


class RateLimited(DomainError):
    status_code = 429


def message_for(code: str, message: str | LazyText | None, locale: str | None) -> str:
    """``message`` for a reader of ``locale``; see the module docstring for plain strings."""
    loc = negotiate_locale(locale)
    if isinstance(message, LazyText):
        return message.render(loc)
    standard = STANDARD_MESSAGES.get(code)
    if message and (loc == SOURCE_LOCALE or standard is None):
        return message
    if standard is not None:
        return standard.render(loc)
    return ""


#: ``request.state`` attribute where the auth dependency leaves the signed-in staff member's
#: profile locale, so refusals on staff routes speak it when the request names no language.
STAFF_LOCALE_STATE = "staff_locale"


def reader_locale(request: Request) -> str:
    """The reader's locale: ``Accept-Language``, then the signed-in staff member's profile,
    then Korean."""
    return negotiate_locale(
        request.headers.get("accept-language"),
        getattr(request.state, STAFF_LOCALE_STATE, None),
    )


def validation_errors(errors: list[Any], locale: str | None) -> list[dict[str, str]]:
    """Pydantic errors as ``[{"field", "message"}]``, messages in ``locale``."""
    loc = negotiate_locale(locale)
    out = []
    for err in errors:
        loc_parts = list(err.get("loc", ()) if isinstance(err, dict) else ())
        # Only the leading part says where the input was: a field may itself be named "body".
        if loc_parts and loc_parts[0] in ("body", "query", "path"):
            loc_parts = loc_parts[1:]
        field = ".".join(str(p) for p in loc_parts)
        template = VALIDATION_MESSAGES.get(str(err.get("type", "")))
        ctx = err.get("ctx") or {}
        if template is None:
            text = str(err.get("msg", "")) if loc == SOURCE_LOCALE else ""
            text = text or _INVALID_VALUE.render(loc)
        else:
            params = {k: _plain(v) for k, v in ctx.items()}
            try:
                text = LazyText(template.singular, **params).render(loc)
            except (KeyError, IndexError, ValueError):
                text = _INVALID_VALUE.render(loc)
        out.append({"field": field, "message": text})
    return out


def _plain(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def _invalid_detail(errors: list[dict[str, str]], locale: str) -> dict[str, Any]:
    first = errors[0] if errors else {"field": "", "message": _INVALID_VALUE.render(locale)}
    label = first["field"] or translator(locale).gettext("input")
    return {
        "code": "invalid_field",
        "message": f"{label}: {first['message']}",
        "field": first["field"],
        "errors": errors,
    }


def render_refusal(request: Request, exc: DomainError) -> JSONResponse:
    """The response for ``exc`` in the reader's language (also for middleware, which runs
    outside the exception handlers)."""
    locale = reader_locale(request)
    headers = {"Content-Language": locale}
    if exc.status_code == 401:
        headers["WWW-Authenticate"] = "Bearer"
    retry_after = exc.extra.get("retry_after")
    if isinstance(retry_after, int):
        # A refusal that knows when to try again says it in the header clients read.
        headers["Retry-After"] = str(retry_after)
    return JSONResponse(
        {"detail": exc.detail(locale)}, status_code=exc.status_code, headers=headers
    )


def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return render_refusal(request, exc)


def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    locale = reader_locale(request)
    errors = validation_errors(list(exc.errors()), locale)
    return JSONResponse(
        {"detail": _invalid_detail(errors, locale)},
        status_code=422,
        headers={"Content-Language": locale},
    )


def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    locale = reader_locale(request)
    codes = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}
    code = codes.get(exc.status_code, f"http_{exc.status_code}")
    if isinstance(exc.detail, dict):
        detail = exc.detail
    else:
        detail = {"code": code, "message": message_for(code, exc.detail, locale)}
    headers = {**(exc.headers or {}), "Content-Language": locale}
    return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=headers)


def _database_unavailable(request: Request, exc: Exception) -> Response:
    if request.scope["type"] != "http" or not database_unavailable(exc):
        # A bug, not an outage: the server error it is. A WebSocket closes as before (1011).
        raise exc
    log.warning("%s %s: %s", request.method, request.url.path, outage(exc))
    locale = reader_locale(request)
    detail = {
        "code": "database_unavailable",
        "message": message_for("database_unavailable", None, locale),
    }
    return JSONResponse(
        {"detail": detail},
        status_code=503,
        headers={"Retry-After": "1", "Content-Language": locale},
    )


def install_error_handlers(app: FastAPI) -> None:
    """Render every refusal in one shape, in the reader's language; a database that is out of
    reach is a 503 with ``Retry-After`` (the caller may send again), never a 500."""
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(sqlalchemy.exc.DBAPIError, _database_unavailable)
    app.add_exception_handler(sqlite3.OperationalError, _database_unavailable)
    app.add_exception_handler(psycopg.OperationalError, _database_unavailable)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
