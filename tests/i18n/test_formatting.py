"""Times in the traveller's zone and in Korean time; numbers and percentages by locale."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from consult119.i18n import (
    country_name,
    format_datetime,
    format_local_and_seoul,
    format_number,
    format_percent,
    format_points,
    utc_offset,
    zone,
)

# CLDR puts a narrow no-break space before AM/PM, so a time never wraps from its AM/PM.
NNBSP = "\u202f"
# 12:00 UTC on 1 June 2024: Saturday 02:00 on 2 June on Kiritimati (UTC+14), Saturday 01:00 on
# 1 June in Pago Pago (UTC-11) — the same instant, a day apart across the date line.
NOON_UTC = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def test_across_the_date_line_in_english():
    assert (
        format_datetime(NOON_UTC, "Pacific/Kiritimati", "en") == f"Sun, Jun 2, 2024, 2:00{NNBSP}AM"
    )
    assert (
        format_datetime(NOON_UTC, "Pacific/Pago_Pago", "en") == f"Sat, Jun 1, 2024, 1:00{NNBSP}AM"
    )
    assert utc_offset(NOON_UTC, "Pacific/Kiritimati") == "UTC+14:00"
    assert utc_offset(NOON_UTC, "Pacific/Pago_Pago") == "UTC-11:00"
    assert utc_offset(NOON_UTC, "Asia/Kathmandu") == "UTC+05:45"


def test_across_the_date_line_in_korean():
    assert format_datetime(NOON_UTC, "Pacific/Kiritimati", "ko") == "2024년 6월 2일 (일) 오전 2:00"
    assert format_datetime(NOON_UTC, "Pacific/Pago_Pago", "ko") == "2024년 6월 1일 (토) 오전 1:00"


def test_local_and_seoul_for_staff():
    assert format_local_and_seoul(NOON_UTC, "Pacific/Kiritimati", "en") == (
        f"Sun, Jun 2, 2024, 2:00{NNBSP}AM (UTC+14:00) · Seoul: Sat, Jun 1, 2024, 9:00{NNBSP}PM"
    )
    assert format_local_and_seoul(NOON_UTC, "Pacific/Pago_Pago", "ko") == (
        "2024년 6월 1일 (토) 오전 1:00 (UTC-11:00) · 한국 시간: 2024년 6월 1일 (토) 오후 9:00"
    )
    assert format_local_and_seoul(NOON_UTC, "Asia/Seoul", "ko") == (
        "2024년 6월 1일 (토) 오후 9:00 (한국 시간)"
    )


@pytest.mark.parametrize("bad", [None, "", "Mars/Olympus", "../../etc/passwd", "UTC+25", "x" * 500])
def test_a_malformed_zone_falls_back_to_seoul(bad):
    assert str(zone(bad)) == "Asia/Seoul"
    assert (
        format_local_and_seoul(NOON_UTC, bad, "en")
        == f"Sat, Jun 1, 2024, 9:00{NNBSP}PM (Korean time)"
    )


def test_a_naive_datetime_is_utc_and_dst_is_respected():
    naive = datetime(2024, 7, 1, 12, 0)
    assert format_datetime(naive, "Europe/London", "en") == f"Mon, Jul 1, 2024, 1:00{NNBSP}PM"
    assert format_datetime(datetime(2024, 1, 1, 12, tzinfo=UTC), "Europe/London", "en") == (
        f"Mon, Jan 1, 2024, 12:00{NNBSP}PM"
    )


def test_numbers_and_shares_by_locale():
    assert format_number(4901, "en") == "4,901"
    assert format_number(4901, "ko") == "4,901"
    assert format_number(2.5, "en", digits=2) == "2.50"
    assert format_percent(62.48, "ko") == "62.5%"
    assert format_percent(62.45, "en") == "62.5%"  # halves round up, not to even
    assert format_percent(50.59, "en", digits=0) == "51%"
    assert format_points(11.89, "ko") == "+11.9%p"
    assert format_points(11.89, "en") == "+11.9 pp"
    assert format_points(-3.25, "en") == "-3.3 pp"


def test_country_names():
    assert country_name("JP", "ko") == "일본"
    assert country_name("jp", "en") == "Japan"
    assert country_name("ZZ9", "en") is None
    assert country_name(None, "en") is None
