"""Sign-in flood: chat intake latency and server memory while wrong passwords pour in.

For each configuration a live ``consult119 serve`` (SQLite, loopback) first answers chat intakes
one at a time with nothing else going on (the baseline, measured in the same run), then again
while a separate process sends wrong passwords for one account from ``--workers`` connections as
fast as they are answered. Printed: intake p50/p99 unloaded and during the flood, the flood's
figures as multiples of the baseline, sign-in answers per second by status, and the server's
peak RSS (VmHWM) before and by the end of the flood.

Configurations: ``CONSULT119_LOGIN_CONCURRENCY=40`` with lockouts off is what an unbounded
route did (FastAPI's 40 worker threads each running Argon2 at 64 MiB); ``2`` with lockouts off
shows the concurrency bound alone; the defaults add the lockouts, which refuse the flood
unchecked after a few failures.

    .venv/bin/python bench/login_flood.py [--seconds 15] [--workers 48]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import tempfile
import time
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

from _server import SECRET, percentile, spawn_server, stop_server

PASSWORD = "bench-password-123"
EMAIL = "doctor@bench.example"
NO_LOCKOUTS = {
    "CONSULT119_LOGIN_ACCOUNT_FAILURES": "1000000",
    "CONSULT119_LOGIN_ADDRESS_FAILURES": "1000000",
}
CONFIGS = [
    ("unbounded (40 at once, no lockouts)", {"CONSULT119_LOGIN_CONCURRENCY": "40", **NO_LOCKOUTS}),
    ("bound of 2, no lockouts", {"CONSULT119_LOGIN_CONCURRENCY": "2", **NO_LOCKOUTS}),
    ("defaults (bound of 2, lockouts)", {}),
]


def make_database(tmp: Path) -> str:
    from consult119.config import Settings
    from consult119.db import Database, build_engine, utcnow
    from consult119.migrate import upgrade
    from consult119.staff.service import create_staff

    url = f"sqlite:///{tmp / 'bench.db'}"
    settings = Settings(database_url=url, secret_key=SECRET)
    engine = build_engine(settings)
    upgrade(engine)
    engine.dispose()
    db = Database(settings)
    with db.unit_of_work() as s:
        create_staff(
            s, email=EMAIL, name="Bench Doctor", role="doctor", password=PASSWORD, now=utcnow()
        )
    db.dispose()
    return url


def rss_peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def intakes(
    url: str, tag: str, *, n: int | None = None, seconds: float | None = None
) -> list[float]:
    """Milliseconds per chat intake, one at a time, 20 ms apart."""
    out: list[float] = []
    deadline = time.monotonic() + (seconds or 0)
    with httpx.Client(base_url=url, timeout=30) as c:
        i = 0
        while (n is not None and i < n) or (seconds is not None and time.monotonic() < deadline):
            body = {
                "source": "kakao",
                "sender_id": f"{tag}-{i}",
                "message_id": f"{tag}-{i}",
                "text": "배가 아파요",
            }
            started = time.perf_counter()
            r = c.post("/api/v1/intake/chat", json=body)
            out.append((time.perf_counter() - started) * 1000)
            r.raise_for_status()
            i += 1
            time.sleep(0.02)
    return out


def flood(url: str, workers: int, seconds: float, results) -> None:
    """Wrong passwords from ``workers`` connections for ``seconds`` (in its own process, so
    the client's work does not slow the intake timings)."""

    async def main() -> dict[int, int]:
        seen: dict[int, int] = {}
        stop = time.monotonic() + seconds
        limits = httpx.Limits(max_connections=workers)
        async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as c:

            async def worker(n: int) -> None:
                while time.monotonic() < stop:
                    try:
                        r = await c.post(
                            "/api/v1/auth/token", data={"username": EMAIL, "password": f"x-{n}"}
                        )
                        seen[r.status_code] = seen.get(r.status_code, 0) + 1
                    except httpx.HTTPError:
                        seen[0] = seen.get(0, 0) + 1

            await asyncio.gather(*(worker(n) for n in range(workers)))
        return seen

    results.put(asyncio.run(main()))


def run(name: str, env: dict[str, str], url: str, seconds: float, workers: int) -> dict:
    proc, base = spawn_server(url, **env)
    try:
        intakes(base, f"{name[:4]}-warm", n=10)
        unloaded = intakes(base, f"{name[:4]}-base", n=100)
        rss_before = rss_peak_mb(proc.pid)
        results: multiprocessing.Queue = multiprocessing.get_context("spawn").Queue()
        flooder = multiprocessing.get_context("spawn").Process(
            target=flood, args=(base, workers, seconds + 2, results)
        )
        flooder.start()
        time.sleep(1.5)  # let it build up
        during = intakes(base, f"{name[:4]}-flood", seconds=seconds)
        seen = results.get(timeout=120)
        flooder.join(30)
        rss_after = rss_peak_mb(proc.pid)
    finally:
        stop_server(proc)
    return {
        "name": name,
        "base": (percentile(unloaded, 50), percentile(unloaded, 99)),
        "flood": (percentile(during, 50), percentile(during, 99)),
        "n": len(during),
        "seen": seen,
        "rss": (rss_before, rss_after),
        "seconds": seconds + 2,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--workers", type=int, default=48)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        url = make_database(Path(tmp))
        for name, env in CONFIGS:
            rows.append(run(name, env, url, args.seconds, args.workers))
    table = Table(
        title=f"Chat intake during a sign-in flood ({args.workers} connections, {args.seconds:.0f} s, SQLite)"
    )
    for col in (
        "configuration",
        "intake p50 / p99 unloaded (ms)",
        "p50 / p99 in the flood (ms)",
        "p50 / p99 as × unloaded",
        "sign-ins answered /s (401 · 429)",
        "peak RSS before → end (MB)",
    ):
        table.add_column(col)
    for r in rows:
        (b50, b99), (f50, f99) = r["base"], r["flood"]
        seen = r["seen"]
        per_s = {k: v / r["seconds"] for k, v in seen.items()}
        answered = f"{per_s.get(401, 0):,.0f} · {per_s.get(429, 0):,.0f}"
        if seen.get(0):
            answered += f" (+{seen[0]} errors)"
        table.add_row(
            r["name"],
            f"{b50:.1f} / {b99:.1f}",
            f"{f50:.1f} / {f99:.1f}",
            f"{f50 / b50:.1f}× / {f99 / b99:.1f}×",
            answered,
            f"{r['rss'][0]:,.0f} → {r['rss'][1]:,.0f}",
        )
    Console().print(table)


if __name__ == "__main__":
    main()
