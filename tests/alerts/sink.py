"""A loopback webhook sink: a real HTTP server on 127.0.0.1 that keeps each request's raw
body and headers and answers from a script of statuses (then 200)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Sink:
    port: int = 0
    statuses: list[int] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        port = self.server.server_address[1] if self.server is not None else self.port
        return f"http://127.0.0.1:{port}/hook"

    def start(self) -> Sink:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with sink.lock:
                    status = sink.statuses.pop(0) if sink.statuses else 200
                    sink.requests.append(
                        {"headers": dict(self.headers), "body": body, "status": status}
                    )
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def delivered(self) -> list[dict[str, Any]]:
        with self.lock:
            return [r for r in self.requests if r["status"] < 300]

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


def signature_ok(request: dict[str, Any], secret: str) -> bool:
    """Whether the request carries ``sha256=<hex HMAC-SHA256 of its exact body>``, computed
    here independently of the code under test."""
    want = "sha256=" + hmac.new(secret.encode(), request["body"], hashlib.sha256).hexdigest()
    return request["headers"].get("X-Consult119-Signature") == want


def body_of(request: dict[str, Any]) -> dict[str, Any]:
    return json.loads(request["body"])
