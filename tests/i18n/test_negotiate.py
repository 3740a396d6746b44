"""Locale negotiation: what the channel says, then the staff profile, then Korean."""

from __future__ import annotations

import pytest

from consult119.i18n import negotiate_locale, parse_accept_language


def test_q_values_order_the_ranges():
    assert parse_accept_language("ko;q=0.5, en-US, en;q=0.8, fr;q=0.9") == [
        "en-US",
        "fr",
        "en",
        "ko",
    ]


def test_equal_weights_keep_the_header_order_and_q0_means_not_this():
    assert parse_accept_language("en, ko") == ["en", "ko"]
    assert parse_accept_language("en;q=0, ko") == ["ko"]


@pytest.mark.parametrize(
    "header",
    ["", None, ";;;", "en;q=abc", "en;q=1.5", "12345", "en;q=-1", "<script>", "x" * 10_000],
)
def test_malformed_headers_yield_nothing(header):
    assert parse_accept_language(header) == []


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("en-US,en;q=0.9", "en"),
        ("ko-KR,ko;q=0.9,en-US;q=0.8", "ko"),
        ("fr-FR, de;q=0.9, en;q=0.1", "en"),  # unsupported ranges are skipped
        ("fr-FR, de;q=0.9", "ko"),  # nothing we speak: Korean
        ("ja, *;q=0.5", "ko"),
        ("en;q=0, ko;q=0.1", "ko"),
        ("EN_gb", "en"),
        ("kr", "ko"),  # channels send the country code as a language
        ("zz-Unknown-Tag", "ko"),
        ("en;q=0.2, ko;q=0.3", "ko"),
        ("en;q=0.4, ko;q=0.3", "en"),
    ],
)
def test_accept_language(header, expected):
    assert negotiate_locale(header) == expected


def test_preferences_in_order_channel_then_profile_then_korean():
    assert negotiate_locale("en", "ko") == "en"  # the channel's word wins
    assert negotiate_locale(None, "en") == "en"  # then the staff profile
    assert negotiate_locale("ja", "en") == "en"  # an unsupported channel locale falls through
    assert negotiate_locale(None, None) == "ko"
    assert negotiate_locale() == "ko"
    assert negotiate_locale(123, ["en"]) == "ko"  # type: ignore[arg-type] - never raises
