"""``serve --log-format json``: the real server's log is one JSON object per line, each request
has an id (the caller's, when sane) that is also the response header, and neither personal
data nor secrets reach the log."""

from __future__ import annotations

import json

import httpx

from tests.conftest import TEST_SECRET

FIELDS = {"time", "level", "logger", "message", "request_id", "route", "status", "duration_ms"}


def test_json_lines_with_request_ids(start_server, tmp_path):
    server = start_server(
        args=("--log-format", "json"), log_level="info", CONSULT119_METRICS_TOKEN="tok-SECRET-42"
    )
    body = {
        "source": "kakao",
        "sender_id": "PRIVATE-SENDER-ID",
        "message_id": "m1",
        "text": "PRIVATE-SYMPTOM-TEXT",
        "sender_name": "PRIVATE-NAME",
    }
    taken = httpx.post(
        f"{server.url}/api/v1/intake/chat",
        json=body,
        headers={"X-Request-ID": "trace-abc.1"},
        timeout=10,
    )
    assert taken.status_code == 201
    assert taken.headers["x-request-id"] == "trace-abc.1"
    # No sign-in: a refusal carries an id too; the route is logged as its template.
    refused = httpx.get(
        f"{server.url}/api/v1/tickets/4242", headers={"X-Request-ID": "x" * 200}, timeout=10
    )
    assert refused.status_code == 401
    generated = refused.headers["x-request-id"]
    assert generated != "x" * 200 and len(generated) == 32  # not a sane id: a new one
    searched = httpx.get(f"{server.url}/api/v1/tickets", params={"q": "PRIVATE-SEARCH"}, timeout=10)
    assert searched.headers["x-request-id"]
    server.stop()

    assert server.log_path is not None
    lines = [line for line in server.log_path.read_text().splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    assert entries
    for entry in entries:
        assert set(entry) >= FIELDS, entry
    access = {e["request_id"]: e for e in entries if e["logger"] == "consult119.access"}
    intake = access["trace-abc.1"]
    assert intake["route"] == "/api/v1/intake/chat"
    assert intake["status"] == 201
    assert intake["level"] == "INFO"
    assert isinstance(intake["duration_ms"], float) and intake["duration_ms"] > 0
    assert intake["time"].endswith("Z")
    ticket = access[generated]
    assert ticket["route"] == "/api/v1/tickets/{ticket_id}"
    assert ticket["status"] == 401
    assert any(e["route"] == "/api/v1/tickets" for e in access.values())
    assert any(e["logger"].startswith("uvicorn") for e in entries)  # the server's own lines too

    log = server.log_path.read_text()
    for private in ("PRIVATE-SENDER-ID", "PRIVATE-SYMPTOM-TEXT", "PRIVATE-NAME", "PRIVATE-SEARCH"):
        assert private not in log
    assert "4242" not in log  # the path's ids stay out: the route's template is logged
    assert TEST_SECRET not in log and "tok-SECRET-42" not in log
    # uvicorn's access line (client address and port, raw path and query) is off in this mode.
    assert not any(e["logger"] == "uvicorn.access" for e in entries)
