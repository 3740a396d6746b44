"""``GET /readyz`` for real: ready on a current schema with the background work running; 503
naming the part that is not, while ``/healthz`` (liveness) stays 200."""

from __future__ import annotations

import httpx
from sqlalchemy import text

from consult119.context import AppContext
from consult119.db import Database
from consult119.readiness import code_head, readiness
from tests.conftest import TEST_SECRET

OLD_REVISION = "0006_webchat_sessions"


def set_revision(db: Database, revision: str) -> None:
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})


def test_ready_only_on_the_current_schema(db, start_server):
    server = start_server()
    ready = httpx.get(f"{server.url}/readyz", timeout=10)
    assert ready.status_code == 200, ready.text
    head = code_head()
    assert ready.json() == {
        "status": "ready",
        "checks": {"schema": "ok", "writer": "ok", "relay": "ok", "scheduler": "ok"},
        "schema": {"database": head, "code": head},
    }
    try:
        # The database at an older revision than this code's (a migration not run).
        set_revision(db, OLD_REVISION)
        stale = httpx.get(f"{server.url}/readyz", timeout=10)
        assert stale.status_code == 503
        body = stale.json()
        assert body["status"] == "not_ready"
        assert body["not_ready"] == ["schema"]
        assert body["checks"]["schema"] == "not_current"
        assert body["schema"] == {"database": OLD_REVISION, "code": head}
        assert httpx.get(f"{server.url}/healthz", timeout=10).status_code == 200  # alive
    finally:
        set_revision(db, head)
    assert httpx.get(f"{server.url}/readyz", timeout=10).status_code == 200


def test_not_ready_while_the_background_work_is_stopped(settings):
    # An app context whose writer has stopped and whose relay and scheduler never started
    # (what a process looks like during shutdown, or after start-up failed half-way).
    db = Database(settings)
    try:
        db.writer.start()
        ctx = AppContext(settings=settings, db=db, signing_key=TEST_SECRET)
        assert readiness(ctx)[1]["checks"]["writer"] == "ok"
        db.writer.stop()
        ready, body = readiness(ctx)
    finally:
        db.dispose()
    assert not ready
    assert body["checks"] == {
        "schema": "ok",
        "writer": "stopped",
        "relay": "stopped",
        "scheduler": "stopped",
    }
    assert body["not_ready"] == ["writer", "relay", "scheduler"]
