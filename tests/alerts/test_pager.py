"""The operator's pager: an escalated alert queues one outbox row of source ``pager`` in the
escalation's transaction, and the dispatcher POSTs it to ``CONSULT119_ALERT_WEBHOOK_URL``
signed like chat intake, retrying until the webhook takes it, exactly once."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from consult119.alerts.models import Alert
from consult119.config import Settings
from consult119.outbound import delivery
from consult119.outbound.models import OutboxItem
from consult119.realtime.models import Event
from consult119.triage import scheduler
from tests.alerts.sink import Sink, body_of, signature_ok
from tests.alerts.test_alerts_live import CHEST_PAIN, post_chat
from tests.conftest import free_port
from tests.factories import make_ticket
from tests.triage.conftest import T0

SEC = timedelta(seconds=1)
SECRET = "pager-secret-7f3a"
CONSOLE = "https://ops.consult119.invalid/console/"


def pager_rows(db) -> list[OutboxItem]:
    with db.read_session() as s:
        return list(
            s.scalars(
                select(OutboxItem).where(OutboxItem.source == "pager").order_by(OutboxItem.id)
            )
        )


def red_flag_alert(db, ticket_id: int) -> Alert:
    with db.read_session() as s:
        return s.scalars(
            select(Alert).where(Alert.ticket_id == ticket_id, Alert.kind == "red_flag")
        ).one()


class TestQueued:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return settings.model_copy(
            update={
                "alert_webhook_url": "http://127.0.0.1:9/hook",
                "console_url": CONSOLE,
                # The unclaimed_critical alert has its own tests (test_unclaimed_critical.py).
                "unclaimed_critical_seconds": 24 * 3600,
            }
        )

    def test_an_escalation_queues_one_pager_row_with_what_a_pager_needs(self, db):
        case = make_ticket(db, CHEST_PAIN, now=T0)  # red flag, rank 2
        assert scheduler.tick(db, now=T0 + 119 * SEC).escalated == []
        assert pager_rows(db) == []
        [alert_id] = scheduler.tick(db, now=T0 + 120 * SEC).escalated
        [row] = pager_rows(db)
        assert row.message_id is None and row.ticket_id == case and row.status == "queued"
        alert = red_flag_alert(db, case)
        body = row.payload
        assert body["alert_id"] == alert_id and body["kind"] == "red_flag"
        assert body["level"] == 2 and body["ticket_id"] == case
        assert body["case_number"] == alert.data["case_number"]
        assert datetime.fromisoformat(body["escalated_at"]) == T0 + 120 * SEC
        assert datetime.fromisoformat(body["raised_at"]) == T0
        assert body["data"] == alert.data and body["console_url"] == CONSOLE
        assert body["after_seconds"] == 120
        assert alert.data["case_number"] in body["summary"]["ko"]
        assert alert.data["case_number"] in body["summary"]["en"]
        assert body["summary"]["ko"] != body["summary"]["en"]
        # Nothing of the traveller's own words goes to the pager.
        assert "아파요" not in json.dumps(body, ensure_ascii=False)
        # Escalated once, paged once, whatever the later ticks.
        assert scheduler.tick(db, now=T0 + 600 * SEC).escalated == []
        assert len(pager_rows(db)) == 1

    def test_a_payload_row_leaves_the_messages_alone(self, db):
        case = make_ticket(db, CHEST_PAIN, now=T0)
        scheduler.tick(db, now=T0 + 120 * SEC)
        with db.read_session() as s:
            events_before = s.scalars(select(Event.id).order_by(Event.id.desc())).first()
        with db.unit_of_work() as s:
            [claim] = delivery.claim_due(
                s, now=T0 + 121 * SEC, lease=timedelta(minutes=2), sources=["pager"]
            )
            assert claim.message_id is None and claim.ticket_id == case
            assert delivery.mark_sent(s, claim, now=T0 + 122 * SEC, external_ref="r-1")
        with db.read_session() as s:
            later = list(s.scalars(select(Event).where(Event.id > events_before)))
        assert [e.name for e in later] == []  # no message.delivery_changed for a payload row
        [row] = pager_rows(db)
        assert row.status == "sent" and row.sent_at == T0 + 122 * SEC and row.external_ref == "r-1"


def test_without_a_webhook_url_an_escalation_queues_nothing(db):
    db.settings.unclaimed_critical_seconds = 24 * 3600
    make_ticket(db, CHEST_PAIN, now=T0)
    assert db.settings.alert_webhook_url is None
    assert len(scheduler.tick(db, now=T0 + 120 * SEC).escalated) == 1
    assert pager_rows(db) == []


def wait_for(condition, what: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def pager_env(url: str) -> dict[str, str]:
    return {
        "CONSULT119_ALERT_WEBHOOK_URL": url,
        "CONSULT119_ALERT_WEBHOOK_SECRET": SECRET,
        "CONSULT119_CONSOLE_URL": CONSOLE,
        "CONSULT119_ESCALATE_AFTER_SECONDS": "1",
        "CONSULT119_SCHEDULER_INTERVAL_SECONDS": "0.2",
        "CONSULT119_OUTBOUND_POLL_SECONDS": "0.2",
        "CONSULT119_OUTBOUND_RETRY_BASE_SECONDS": "0.3",
        "CONSULT119_OUTBOUND_RETRY_MAX_SECONDS": "0.6",
        "CONSULT119_UNCLAIMED_CRITICAL_SECONDS": "3600",
    }


def assert_one_signed_page(sink: Sink, db, case: int) -> None:
    [page] = sink.delivered()
    assert signature_ok(page, SECRET), page["headers"]
    assert page["headers"]["Content-Type"] == "application/json"
    body = body_of(page)
    alert = red_flag_alert(db, case)
    assert body["alert_id"] == alert.id and body["kind"] == "red_flag" and body["level"] == 2
    assert body["ticket_id"] == case and body["case_number"] == alert.data["case_number"]
    assert body["console_url"] == CONSOLE and alert.escalated_at is not None
    [row] = pager_rows(db)
    assert row.status == "sent" and row.message_id is None


def test_escalation_reaches_the_webhook_signed_after_it_answered_503(start_server, db):
    sink = Sink(statuses=[503, 503]).start()
    try:
        server = start_server(**pager_env(sink.url))
        case = post_chat(server, "pager-1", "pager-1-a", CHEST_PAIN)["ticket_id"]
        wait_for(sink.delivered, "the page")
        wait_for(lambda: pager_rows(db)[0].status == "sent", "the page recorded as sent")
        time.sleep(1.5)  # more ticks and dispatcher rounds: nothing may go out again
        assert [r["status"] for r in sink.requests] == [503, 503, 200]
        # Every attempt posted the same bytes under the same signature.
        assert len({r["body"] for r in sink.requests}) == 1
        assert all(signature_ok(r, SECRET) for r in sink.requests)
        assert_one_signed_page(sink, db, case)
        assert SECRET not in server.log_path.read_text(errors="replace")
    finally:
        sink.stop()


def test_a_webhook_refusing_connections_gets_the_page_once_it_is_up(start_server, db):
    port = free_port()
    sink = Sink(port=port)
    server = start_server(**pager_env(f"http://127.0.0.1:{port}/hook"))
    case = post_chat(server, "pager-2", "pager-2-a", CHEST_PAIN)["ticket_id"]

    def failed_attempt() -> bool:
        rows = pager_rows(db)
        return (
            bool(rows)
            and rows[0].attempts >= 1
            and "pager_unreachable" in (rows[0].last_error or "")
        )

    wait_for(failed_attempt, "a refused attempt")
    assert pager_rows(db)[0].status == "queued"
    sink.start()
    try:
        wait_for(sink.delivered, "the page after the webhook came up")
        wait_for(lambda: pager_rows(db)[0].status == "sent", "the page recorded as sent")
        time.sleep(1.5)
        assert len(sink.requests) == 1
        assert_one_signed_page(sink, db, case)
    finally:
        sink.stop()
