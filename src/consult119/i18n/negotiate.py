"""Choosing the reader's locale: the channel's word first, then the staff profile, then Korean.

Every input here comes from outside (a Kakao ``lang``, a web-chat choice, an ``Accept-Language``
header, a profile field); none of it can make this fail. What is not understood is skipped.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from consult119.i18n.locales import DEFAULT_LOCALE, SUPPORTED_LOCALES

# RFC 5646 language-range as Accept-Language carries it (RFC 9110 §12.5.4), or "*".
_RANGE = re.compile(r"^(?:\*|[A-Za-z]{1,8}(?:[-_][A-Za-z0-9]{1,8})*)$")
_QVALUE = re.compile(r"^[qQ]\s*=\s*(0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$")
#: Most ranges read from one header: a hostile header cannot make us work hard.
MAX_RANGES = 20
MAX_HEADER = 500

#: Tags people and channels send that are not the ISO 639-1 code we file catalogs under.
#: "kr" is the country code, yet channels do send it as a language for Korean.
_ALIASES = {"kr": "ko", "kor": "ko", "eng": "en"}


def parse_accept_language(header: str | None) -> list[str]:
    """Language ranges of an ``Accept-Language`` value, most preferred first.

    Ranges are ordered by q-value (stable for equal ones); ``q=0`` means "not this" and is
    dropped; malformed ranges are skipped. A single tag such as ``en-US`` is a valid header.
    """
    if not header:
        return []
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header[:MAX_HEADER].split(",")[:MAX_RANGES]):
        piece, *params = (p.strip() for p in part.split(";"))
        if not piece or not _RANGE.match(piece):
            continue
        quality = 1.0
        for param in params:
            match = _QVALUE.match(param)
            if match is None:
                quality = -1.0  # a malformed weight: ignore the whole range
                break
            quality = float(match.group(1))
        if quality > 0:
            ranked.append((-quality, index, piece.replace("_", "-")))
    ranked.sort()
    return [tag for _, _, tag in ranked]


def match_locale(tag: str, supported: tuple[str, ...] = SUPPORTED_LOCALES) -> str | None:
    """The supported locale a single tag asks for (``en-GB`` → ``en``), or None."""
    primary = tag.strip().replace("_", "-").split("-")[0].lower()
    primary = _ALIASES.get(primary, primary)
    return primary if primary in supported else None


def negotiate_locale(
    *preferences: str | None,
    supported: tuple[str, ...] = SUPPORTED_LOCALES,
    default: str = DEFAULT_LOCALE,
) -> str:
    """The first supported locale among ``preferences``, in order, else ``default``.

    Each preference may be a tag (``"en"``, ``"ko_KR"``) or a whole ``Accept-Language`` value.
    Pass them in priority order: what the channel says, then the staff member's profile::

        negotiate_locale(kakao_lang, request.headers.get("accept-language"), staff.locale)
    """
    for preference in preferences:
        if not isinstance(preference, str):
            continue
        for tag in parse_accept_language(preference):
            if tag == "*":
                continue
            chosen = match_locale(tag, supported)
            if chosen is not None:
                return chosen
    return default


#: POSIX locale variables, in the order the C library reads them for messages.
LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")


def environment_locale(
    environ: Mapping[str, str] | None = None, *, supported: tuple[str, ...] = SUPPORTED_LOCALES
) -> str:
    """The locale a terminal asks for: the first of ``LC_ALL``, ``LC_MESSAGES``, ``LANG`` set.

    ``ko_KR.UTF-8`` → ``ko``. The ``C``/``POSIX`` locale, or none at all, means the untranslated
    source text, as it does for every gettext program: English. Any other language we do not
    speak falls back to Korean, like everywhere else in the service.
    """
    env = os.environ if environ is None else environ
    value = next((env[name] for name in LOCALE_VARIABLES if env.get(name)), "")
    tag = value.split(".")[0].split("@")[0]
    if tag in ("", "C", "POSIX"):
        return "en" if "en" in supported else DEFAULT_LOCALE
    return negotiate_locale(tag, supported=supported)
