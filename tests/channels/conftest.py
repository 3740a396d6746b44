"""Channel test helpers: a real SMTP sink as the outgoing relay, a recording HTTP endpoint
standing in for the LINE and Kakao APIs (which cannot run here), and waiting on conditions."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.conftest import free_port

FIXTURES = Path(__file__).parent / "fixtures"
#: Fast retries so the relay-down-then-up tests finish quickly.
FAST_OUTBOX = {
    "CONSULT119_OUTBOUND_POLL_SECONDS": "0.2",
    "CONSULT119_OUTBOUND_RETRY_BASE_SECONDS": "0.2",
    "CONSULT119_OUTBOUND_RETRY_MAX_SECONDS": "0.5",
}


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def fixture_json(name: str) -> dict[str, Any]:
    return json.loads(fixture_bytes(name))


def wait_for(condition: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    """Poll ``condition`` until it returns something truthy; fail with ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


class _Collect:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.sink.received.append(
            (
                envelope.mail_from,
                list(envelope.rcpt_tos),
                BytesParser(policy=policy.default).parsebytes(
                    envelope.original_content or envelope.content
                ),
            )
        )
        return "250 OK"


@dataclass
class SmtpSink:
    """A real SMTP server (aiosmtpd) that keeps what it receives; start/stop at will."""

    port: int = field(default_factory=free_port)
    received: list = field(default_factory=list)
    controller: Controller | None = None

    @property
    def relay(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> SmtpSink:
        self.controller = Controller(_Collect(self), hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """An SMTP sink on a free port, not yet started."""
    sink = SmtpSink()
    yield sink
    sink.stop()


@dataclass
class Recorder:
    """A loopback HTTP endpoint that records requests and answers from a script of statuses."""

    statuses: list[int] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/push"

    def start(self) -> Recorder:
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                status = recorder.statuses.pop(0) if recorder.statuses else 200
                recorder.requests.append(
                    {
                        "headers": dict(self.headers),
                        "json": json.loads(body or b"{}"),
                        "status": status,
                    }
                )
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"taskId": "task-1"}')

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def delivered(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["status"] < 300]

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    rec = Recorder().start()
    yield rec
    rec.stop()
