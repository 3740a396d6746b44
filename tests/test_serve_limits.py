"""``consult119 serve``'s own limits over real sockets: a header deadline, a header size limit,
and X-Forwarded-For believed only from configured proxies (docs/security.md, "Input limits")."""

from __future__ import annotations

import socket
import time

import httpx
import pytest

from tests.conftest import LiveServer
from tests.factories import make_staff, make_ticket

HEADER_TIMEOUT = 1.0


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server on its own SQLite file (no database work here) with a short header deadline."""
    folder = tmp_path_factory.mktemp("serve-limits")
    live = LiveServer(
        f"sqlite:///{folder / 'serve.db'}",
        env_extra={"CONSULT119_HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT)},
    )
    live.start(folder / "server.log")
    yield live
    live.stop()


def closed_after(sock: socket.socket, limit: float, trickle: bytes = b"") -> float | None:
    """Seconds until the server closes ``sock`` (None if still open after ``limit``), sending
    ``trickle`` a byte at a time meanwhile, as a slow client would."""
    started = time.monotonic()
    sock.settimeout(0.2)
    sent = 0
    while time.monotonic() - started < limit:
        try:
            if sock.recv(4096) == b"":
                return time.monotonic() - started
        except TimeoutError:
            pass
        except ConnectionResetError:
            return time.monotonic() - started
        if sent < len(trickle):
            try:
                sock.sendall(trickle[sent : sent + 1])
            except (BrokenPipeError, ConnectionResetError):
                return time.monotonic() - started
            sent += 1
    return None


def test_a_client_that_never_finishes_its_headers_is_closed(server):
    # Half a request, then nothing.
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        took = closed_after(sock, HEADER_TIMEOUT + 4)
    assert took is not None and took < HEADER_TIMEOUT + 2, took
    # Half a request, then a byte every 0.2 s: the deadline counts from the connection, not
    # from the last byte.
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\n")
        took = closed_after(sock, HEADER_TIMEOUT + 4, trickle=b"X-Slow: " + b"a" * 100)
    assert took is not None and took < HEADER_TIMEOUT + 2, took
    # Connected, nothing sent at all.
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        took = closed_after(sock, HEADER_TIMEOUT + 4)
    assert took is not None and took < HEADER_TIMEOUT + 2, took
    # A client that is merely slow between requests keeps its keep-alive connection, and a
    # normal request is untouched.
    with httpx.Client(base_url=server.url) as client:
        assert client.get("/healthz").status_code == 200
        time.sleep(HEADER_TIMEOUT / 2)
        assert client.get("/healthz").status_code == 200


def test_headers_over_the_limit_are_431(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n")
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 431"), answer[:200]
    assert httpx.get(f"{server.url}/healthz", timeout=5).status_code == 200


def _client_ip_of_a_view(server: LiveServer, db) -> str | None:
    doctor = make_staff(db, "doctor", on_duty=True)
    admin = make_staff(db, "admin")
    ticket_id = make_ticket(db)
    r = httpx.get(
        f"{server.url}/api/v1/tickets/{ticket_id}",
        headers={**doctor.headers(server.url), "X-Forwarded-For": "203.0.113.9"},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    log = httpx.get(
        f"{server.url}/api/v1/audit",
        params={"ticket_id": ticket_id},
        headers=admin.headers(server.url),
        timeout=10,
    ).json()["items"]
    assert [e["action"] for e in log] == ["ticket.view"]
    return log[0]["client_ip"]


def test_forwarded_for_is_not_believed_until_a_proxy_is_configured(start_server, db):
    assert _client_ip_of_a_view(start_server(), db) == "127.0.0.1"


def test_forwarded_for_is_believed_from_a_configured_proxy(start_server, db):
    server = start_server(CONSULT119_TRUSTED_PROXIES="10.0.0.7, 127.0.0.1")
    assert _client_ip_of_a_view(server, db) == "203.0.113.9"
