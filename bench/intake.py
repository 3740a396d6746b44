"""Intake benchmark: new cases per second and latency at a fixed offered rate.

For each database (SQLite, PostgreSQL) a live ``consult119 serve`` runs on loopback. Measured in
the same run, as baselines: the database's raw insert-and-commit rate (one row, one commit,
through SQLAlchemy — the floor every acknowledged message pays) and the same server's
``/healthz`` rate (the HTTP stack alone). A second server with ``CONSULT119_GROUP_COMMIT_MAX=1``
commits every intake alone, to show what group commit is worth. Prints a table.

    .venv/bin/python bench/intake.py [--seconds 10] [--concurrency 32] [--rate 100]

The closed-loop runs use wrk (``apt-get install wrk``) when it is installed — a Python client
on the same two cores would measure itself — and fall back to httpx otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy import text

from _server import live_server, percentile, scratch_database
from consult119.config import Settings
from consult119.db import build_engine


def raw_commit_rate(database_url: str, n: int) -> float:
    """Rows inserted and committed one by one per second, with the server's engine settings."""
    engine = build_engine(Settings(database_url=database_url))
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE bench_raw (id INTEGER PRIMARY KEY, body TEXT)"))
    start = time.perf_counter()
    for i in range(n):
        with engine.begin() as conn:
            conn.execute(
                text("INSERT INTO bench_raw (id, body) VALUES (:i, :b)"), {"i": i, "b": "x" * 64}
            )
    rate = n / (time.perf_counter() - start)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE bench_raw"))
    engine.dispose()
    return rate


async def closed_loop(
    url: str, n: int, concurrency: int, make_request
) -> tuple[float, list[float]]:
    """``n`` requests from ``concurrency`` workers as fast as answered: (rate, latencies ms)."""
    latencies: list[float] = []
    counter = iter(range(n))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:

        async def worker() -> None:
            for i in counter:
                t0 = time.perf_counter()
                r = await make_request(client, i)
                latencies.append((time.perf_counter() - t0) * 1000)
                if r.status_code >= 400:
                    raise RuntimeError(f"{r.status_code}: {r.text[:200]}")

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return n / (time.perf_counter() - start), latencies


async def open_loop(url: str, rate: float, seconds: float, make_request) -> list[float]:
    """Requests sent at a fixed offered rate regardless of answers; latencies in ms."""
    latencies: list[float] = []
    total = int(rate * seconds)
    async with httpx.AsyncClient(
        base_url=url, timeout=30, limits=httpx.Limits(max_connections=200)
    ) as client:

        async def one(i: int) -> None:
            t0 = time.perf_counter()
            r = await make_request(client, i)
            latencies.append((time.perf_counter() - t0) * 1000)
            if r.status_code >= 400:
                raise RuntimeError(f"{r.status_code}: {r.text[:200]}")

        start = time.perf_counter()
        tasks = []
        for i in range(total):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i)))
        await asyncio.gather(*tasks)
    return latencies


WRK_NEW_CASE = """
-- Each wrk thread has its own Lua state: number the threads so ids never repeat across them.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
counter = 0
request = function()
  counter = counter + 1
  local id = "%s-" .. tid .. "-" .. counter
  local body = '{"source":"kakao","sender_id":"s' .. id .. '","message_id":"m' .. id ..
    '","text":"stomach pain and fever"}'
  return wrk.format("POST", "/api/v1/intake/chat", {["Content-Type"]="application/json"}, body)
end
"""


def wrk_closed_loop(
    url: str, path: str, seconds: float, concurrency: int, script: str | None = None
) -> tuple[float, float, float]:
    """Run wrk (C, two threads) as the load generator: (rate, p50 ms, p99 ms).

    A Python client tops out near the server's own rate on two cores; wrk does not.
    """
    cmd = ["wrk", "-t2", f"-c{concurrency}", f"-d{max(1, int(seconds))}s", "--latency"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        if script:
            fh.write(script)
            cmd += ["-s", fh.name]
    out = subprocess.run(
        [*cmd, url + path], capture_output=True, text=True, timeout=seconds + 60, check=True
    ).stdout
    Path(fh.name).unlink()
    if "Non-2xx" in out:
        raise RuntimeError(out)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def pct(label: str) -> float:
        value, unit = re.search(rf"\s{label}%\s+([\d.]+)(us|ms|s)", out).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    return rate, pct("50"), pct("99")


def new_case(run: str):
    async def make(client: httpx.AsyncClient, i: int) -> httpx.Response:
        return await client.post(
            "/api/v1/intake/chat",
            json={
                "source": "kakao",
                "sender_id": f"{run}-{i}",
                "message_id": f"{run}-m{i}",
                "text": "배가 아프고 열이 나요 / stomach pain and fever",
            },
        )

    return make


async def healthz(client: httpx.AsyncClient, _: int) -> httpx.Response:
    return await client.get("/healthz")


def measure(
    use_wrk: bool,
    base: str,
    args: argparse.Namespace,
    make_request,
    path: str,
    script: str | None = None,
) -> tuple[float, float, float]:
    """A closed-loop run: (rate, p50 ms, p99 ms), with wrk when installed."""
    if use_wrk:
        return wrk_closed_loop(base, path, args.seconds, args.concurrency, script)
    rate, lat = asyncio.run(closed_loop(base, args.requests, args.concurrency, make_request))
    return rate, percentile(lat, 50), percentile(lat, 99)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="requests per closed-loop run")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rate", type=float, default=100.0, help="offered rate for latency, /s")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the latency run")
    parser.add_argument("--raw", type=int, default=2000, help="raw insert-and-commit rows")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument(
        "--no-wrk", action="store_true", help="use the Python client even if wrk exists"
    )
    args = parser.parse_args()
    use_wrk = shutil.which("wrk") is not None and not args.no_wrk
    client = "wrk" if use_wrk else "httpx (install wrk for a client that is not the bottleneck)"

    table = Table(title="Intake: one server process, loopback, 2 cores (client on the same box)")
    for col in ("database", "measure", "rate /s", "p50 ms", "p99 ms", "vs baseline"):
        table.add_column(col, justify="right" if col not in ("database", "measure") else "left")
    for backend in args.backends.split(","):
        with scratch_database(backend) as url, live_server(url) as base:
            raw = raw_commit_rate(url, args.raw)
            run = uuid.uuid4().hex[:6]
            hz = measure(use_wrk, base, args, healthz, "/healthz")
            new = measure(use_wrk, base, args, new_case(run), "/", WRK_NEW_CASE % run)
            fixed = asyncio.run(open_loop(base, args.rate, args.seconds, new_case(run + "o")))
        # The same server committing every intake alone: what group commit is worth.
        with (
            scratch_database(backend) as url,
            live_server(url, CONSULT119_GROUP_COMMIT_MAX="1") as base,
        ):
            run = uuid.uuid4().hex[:6]
            alone = measure(use_wrk, base, args, new_case(run), "/", WRK_NEW_CASE % run)
        table.add_row(backend, "raw insert+commit (baseline)", f"{raw:,.0f}", "", "", "1.00")
        table.add_row(
            backend,
            "GET /healthz (HTTP baseline)",
            f"{hz[0]:,.0f}",
            f"{hz[1]:.1f}",
            f"{hz[2]:.1f}",
            f"{hz[0] / raw:.2f}",
        )
        table.add_row(
            backend,
            f"new cases, {args.concurrency} concurrent",
            f"{new[0]:,.0f}",
            f"{new[1]:.1f}",
            f"{new[2]:.1f}",
            f"{new[0] / raw:.2f} raw, {new[0] / hz[0]:.2f} healthz",
        )
        table.add_row(
            backend,
            "  same, each committed alone",
            f"{alone[0]:,.0f}",
            f"{alone[1]:.1f}",
            f"{alone[2]:.1f}",
            f"{alone[0] / new[0]:.2f} grouped",
        )
        table.add_row(
            backend,
            f"new cases at {args.rate:.0f}/s offered",
            f"{args.rate:.0f}",
            f"{percentile(fixed, 50):.1f}",
            f"{percentile(fixed, 99):.1f}",
            "",
        )
    Console().print(table)
    Console().print(f"closed-loop client: {client}; fixed-rate client: httpx")


if __name__ == "__main__":
    main()
