"""The demo database: the published figures through the service, the CLI and the API; live work
now; a safe re-run. Built on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import httpx
import pytest
from sqlalchemy import func, select

from consult119.db import utcnow
from consult119.demo import DEMO_DOMAIN, LIVE, DemoRefused, build_demo
from consult119.realtime.models import Event
from consult119.replies.models import CannedReply
from consult119.reports import service as svc
from consult119.staff.models import Shift, Staff
from consult119.tickets.codes import OPEN_STATUSES
from consult119.tickets.models import Ticket
from tests import forkserver
from tests.conftest import TEST_SECRET, free_port
from tests.factories import make_staff
from tests.reports.conftest import run_cli, ticket_count

PASSWORD = "demo-password-119"


def share(report, key):
    return next(r for r in report.period.rows if r.key == key)


def test_demo_reproduces_the_published_figures(demo_db):
    db = demo_db
    now = utcnow()
    result = build_demo(db, now=now, password=PASSWORD)
    zone = db.settings.report_zone
    assert result.cases_per_year[2022] == 3811
    with db.read_session() as s:
        y2024 = svc.channel_share(s, svc.year_period(2024, zone), by="source")
        y2022 = svc.channel_share(s, svc.year_period(2022, zone), by="source")
        location = svc.breakdown(s, svc.year_period(2024, zone), dimension="location_type")
        categories = svc.breakdown(s, svc.year_period(2024, zone), dimension="category")
        merged = s.scalar(select(func.count()).select_from(Ticket).where(Ticket.status == "merged"))
        events = s.scalar(
            select(func.count()).select_from(Event).where(Event.name == "ticket.created")
        )
        on_duty = s.execute(
            select(Staff.role, func.count())
            .join(Shift, Shift.staff_id == Staff.id)
            .where(Shift.starts_at <= now, Shift.ends_at > now)
            .group_by(Staff.role)
        ).all()
        roles = dict(s.execute(select(Staff.role, func.count()).group_by(Staff.role)).all())
        open_now = s.scalar(
            select(func.count())
            .select_from(Ticket)
            .where(Ticket.status.in_(["new", "triaged", "assigned"]))
        )
        replies = s.scalar(select(func.count()).select_from(CannedReply))
    # 2024: KakaoTalk 3,062 of 4,901 = 62.5%, up 11.9 points on 2023.
    assert y2024.period.total == 4901 and y2024.previous.total == 4135
    kakao = share(y2024, "kakao")
    assert (kakao.count, kakao.share) == (3062, 62.5)
    assert y2024.change_pp["kakao"] == 11.9
    assert {r.key: r.count for r in y2024.period.rows} == {
        "kakao": 3062,
        "smtp": 1338,
        "phone": 470,
        "line": 31,
    }
    assert (share(y2024, "smtp").share, share(y2024, "phone").share) == (27.3, 9.6)
    # 2022: 3,811 consultations, KakaoTalk 39.9%, e-mail 39.1%, phone 20.3%.
    assert y2022.period.total == 3811
    assert (share(y2022, "kakao").share, share(y2022, "smtp").share) == (39.9, 39.1)
    assert share(y2022, "phone").share == 20.3
    assert y2022.previous.total == 2576
    assert {r.key: r.count for r in location.rows} == {"sea": 2586, "land": 2308, "air": 7}
    assert categories.rows[0].key == "medical_consultation" and categories.rows[0].share == 64.2
    assert merged > 0  # merged-away cases exist and are not counted
    assert events == result.open_cases == open_now == 9
    assert dict(on_duty) == {"doctor": 2, "emt": 2}
    assert roles == {"doctor": 6, "emt": 6, "manager": 1, "admin": 1}
    assert {login.email for login in result.logins} == {
        f"{n}@{DEMO_DOMAIN}"
        for n in ["admin", "manager"]
        + [f"doctor{i}" for i in range(1, 7)]
        + [f"emt{i}" for i in range(1, 7)]
    }
    assert sum(login.on_duty for login in result.logins) == 4
    # The console's canned replies, seven in each language, even in a database emptied before.
    assert replies == 14


def test_the_live_cases_are_what_their_events_say(demo_db):
    """The live cases go through the real services: a case whose events say it was triaged
    (or assigned) is stored so, with the record the EMT filled in."""
    build_demo(demo_db, now=utcnow(), password=PASSWORD)
    with demo_db.read_session() as s:
        said = {
            (e.ticket_id, e.name): e.data
            for e in s.scalars(
                select(Event).where(Event.name.in_(["ticket.triaged", "ticket.assigned"]))
            )
        }
        live = list(
            s.scalars(select(Ticket).where(Ticket.status.in_([s.value for s in OPEN_STATUSES])))
        )
    triaged = [t for t in live if (t.id, "ticket.triaged") in said]
    assert len(triaged) == sum(1 for *_, acuity, _c, _a in LIVE if acuity is not None) > 0
    for t in triaged:
        assert t.acuity == said[(t.id, "ticket.triaged")]["acuity"], t.case_number
        assert t.status != "new" and t.triaged_at is not None and t.patient_age is not None
    assigned = [t for t in live if (t.id, "ticket.assigned") in said]
    assert assigned and all(t.assignee_id is not None for t in assigned)
    untriaged = [t for t in live if t not in triaged]
    assert untriaged and all(t.acuity is None and t.status == "new" for t in untriaged)


def test_demo_refuses_a_database_it_did_not_make(db):
    make_staff(db, "admin")
    with pytest.raises(DemoRefused):
        build_demo(db, now=utcnow(), password=PASSWORD)
    assert ticket_count(db) == 0
    with db.read_session() as s:
        assert s.scalar(select(func.count()).select_from(Staff)) == 1


# Builds the whole demo twice through the CLI (some 20,000 cases each) and starts a server:
# about a minute on a quiet machine, past the suite's 120 s on a busy one.
@pytest.mark.timeout(300)
def test_published_figures_through_the_cli_and_the_api(
    start_server, database_url, demo_db, tmp_path
):
    built = run_cli(
        database_url, "demo", "--no-serve", cwd=str(tmp_path), CONSULT119_DEMO_PASSWORD=PASSWORD
    )
    assert built.returncode == 0, built.stderr
    assert f"manager@{DEMO_DOMAIN}" in built.stdout and PASSWORD in built.stdout
    # Running it again rebuilds the demo: same figures, nothing doubled.
    again = run_cli(
        database_url, "demo", "--no-serve", "--password", cwd=str(tmp_path), stdin=PASSWORD + "\n"
    )
    assert again.returncode == 0, again.stderr

    cli = run_cli(
        database_url,
        "report",
        "channel-share",
        "--year",
        "2024",
        "--by",
        "source",
        "--format",
        "json",
    )
    assert cli.returncode == 0, cli.stderr
    from_cli = json.loads(cli.stdout)

    server = start_server()
    token = httpx.post(
        f"{server.url}/api/v1/auth/token",
        data={"username": f"manager@{DEMO_DOMAIN}", "password": PASSWORD},
        timeout=10,
    ).json()["access_token"]
    r = httpx.get(
        f"{server.url}/api/v1/reports/channel-share",
        params={
            "start": "2024-01-01",
            "end": "2025-01-01",
            "compare": "previous_year",
            "by": "source",
        },
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    assert r.json() == from_cli  # --format json prints the API's shape
    kakao = next(row for row in from_cli["period"]["rows"] if row["key"] == "kakao")
    assert (kakao["count"], kakao["share"], from_cli["period"]["total"]) == (3062, 62.5, 4901)
    assert from_cli["change_pp"]["kakao"] == 11.9

    table = run_cli(database_url, "report", "channel-share", "--year", "2022", "--by", "source")
    assert table.returncode == 0, table.stderr
    assert "1,521" in table.stdout and "39.9" in table.stdout and "39.1" in table.stdout

    csv_out = run_cli(database_url, "report", "channel-share", "--year", "2024", "--format", "csv")
    assert csv_out.stdout.splitlines()[0] == (
        "channel,count,share_pct,previous_count,previous_share_pct,change_pp"
    )
    xlsx = tmp_path / "share.xlsx"
    made = run_cli(
        database_url,
        "report",
        "channel-share",
        "--year",
        "2024",
        "--format",
        "xlsx",
        "--output",
        str(xlsx),
    )
    assert made.returncode == 0 and xlsx.stat().st_size > 0


def test_the_demo_server_takes_unsigned_intake(tmp_path):
    """``consult119 demo`` serves a local demo: its channels take messages with no secret set,
    where ``serve`` would answer 503 channel_not_configured (SQLite only: a file of its own)."""
    port = free_port()
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("CONSULT119_")
    }  # nothing allowed by the environment: the demo must do it
    env |= {
        "CONSULT119_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}",
        "CONSULT119_SECRET_KEY": TEST_SECRET,
        "CONSULT119_DEMO_PASSWORD": PASSWORD,
    }
    log = tmp_path / "demo.log"
    with open(log, "wb") as out:
        proc = forkserver.popen(
            [sys.executable, "-m", "consult119.cli", "demo", "--port", str(port)]
            + ["--smtp-port", "0"],
            env=env,
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 180
        while True:
            assert proc.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        body = {"source": "telegram", "sender_id": "demo-t", "message_id": "1", "text": "help"}
        r = httpx.post(f"{url}/api/v1/intake/chat", json=body, timeout=10)
        assert r.status_code == 201, r.text
        assert "channels open unsigned" in log.read_text()
    finally:
        proc.terminate()
        proc.wait(20)


def test_the_demo_password_is_never_an_argument(db, database_url, tmp_path):
    """It would land in shell history and process lists: ``--password`` takes no value (the
    password comes from stdin, a prompt or CONSULT119_DEMO_PASSWORD), and a weak one is
    refused before anything is built."""
    r = run_cli(
        database_url, "demo", "--no-serve", "--password", "secret-pw-119", cwd=str(tmp_path)
    )
    assert r.returncode == 2 and "secret-pw-119" in r.stderr  # "unexpected extra argument"
    r = run_cli(
        database_url, "demo", "--no-serve", cwd=str(tmp_path), CONSULT119_DEMO_PASSWORD="12345678"
    )
    assert r.returncode == 1 and "weak_password" in r.stderr, r.stdout + r.stderr
    assert ticket_count(db) == 0
