"""Intake benchmark: new cases per second and latency at a fixed offered rate.

For each database (SQLite, PostgreSQL) a live ``consult119 serve`` runs on loopback. Measured in
the same run, as baselines: the database's raw insert-and-commit rate (one row, one commit,
through SQLAlchemy — the floor every acknowledged message pays) and the same server's
``/healthz`` rate (the HTTP stack alone). Prints a table.

    .venv/bin/python bench/intake.py [--requests 3000] [--concurrency 32] [--rate 100] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid

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
            conn.execute(text("INSERT INTO bench_raw (id, body) VALUES (:i, :b)"),
                         {"i": i, "b": "x" * 64})
    rate = n / (time.perf_counter() - start)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE bench_raw"))
    engine.dispose()
    return rate


async def closed_loop(url: str, n: int, concurrency: int, make_request) -> tuple[float, list[float]]:
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
    async with httpx.AsyncClient(base_url=url, timeout=30,
                                 limits=httpx.Limits(max_connections=200)) as client:

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


def new_case(run: str):
    async def make(client: httpx.AsyncClient, i: int) -> httpx.Response:
        return await client.post("/api/v1/intake/chat", json={
            "source": "kakao", "sender_id": f"{run}-{i}", "message_id": f"{run}-m{i}",
            "text": "배가 아프고 열이 나요 / stomach pain and fever"})
    return make


async def healthz(client: httpx.AsyncClient, _: int) -> httpx.Response:
    return await client.get("/healthz")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="requests per closed-loop run")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rate", type=float, default=100.0, help="offered rate for latency, /s")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the latency run")
    parser.add_argument("--raw", type=int, default=2000, help="raw insert-and-commit rows")
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()

    table = Table(title="Intake: one server process, loopback, 2 cores (client on the same box)")
    for col in ("database", "measure", "rate /s", "p50 ms", "p99 ms", "vs baseline"):
        table.add_column(col, justify="right" if col not in ("database", "measure") else "left")
    for backend in args.backends.split(","):
        with scratch_database(backend) as url, live_server(url) as base:
            raw = raw_commit_rate(url, args.raw)
            hz_rate, hz_lat = asyncio.run(closed_loop(base, args.requests, args.concurrency, healthz))
            run = uuid.uuid4().hex[:6]
            rate, lat = asyncio.run(closed_loop(base, args.requests, args.concurrency, new_case(run)))
            fixed = asyncio.run(open_loop(base, args.rate, args.seconds, new_case(run + "o")))
        table.add_row(backend, "raw insert+commit (baseline)", f"{raw:,.0f}", "", "", "1.00")
        table.add_row(backend, "GET /healthz (HTTP baseline)", f"{hz_rate:,.0f}",
                      f"{percentile(hz_lat, 50):.1f}", f"{percentile(hz_lat, 99):.1f}",
                      f"{hz_rate / raw:.2f}")
        table.add_row(backend, f"new cases, {args.concurrency} concurrent", f"{rate:,.0f}",
                      f"{percentile(lat, 50):.1f}", f"{percentile(lat, 99):.1f}",
                      f"{rate / raw:.2f} raw, {rate / hz_rate:.2f} healthz")
        table.add_row(backend, f"new cases at {args.rate:.0f}/s offered", f"{args.rate:.0f}",
                      f"{percentile(fixed, 50):.1f}", f"{percentile(fixed, 99):.1f}", "")
    Console().print(table)


if __name__ == "__main__":
    main()
