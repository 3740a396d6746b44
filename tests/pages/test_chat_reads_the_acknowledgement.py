"""The web chat shows the local emergency number it reads in the acknowledgement: checked
against the real advice line for every country the project knows, in both languages."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from consult119.i18n import emergency_advice
from consult119.i18n.emergency import all_emergency_numbers

HERE = Path(__file__).resolve().parent
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def parse(texts: list[str]) -> list[str | None]:
    node = shutil.which("node")
    if node is None:
        if IN_CI:
            pytest.fail("CI must run the JavaScript module tests: node is not installed")
        pytest.skip("node is not installed (needed for the JavaScript module tests)")
    result = subprocess.run(
        [node, str(HERE / "parse_emergency.mjs")],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout)


@pytest.mark.parametrize("locale", ["ko", "en"])
def test_every_country_s_number_is_read_from_the_advice(locale):
    table = all_emergency_numbers()
    countries = sorted(table)
    texts = [emergency_advice(code, locale) for code in countries]
    read = parse(texts)
    wrong = []
    for code, text, got in zip(countries, texts, read, strict=True):
        numbers = table[code]
        expected = {numbers.ambulance, numbers.general} if numbers.confirmed else {numbers.general}
        shown = set((got or "").split(" / "))
        police_only = numbers.police not in expected and numbers.police in shown
        if not shown & expected or police_only:
            wrong.append((code, text, got))
    assert wrong == []


@pytest.mark.parametrize("locale", ["ko", "en"])
def test_no_number_is_invented_at_sea_in_the_air_or_for_an_unknown_country(locale):
    texts = [
        emergency_advice(None, locale),
        emergency_advice("JP", locale, location_type="sea"),
        emergency_advice("JP", locale, location_type="air"),
    ]
    assert parse(texts) == [None, None, None]
