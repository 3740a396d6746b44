"""What the generic chat gateway sends and gets back."""

from __future__ import annotations

from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
)

from consult119.errors import Invalid
from consult119.i18n import lazy_gettext as _l
from consult119.types import MomentAssumeUtc

CHAT_SOURCES = ("kakao", "line", "telegram", "whatsapp", "webchat")


def no_nul(value: str) -> str:
    """``value``, or a validation error when it holds a NUL byte."""
    if "\x00" in value:
        raise ValueError("NUL bytes are not allowed")
    return value


Id = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(no_nul),
]
Text = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=5000),
    AfterValidator(no_nul),
]
ShortText = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=200), AfterValidator(no_nul)
]


def clean_country(value: str | None) -> str | None:
    """ISO 3166 alpha-2 upper case, or None when it is not one (a fallback, not an error)."""
    if value is None:
        return None
    value = value.strip().upper()
    return value if len(value) == 2 and value.isascii() and value.isalpha() else None


def clean_timezone(value: str | None) -> str | None:
    if not value or len(value) > 64:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return value


def clean_locale(value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip().replace("_", "-")
    return value[:20] if value.replace("-", "").isalnum() else None


class ChatIntakeIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    source: Literal["kakao", "line", "telegram", "whatsapp", "webchat"]
    sender_id: Id
    message_id: Id
    text: Text
    sent_at: MomentAssumeUtc | None = None
    sender_name: ShortText | None = None
    locale: str | None = Field(default=None, max_length=100)
    country: str | None = Field(default=None, max_length=100)
    timezone: str | None = Field(default=None, max_length=200)


class Reply(BaseModel):
    text: str


class ChatIntakeOut(BaseModel):
    ticket_id: int
    case_number: str
    message_id: int
    created: bool
    duplicate: bool
    reply: Reply


def normalise_phone(raw: str, country: str | None, *, field: str = "phone") -> str:
    """E.164 of a number typed with ``+`` or local to ``country``; 422 when it is not valid."""
    try:
        number = phonenumbers.parse(raw, country)
    except phonenumbers.NumberParseException as exc:
        raise Invalid("invalid_phone", _l("The phone number cannot be read."), field=field) from exc
    if not phonenumbers.is_valid_number(number):
        raise Invalid("invalid_phone", _l("The phone number is not valid."), field=field)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
