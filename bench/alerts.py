"""Time from cause to alert on every console, p99.

The cause is a traveller's message with a red flag (a chat intake); the alert is the
``alert.raised`` frame on each open console. The baseline, measured in the same run on the same
rounds and consoles, is the ``ticket.created`` frame of the same intake: the event every console
already got before alerts existed. The ratio says what raising the alert adds to it.

    .venv/bin/python bench/alerts.py                    # 50 consoles, 20 rounds, SQLite
    .venv/bin/python bench/alerts.py --consoles 200 --rounds 30 --backend postgresql

Loopback only; the clients run in this process on the same machine, so compare the ratio, not
the absolute values across machines. Every phase has a deadline, so the run always ends.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

import httpx
from websockets.asyncio.client import connect

from _server import SECRET, percentile, scratch_database, spawn_server, stop_server

PASSWORD = "bench-password-123"
DEADLINE = 60.0
TEXT = "가슴이 아파요"  # chest pain: a red flag, so every new case raises an alert


def prepare(url: str) -> None:
    from consult119.config import Settings
    from consult119.db import Database, build_engine, utcnow
    from consult119.migrate import upgrade
    from consult119.staff.service import create_staff

    settings = Settings(database_url=url, secret_key=SECRET)
    engine = build_engine(settings)
    upgrade(engine)
    engine.dispose()
    db = Database(settings)
    with db.unit_of_work() as s:
        create_staff(
            s,
            email="doctor@bench.example",
            name="Bench Doctor",
            role="doctor",
            password=PASSWORD,
            now=utcnow(),
        )
    db.dispose()


async def console(url: str, token: str, ready: asyncio.Event, seen: dict, n_ready: list) -> None:
    """One console: authenticate, then note when each round's two frames arrive."""
    async with connect(url, max_size=None) as ws:
        await ws.send(json.dumps({"type": "auth", "token": token}))
        async for raw in ws:
            frame = json.loads(raw)
            if frame.get("type") == "ready":
                n_ready[0] += 1
                ready.set()
            if frame.get("type") != "event":
                continue
            name = frame["name"]
            if name in ("ticket.created", "alert.raised"):
                seen.setdefault((frame["ticket_id"], name), []).append(time.perf_counter())
            if name == "bench.stop":
                return


async def run(backend: str, consoles: int, rounds: int) -> None:
    with scratch_database(backend) as url, tempfile.TemporaryDirectory() as tmp:
        prepare(url)
        log = open(Path(tmp) / "server.log", "wb")  # noqa: SIM115 - the server writes it
        proc, base = spawn_server(url, stderr=log)
        try:
            token = httpx.post(
                f"{base}/api/v1/auth/token",
                data={"username": "doctor@bench.example", "password": PASSWORD},
            ).json()["access_token"]
            ws_url = base.replace("http", "ws") + "/ws/console"
            seen: dict = {}
            ready, n_ready = asyncio.Event(), [0]
            tasks = [
                asyncio.create_task(console(ws_url, token, ready, seen, n_ready))
                for _ in range(consoles)
            ]
            deadline = time.monotonic() + DEADLINE
            while n_ready[0] < consoles:
                assert time.monotonic() < deadline, "consoles did not get ready"
                await asyncio.sleep(0.05)
            created: list[float] = []
            raised: list[float] = []
            async with httpx.AsyncClient(base_url=base, timeout=30) as client:
                for r in range(rounds):
                    sent = time.perf_counter()
                    answer = await client.post(
                        "/api/v1/intake/chat",
                        json={
                            "source": "telegram",
                            "sender_id": f"bench-{r}",
                            "message_id": f"bench-{r}-1",
                            "text": TEXT,
                        },
                    )
                    case = answer.json()["ticket_id"]
                    end = time.monotonic() + DEADLINE
                    while (
                        len(seen.get((case, "alert.raised"), ())) < consoles
                        or len(seen.get((case, "ticket.created"), ())) < consoles
                    ):
                        assert time.monotonic() < end, f"round {r}: not every console got it"
                        await asyncio.sleep(0.005)
                    created += [t - sent for t in seen[(case, "ticket.created")]]
                    raised += [t - sent for t in seen[(case, "alert.raised")]]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            stop_server(proc)
            log.close()
    ms = lambda v: f"{v * 1000:8.1f}"  # noqa: E731
    print(f"{backend}, {consoles} consoles, {rounds} rounds (ms from the intake's send)")
    print(f"{'frame':<30}{'p50':>8}{'p99':>9}{'max':>9}")
    for label, values in (
        ("ticket.created (baseline)", created),
        ("alert.raised (cause → alert)", raised),
    ):
        p50, p99 = percentile(values, 50), percentile(values, 99)
        print(f"{label:<30}{ms(p50)}{ms(p99)} {ms(max(values))}")
    print(f"p99 ratio alert / baseline: {percentile(raised, 99) / percentile(created, 99):.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--consoles", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    asyncio.run(run(args.backend, args.consoles, args.rounds))


if __name__ == "__main__":
    main()
