"""``consult119 report …`` says it: the headline under the table, labels in the chosen language,
binary files only where they belong, "no cases" for an empty year, and a help that reads."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys

from openpyxl import load_workbook

from tests import forkserver
from tests.conftest import TEST_SECRET
from tests.reports.conftest import run_cli
from tests.reports.test_exports import kst


def seed(add_cases) -> None:
    add_cases(kst(2024, 2, 1, 9), "kakao", n=3)
    add_cases(kst(2024, 2, 2, 9), "smtp")
    add_cases(kst(2023, 2, 1, 9), "kakao")
    add_cases(kst(2023, 2, 2, 9), "phone")


def test_channel_share_prints_the_headline_in_the_chosen_language(database_url, db, add_cases):
    seed(add_cases)
    r = run_cli(database_url, "--lang", "en", "report", "channel-share", "--year", "2024")
    assert r.returncode == 0, r.stderr
    table, _, after = r.stdout.partition("KakaoTalk 3 of 4 (75.0%)")
    assert "Consultations by channel, 2024" in table and "Chat" in table and "E-mail" in table
    assert "Change (points)" in table and "+25.0 pp" in table
    assert after.startswith(", up 25.0 points on 2023")
    assert "E-mail 1 of 4 (25.0%), up 25.0 points on 2023" in r.stdout

    ko = run_cli(database_url, "report", "channel-share", "--year", "2024", "--lang", "ko")
    assert ko.returncode == 0, ko.stderr
    assert "상담 경로별 상담 건수, 2024" in ko.stdout
    assert "채팅" in ko.stdout and "이메일" in ko.stdout and "합계" in ko.stdout
    assert "카카오톡 4건 중 3건(75.0%), 2023년보다 25.0%p 증가" in ko.stdout
    assert "chat" not in ko.stdout and "share_pct" not in ko.stdout

    bad = run_cli(database_url, "report", "channel-share", "--year", "2024", "--lang", "fr")
    assert bad.returncode == 2 and "unknown_lang" in bad.stderr


def test_an_empty_year_says_so(database_url, db):
    r = run_cli(database_url, "--lang", "en", "report", "channel-share", "--year", "1999")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "No cases in 1999."
    ko = run_cli(database_url, "--lang", "ko", "report", "annual", "--year", "1999")
    assert ko.returncode == 0 and ko.stdout.strip() == "1999년에는 상담이 없습니다."
    as_json = run_cli(database_url, "report", "channel-share", "--year", "1999", "--format", "json")
    assert as_json.returncode == 0 and '"total": 0' in as_json.stdout  # scripts get the shape


def test_xlsx_goes_to_a_file_or_a_pipe_never_to_a_terminal_or_the_folder(
    database_url, db, add_cases, tmp_path
):
    seed(add_cases)
    target = tmp_path / "share.xlsx"
    r = run_cli(
        database_url,
        "report",
        "channel-share",
        "--year",
        "2024",
        "--format",
        "xlsx",
        "-o",
        str(target),
        "--lang",
        "en",
        cwd=str(tmp_path),
    )
    assert r.returncode == 0, r.stderr
    sheet = load_workbook(target).worksheets[0]
    assert sheet["A1"].value == "Consultations by channel, 2024"

    piped = forkserver.run(
        [sys.executable, "-m", "consult119.cli", "report", "annual", "--year", "2024"]
        + ["--format", "xlsx"],
        env={
            **os.environ,
            "CONSULT119_DATABASE_URL": database_url,
            "CONSULT119_SECRET_KEY": TEST_SECRET,
        },
        capture_output=True,
        timeout=120,
        cwd=str(tmp_path),
    )
    assert piped.returncode == 0, piped.stderr
    assert load_workbook(io.BytesIO(piped.stdout)).sheetnames[0] in ("요약", "Summary")

    # On a terminal: refused, and nothing written into the folder either.
    leader, follower = pty.openpty()
    try:
        proc = forkserver.run(
            [sys.executable, "-m", "consult119.cli", "--lang", "en", "report", "channel-share"]
            + ["--year", "2024", "--format", "xlsx"],
            env={
                **os.environ,
                "CONSULT119_DATABASE_URL": database_url,
                "CONSULT119_SECRET_KEY": TEST_SECRET,
            },
            stdout=follower,
            stderr=subprocess.PIPE,
            timeout=120,
            cwd=str(tmp_path),
        )
    finally:
        os.close(follower)
        os.close(leader)
    assert proc.returncode == 2
    assert b"give -o FILE" in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["share.xlsx"]


def test_help_reads(database_url):
    env = {"COLUMNS": "100"}
    top = run_cli(database_url, "--help", **env)
    assert top.returncode == 0
    assert "<bool>" not in top.stdout
    demo_line = next(line for line in top.stdout.splitlines() if "│ demo" in line)
    assert demo_line.rstrip(" │").endswith("and serve it.")  # a whole sentence, not cut
    demo = run_cli(database_url, "demo", "--help", **env)
    assert "<bool>" not in demo.stdout and "CONSULT119_SMTP_PORT or 2525" in demo.stdout
    share = run_cli(database_url, "report", "channel-share", "--help", **env)
    assert "--lang" in share.stdout and "<bool>" not in share.stdout
    assert "annual" in run_cli(database_url, "report", "--help", **env).stdout
