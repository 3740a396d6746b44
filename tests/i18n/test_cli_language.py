"""The command line speaks the operator's language: ``--lang``, else the POSIX locale."""

from __future__ import annotations

import os
import sys

import pytest

from consult119.i18n import environment_locale, lazy_gettext, lazy_ngettext
from tests import forkserver

LOCALE_VARS = ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE", "CONSULT119_LANG")


def cli(database_url, *args, stdin="", **env):
    base = {k: v for k, v in os.environ.items() if k not in LOCALE_VARS}
    return forkserver.run(
        [sys.executable, "-m", "consult119.cli", *args],
        env={**base, "CONSULT119_DATABASE_URL": database_url, "COLUMNS": "200", **env},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


BAD_CSV = "ref,created_at,source\nold-1,2020-01-02T00:00:00,fax\n"


def test_import_refusal_in_korean_and_english(database_url, db, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(BAD_CSV, encoding="utf-8")
    ko = cli(database_url, "--lang", "ko", "import", "cases", str(bad))
    en = cli(database_url, "--lang", "en", "import", "cases", str(bad))
    assert ko.returncode == en.returncode == 1
    assert "문제 1건 — 아무것도 가져오지 않았습니다" in ko.stderr
    assert "알 수 없는 접수 경로 값입니다: 'fax'" in ko.stderr
    assert "1 problem — nothing was imported" in en.stderr
    assert "unknown source 'fax'" in en.stderr


def test_the_posix_locale_chooses_when_no_lang_is_given(database_url, db):
    args = ("report", "channel-share", "--start", "2024-03-01", "--end", "2024-01-01")
    korean = cli(database_url, *args, LANG="ko_KR.UTF-8")
    c_locale = cli(database_url, *args, LANG="C.UTF-8")
    override = cli(database_url, *args, LANG="en_US.UTF-8", LC_ALL="ko_KR.UTF-8")
    for r in (korean, c_locale, override):
        assert r.returncode == 2 and "invalid_period" in r.stderr, r.stderr
    assert "종료일(2024-01-01)은 시작일(2024-03-01)보다 뒤여야 합니다" in korean.stderr
    assert "end (2024-01-01) must be after start (2024-03-01)" in c_locale.stderr
    assert override.stderr == korean.stderr  # LC_ALL wins over LANG
    # --lang wins over the environment; an unknown language is refused, not guessed.
    forced = cli(database_url, "--lang", "en", *args, LANG="ko_KR.UTF-8")
    assert forced.stderr == c_locale.stderr
    unknown = cli(database_url, "--lang", "fr", *args)
    assert unknown.returncode == 2 and "--lang" in unknown.stderr


def test_staff_commands_in_korean(database_url, db):
    add = (
        "--lang",
        "ko",
        "staff",
        "add",
        "kim@example.org",
        "--name",
        "김지우",
        "--role",
        "doctor",
    )
    assert cli(database_url, *add, stdin="long-enough-1\n").returncode == 0
    again = cli(database_url, *add, stdin="long-enough-1\n")
    assert again.returncode == 1
    assert "kim@example.org 주소로 이미 계정이 있습니다. (staff_exists)" in again.stderr
    empty = cli(database_url, "--lang", "ko", "roster", "show", "--at", "2030-01-01T00:00Z")
    assert "그 시각에 근무 중인 사람이 없습니다." in empty.stdout
    assert "근무자" in empty.stdout  # the table's title


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"LANG": "ko_KR.UTF-8"}, "ko"),
        ({"LANG": "en_GB.UTF-8"}, "en"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({"LANG": "POSIX"}, "en"),
        ({}, "en"),
        ({"LANG": "ko_KR.UTF-8", "LC_MESSAGES": "en_US.UTF-8"}, "en"),
        ({"LANG": "en_US", "LC_MESSAGES": "C", "LC_ALL": "ko_KR.eucKR"}, "ko"),
        ({"LANG": "de_DE@euro"}, "ko"),
        ({"LANG": "??"}, "ko"),
    ],
)
def test_environment_locale(environ, expected):
    assert environment_locale(environ) == expected


def test_lazy_parameters_render_in_the_same_language():
    what = lazy_gettext("source")
    text = lazy_gettext(
        "unknown {what} {value} (one of {choices})", what=what, value="'fax'", choices="kakao"
    )
    assert text.render("en") == "unknown source 'fax' (one of kakao)"
    assert text.render("ko") == "알 수 없는 접수 경로 값입니다: 'fax' (가능한 값: kakao)"
    # A placeholder may be called n without being taken for a plural count.
    n = lazy_gettext("{what} {n} is outside {low}-{high}", what="age", n=140, low=0, high=130)
    assert n.render("en") == "age 140 is outside 0-130"
    counted = lazy_ngettext("{year}: {n:,} case", "{year}: {n:,} cases", 1521, year=2024)
    assert counted.render("en") == "2024: 1,521 cases"
    assert counted.render("ko") == "2024년: 상담 1,521건"
