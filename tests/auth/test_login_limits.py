"""Sign-in limits over a real socket: lockouts per account and per address, the access log, and
a flood of sign-ins that leaves chat intake fast.

Each test signs in from its own loopback address (127.0.0.N), so the per-address counts of one
test never touch another's on the shared server.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from consult119.audit.models import AuditEntry
from consult119.auth.throttle import BASE_LOCKOUT_SECONDS, LoginThrottle
from tests.conftest import LiveServer
from tests.factories import PASSWORD, make_staff

_addresses = itertools.count(2)


@pytest.fixture(scope="module")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = LiveServer(database_url).start(tmp_path_factory.mktemp("login") / "server.log")
    yield live
    live.stop()


@pytest.fixture
def client(server: LiveServer) -> Iterator[httpx.Client]:
    """An HTTP client on a loopback address of its own."""
    address = f"127.0.0.{next(_addresses)}"
    transport = httpx.HTTPTransport(local_address=address)
    with httpx.Client(base_url=server.url, transport=transport, timeout=30) as c:
        c.address = address  # type: ignore[attr-defined]
        yield c


def _sign_in(client: httpx.Client, email: str, password: str) -> httpx.Response:
    return client.post("/api/v1/auth/token", data={"username": email, "password": password})


def _audit(db, action: str) -> list[AuditEntry]:
    with db.read_session() as s:
        return list(
            s.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id))
        )


def test_the_right_password_after_300_wrong_ones_does_not_sign_in(server, client, db):
    doctor = make_staff(db, "doctor")
    answers = [_sign_in(client, doctor.email, f"wrong-{i}") for i in range(299)]
    # However fast the machine, the right password below must meet a lockout with time left:
    # the 300th guess waits for the running lockout to run out (its refusal said how long, in
    # whole seconds rounded up), so it is checked and starts the next, twice as long (at least
    # 2 s), which the right password then meets at once.
    if answers[-1].status_code == 429:
        time.sleep(int(answers[-1].headers["retry-after"]) + 0.2)
    answers.append(_sign_in(client, doctor.email, "wrong-299"))
    codes = [a.status_code for a in answers]
    assert codes[:5] == [401] * 5 and codes[5] == 429  # the free failures, then a lockout
    # Refused unchecked while locked; each lockout that runs out lets one more guess through,
    # and doubles: 1 s, 2 s, 4 s … — a handful of guesses in all, not 300.
    checked = codes.count(401)
    assert set(codes) == {401, 429} and checked <= 16, checked
    r = _sign_in(client, doctor.email, PASSWORD)
    assert r.status_code == 429, r.text
    assert r.json()["detail"]["code"] == "login_throttled"
    assert int(r.headers["retry-after"]) >= 1
    # The account is locked, not only this address.
    other = httpx.Client(
        base_url=server.url,
        transport=httpx.HTTPTransport(local_address=f"127.0.0.{next(_addresses)}"),
        timeout=30,
    )
    with other:
        r = _sign_in(other, doctor.email, PASSWORD)
    assert r.status_code == 429 and r.json()["detail"]["code"] == "login_throttled"

    failed = _audit(db, "auth.failed")
    assert len(failed) == checked
    assert {(e.staff_id, e.client_ip) for e in failed} == {(doctor.id, client.address)}
    assert [e.detail["failures"] for e in failed] == list(range(1, checked + 1))
    # One entry per lockout (and per place it was met), not one per refusal: a flood of
    # refusals writes nothing more. How many lockouts the 300 tries outlast depends on how fast
    # the machine sends them (all within the first second on a fast one), so: at least the
    # first, and at most one per checked guess after the free ones.
    throttled = _audit(db, "auth.throttled")
    assert 1 <= len(throttled) <= checked - 4 + 1, len(throttled)
    assert {e.detail["scope"] for e in throttled} == {"account"}
    with db.read_session() as s:
        logged = " ".join(repr((e.detail, e.client_ip)) for e in s.scalars(select(AuditEntry)))
    assert "wrong-" not in logged and PASSWORD not in logged  # never a password


def test_lockouts_double_and_a_success_starts_the_count_again(server, client, db):
    emt = make_staff(db, "emt")
    for _ in range(5):
        assert _sign_in(client, emt.email, "not-it-at-all").status_code == 401
    r = _sign_in(client, emt.email, PASSWORD)
    assert r.status_code == 429 and r.headers["retry-after"] == "1"
    time.sleep(BASE_LOCKOUT_SECONDS + 0.1)
    assert _sign_in(client, emt.email, "still-not-it").status_code == 401  # the 6th failure
    r = _sign_in(client, emt.email, PASSWORD)
    assert r.status_code == 429 and r.headers["retry-after"] == "2"  # twice as long
    time.sleep(2 * BASE_LOCKOUT_SECONDS + 0.1)
    assert _sign_in(client, emt.email, PASSWORD).status_code == 200
    # The success cleared the account's count: the next wrong password is an ordinary one.
    assert _sign_in(client, emt.email, "a-typo-now").status_code == 401
    assert _sign_in(client, emt.email, PASSWORD).status_code == 200


def test_one_address_guessing_many_accounts_is_locked_out(server, client, db):
    """A spray over many addresses (or accounts that do not exist) meets the per-address limit;
    an unknown account is counted and logged like a real one, without a staff id."""
    for i in range(20):
        r = _sign_in(client, f"nobody{i}@example.org", "guess-guess")
        assert r.status_code == 401, (i, r.text)
    r = _sign_in(client, "nobody-else@example.org", "guess-guess")
    assert r.status_code == 429 and r.json()["detail"]["code"] == "login_throttled"
    assert "retry_after" in r.json()["detail"]
    failed = _audit(db, "auth.failed")
    assert len(failed) == 20 and {e.staff_id for e in failed} == {None}
    assert {e.detail["reason"] for e in failed} == {"unknown_account"}
    assert [e.detail["scope"] for e in _audit(db, "auth.throttled")] == ["address"]


def test_lockouts_grow_exponentially_up_to_the_cap():
    now = [0.0]
    throttle = LoginThrottle(
        account_failures=3, address_failures=100, max_lockout=60, clock=lambda: now[0]
    )
    waits = []
    for _ in range(12):
        assert throttle.check("a@example.org", "10.0.0.1") is None
        throttle.failed("a@example.org", "10.0.0.1")
        lockout = throttle.check("a@example.org", "10.0.0.1")
        waits.append(lockout.retry_after if lockout else 0)
        now[0] += waits[-1]
    assert waits == [0, 0, 1, 2, 4, 8, 16, 32, 60, 60, 60, 60]
    throttle.succeeded("a@example.org")
    assert throttle.check("a@example.org", "10.0.0.1") is None


# --- a flood of sign-ins ----------------------------------------------------------------------


def _rss_peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def _intake_latencies(url: str, n: int, tag: str, gap: float = 0.05) -> list[float]:
    """Seconds per chat intake, one at a time; over Kakao's 5 s is a failure at once."""
    out = []
    with httpx.Client(base_url=url, timeout=5) as c:
        for i in range(n):
            body = {"source": "kakao", "sender_id": f"{tag}-{i}", "message_id": f"{tag}-m{i}"}
            started = time.perf_counter()
            r = c.post("/api/v1/intake/chat", json={**body, "text": "배가 아파요"})
            out.append(time.perf_counter() - started)
            assert r.status_code == 201, r.text
            time.sleep(gap)
    return out


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


async def _flood(url: str, email: str, workers: int, stop: threading.Event) -> dict[int, int]:
    """Wrong passwords from ``workers`` connections as fast as they are answered."""
    seen: dict[int, int] = {}
    limits = httpx.Limits(max_connections=workers)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as c:

        async def worker(n: int) -> None:
            while not stop.is_set():
                r = await c.post(
                    "/api/v1/auth/token", data={"username": email, "password": f"flood-{n}"}
                )
                seen[r.status_code] = seen.get(r.status_code, 0) + 1
                if r.status_code == 429:
                    assert r.json()["detail"]["code"] == "login_busy"
                    assert r.headers["retry-after"] == "1"

        await asyncio.gather(*(worker(n) for n in range(workers)))
    return seen


def test_a_flood_of_sign_ins_leaves_chat_intake_fast_and_memory_flat(start_server, db):
    # Lockouts off (very high thresholds), so every attempt reaches the password check and
    # only the concurrency bound stands between the flood and the server.
    server = start_server(
        CONSULT119_LOGIN_ACCOUNT_FAILURES="1000000", CONSULT119_LOGIN_ADDRESS_FAILURES="1000000"
    )
    doctor = make_staff(db, "doctor")
    _intake_latencies(server.url, 5, "warm")
    base = _intake_latencies(server.url, 30, "base")
    rss_before = _rss_peak_mb(server.proc.pid)

    stop = threading.Event()
    result: dict[str, dict[int, int]] = {}
    flood = threading.Thread(
        target=lambda: result.update(seen=asyncio.run(_flood(server.url, doctor.email, 48, stop)))
    )
    flood.start()
    try:
        time.sleep(1.0)  # let the flood build up
        during = _intake_latencies(server.url, 60, "flood")
    finally:
        stop.set()
        flood.join(60)
    rss_peak = _rss_peak_mb(server.proc.pid)
    seen = result["seen"]
    assert set(seen) <= {401, 429}, seen  # never a 500, never a queue that times out
    assert seen.get(429, 0) > 0 and seen.get(401, 0) > 0, seen
    # Two checks at 64 MiB each at most; unbounded, 48 took gigabytes.
    assert rss_peak - rss_before < 400, (rss_before, rss_peak)
    limit = max(1.0, 10 * _p95(base))
    assert _p95(during) < limit, (_p95(base), _p95(during), seen)
    # The right password still signs in once the flood is over.
    assert doctor.token(server.url)
