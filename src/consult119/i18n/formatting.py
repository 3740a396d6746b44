"""Dates, times and numbers as the reader writes them (Babel/CLDR).

Times are stored in UTC; they are converted only here, for display: to the traveller's zone and
to Asia/Seoul for staff. A missing or malformed zone falls back to Asia/Seoul, never an error.
"""

from __future__ import annotations

import decimal
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel import dates as babel_dates
from babel import numbers as babel_numbers

from consult119.i18n.catalog import get_locale, translator
from consult119.i18n.negotiate import negotiate_locale

SEOUL = ZoneInfo("Asia/Seoul")


def zone(tz: str | tzinfo | None) -> tzinfo:
    """The IANA zone ``tz`` names, or Asia/Seoul when it is missing or not a zone."""
    if isinstance(tz, tzinfo):
        return tz
    if not tz or not isinstance(tz, str) or len(tz) > 64:
        return SEOUL
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return SEOUL


def _locale(locale: str | None) -> str:
    return negotiate_locale(locale) if locale is not None else get_locale()


def _aware(dt: datetime) -> datetime:
    # Naive datetimes in this project are UTC (db.UTCDateTime hands back aware ones anyway).
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def utc_offset(dt: datetime, tz: str | tzinfo | None) -> str:
    """``UTC+14:00``, ``UTC-11:00``, ``UTC+05:45``: unambiguous in every language."""
    offset = _aware(dt).astimezone(zone(tz)).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{mins:02d}"


def format_datetime(dt: datetime, tz: str | tzinfo | None = None, locale: str | None = None) -> str:
    """Weekday, date and time in ``tz`` for ``locale``: ``Sat, Jun 1, 2024, 2:00 AM``,
    ``2024년 6월 1일 (토) 오전 2:00``."""
    loc = _locale(locale)
    local = _aware(dt).astimezone(zone(tz))
    day = babel_dates.format_skeleton("yMMMEd", local, locale=loc)
    time = babel_dates.format_time(local, "short", locale=loc)
    pattern = Locale.parse(loc).datetime_formats["medium"]
    return str(pattern).replace("{1}", day).replace("{0}", time)


def format_local_and_seoul(dt: datetime, tz: str | tzinfo | None, locale: str | None = None) -> str:
    """The moment in the traveller's zone (with its UTC offset) and in Korean time, for staff.

    ``Sat, Jun 1, 2024, 2:00 AM (UTC+14:00) · Seoul: Fri, May 31, 2024, 9:00 PM``
    """
    loc = _locale(locale)
    t = translator(loc)
    local = format_datetime(dt, tz, loc)
    seoul = format_datetime(dt, SEOUL, loc)
    if zone(tz) == SEOUL:
        return t.gettext("{time} (Korean time)", time=seoul)
    return t.gettext(
        "{local} ({offset}) · Seoul: {seoul}", local=local, offset=utc_offset(dt, tz), seoul=seoul
    )


def _decimal(value: float | int, pattern: str | None, locale: str, *, percent: bool = False) -> str:
    # Halves round up (62.45 -> 62.5), as readers of a report expect; Babel's default is
    # banker's rounding. Floats go through str() so 62.45 is not 62.4499999...
    number = decimal.Decimal(str(value))
    with decimal.localcontext() as ctx:
        ctx.rounding = decimal.ROUND_HALF_UP
        if percent:
            return babel_numbers.format_percent(number, format=pattern, locale=locale)
        return babel_numbers.format_decimal(number, format=pattern, locale=locale)


def format_number(
    value: float | int, locale: str | None = None, *, digits: int | None = None
) -> str:
    """``4,901`` / ``62.5``; ``digits`` fixes the decimals."""
    loc = _locale(locale)
    if digits is None:
        return _decimal(value, None, loc)
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    return _decimal(value, pattern, loc)


def format_percent(value: float | int, locale: str | None = None, *, digits: int = 1) -> str:
    """A share given **in percent** (``62.48`` → ``62.5%``), as the reports compute shares."""
    loc = _locale(locale)
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "") + "%"
    return _decimal(decimal.Decimal(str(value)) / 100, pattern, loc, percent=True)


def format_points(value: float | int, locale: str | None = None, *, digits: int = 1) -> str:
    """A change in percentage points, always signed: ``+11.9 pp`` / ``+11.9%p``."""
    loc = _locale(locale)
    pattern = "+#,##0" + ("." + "0" * digits if digits > 0 else "")
    pattern += ";-#,##0" + ("." + "0" * digits if digits > 0 else "")
    number = _decimal(value, pattern, loc)
    return translator(loc).gettext("{number} pp", number=number)


def country_name(code: str | None, locale: str | None = None) -> str | None:
    """The country's name in ``locale`` (``JP`` → ``일본`` / ``Japan``), None when unknown."""
    if not code:
        return None
    try:
        return Locale.parse(_locale(locale)).territories.get(code.upper())
    except (UnknownLocaleError, ValueError):
        return None
