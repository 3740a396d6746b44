"""A database that goes away mid-service: requests answer 503 with Retry-After in the reader's
language, never a 500, and no statement parameter (personal data) reaches the log."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest
from sqlalchemy import text

from consult119.config import Settings
from consult119.db import build_engine
from consult119.dberrors import database_unavailable
from consult119.migrate import upgrade
from tests.conftest import PG_ADMIN_URL, LiveServer, _pg_admin_engine, require_postgres


@pytest.fixture
def scratch_database():
    """A PostgreSQL database of this test's own, so it can be dropped under a live server."""
    require_postgres()
    name = f"c119_gone_{uuid.uuid4().hex[:10]}"
    admin = _pg_admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    engine = build_engine(Settings(database_url=url))
    upgrade(engine)
    engine.dispose()

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    yield url, drop
    drop()
    admin.dispose()


def test_intake_answers_503_while_the_database_is_gone(scratch_database, tmp_path):
    url, drop = scratch_database
    log_path = tmp_path / "server.log"
    # Background loops that poll often, so they meet the outage within the test too.
    fast = {
        "CONSULT119_OUTBOUND_POLL_SECONDS": "0.1",
        "CONSULT119_SCHEDULER_INTERVAL_SECONDS": "0.1",
    }
    server = LiveServer(url, env_extra=fast).start(log_path)
    try:
        body = {"source": "kakao", "sender_id": "u1", "message_id": "m1", "text": "숨이 차요"}
        intake = f"{server.url}/api/v1/intake/chat"
        assert httpx.post(intake, json=body, timeout=10).status_code == 201

        drop()
        body = {**body, "message_id": "m2", "text": "PRIVATE-SYMPTOM-TEXT"}
        for locale, words in (("ko", "데이터베이스"), ("en", "database")):
            r = httpx.post(intake, json=body, headers={"Accept-Language": locale}, timeout=10)
            assert r.status_code == 503, r.text
            assert r.json()["detail"]["code"] == "database_unavailable"
            assert words in r.json()["detail"]["message"]
            assert r.headers["retry-after"] == "1"
            assert r.headers["content-language"] == locale
        assert httpx.get(f"{server.url}/healthz", timeout=10).status_code == 503
        assert httpx.get(f"{server.url}/readyz", timeout=10).status_code == 503
        time.sleep(1)  # some rounds of the outbox and the scheduler
        # The outage is counted, and the metrics still answer (without the database's gauges).
        metrics = httpx.get(f"{server.url}/metrics", timeout=10)
        assert metrics.status_code == 200
        errors = next(
            float(line.rsplit(" ", 1)[1])
            for line in metrics.text.splitlines()
            if line.startswith('consult119_database_errors_total{kind="unavailable"}')
        )
        assert errors >= 2  # the two refused intakes at least
        assert "consult119_open_cases{" not in metrics.text
    finally:
        server.stop()
    log = log_path.read_text()
    assert "POST /api/v1/intake/chat: database unavailable (OperationalError" in log
    assert "PRIVATE-SYMPTOM-TEXT" not in log
    assert "outbox round failed: database unavailable" in log
    assert "scheduler tick failed: database unavailable" in log
    assert "Traceback" not in log  # an outage is one line, in the background loops too


def test_a_bug_is_not_taken_for_an_outage():
    import sqlite3

    from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

    assert database_unavailable(OperationalError("select", {}, sqlite3.OperationalError("locked")))
    assert not database_unavailable(
        ProgrammingError("select", {}, sqlite3.ProgrammingError("no such column"))
    )
    assert not database_unavailable(
        IntegrityError("insert", {}, sqlite3.IntegrityError("NOT NULL constraint failed"))
    )
    assert not database_unavailable(ValueError("bad input"))
