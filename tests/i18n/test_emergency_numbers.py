"""The emergency-number data: every ISO 3166-1 country, strings, a source each, known values."""

from __future__ import annotations

import re

import pytest
from babel import Locale

from consult119.i18n import all_emergency_numbers, emergency_advice, emergency_numbers
from consult119.i18n.emergency import load_data

#: CLDR territories with two letters that are not ISO 3166-1 alpha-2 country codes.
NOT_ISO = {"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB", "XK", "ZZ"}
ISO_CODES = {c for c in Locale("en").territories if len(c) == 2 and c.isalpha()} - NOT_ISO
SERVICES = ("general", "ambulance", "police", "fire")


def test_every_iso_country_is_present_and_nothing_else():
    assert len(ISO_CODES) == 249
    assert set(load_data()["countries"]) == ISO_CODES


def test_numbers_are_digit_strings_with_a_source():
    data = load_data()
    for code, row in data["countries"].items():
        for service in SERVICES:
            assert isinstance(row[service], str), (code, service)
            assert re.fullmatch(r"\d{2,5}|\d{7}", row[service]), (code, service, row[service])
        assert row["source"] in data["sources"], code
        assert data["sources"][row["source"]]["title"]


@pytest.mark.parametrize(
    ("country", "general", "ambulance", "police", "fire"),
    [
        ("KR", "119", "119", "112", "119"),
        ("JP", "119", "119", "110", "119"),
        ("CN", "110", "120", "110", "119"),
        ("US", "911", "911", "911", "911"),
        ("CA", "911", "911", "911", "911"),
        ("GB", "999", "999", "999", "999"),
        ("FR", "112", "15", "17", "18"),
        ("DE", "112", "112", "110", "112"),
        ("AU", "000", "000", "000", "000"),
        ("NZ", "111", "111", "111", "111"),
        ("IN", "112", "108", "112", "101"),
        ("PH", "911", "911", "911", "911"),
        ("VN", "113", "115", "113", "114"),
        ("TH", "191", "1669", "191", "199"),
        ("TM", "03", "03", "02", "01"),
    ],
)
def test_known_numbers(country, general, ambulance, police, fire):
    numbers = emergency_numbers(country)
    assert numbers is not None
    assert (numbers.general, numbers.ambulance, numbers.police, numbers.fire) == (
        general,
        ambulance,
        police,
        fire,
    )
    assert numbers.confirmed


def test_eu_countries_answer_112():
    eu = "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK"
    for code in eu.split():
        assert emergency_numbers(code).general == "112", code


def test_lookups_never_fail():
    assert emergency_numbers("jp").country == "JP"
    assert emergency_numbers(" au ").ambulance == "000"
    for bad in (None, "", "ZZ", "XK", "JPN", 42):
        assert emergency_numbers(bad) is None  # type: ignore[arg-type]
    assert len(all_emergency_numbers()) == 249


def test_advice_lines_in_both_languages():
    assert emergency_advice("AU", "en") == (
        "If life is in danger, call 000 now (emergency number, Australia)."
    )
    assert emergency_advice("FR", "ko") == (
        "생명이 위급하면 지금 바로 15번(프랑스 구급차) 또는 112번(통합 긴급번호)으로 전화하세요."
    )
    assert emergency_advice("JP", "en") == (
        "If life is in danger, call 119 now (ambulance, Japan; police 110)."
    )
    assert emergency_advice("ZZ", "en") == (
        "If life is in danger, call the local emergency number now."
    )
    assert "선장" in emergency_advice("JP", "ko", location_type="sea")
    assert "cabin crew" in emergency_advice("JP", "en", location_type="air")
    # A number from the fallback source is worded as reported, not as confirmed.
    assert emergency_advice("SO", "en") == (
        "If life is in danger, call the local emergency number now (Somalia: reported as 888)."
    )
