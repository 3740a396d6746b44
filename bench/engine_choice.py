"""Why the engine is synchronous: one small intake-like transaction, sync vs async drivers.

FastAPI runs a sync route in its thread pool; an async route awaits an async driver. This
measures the same transaction (INSERT … RETURNING, a SELECT, COMMIT) both ways, driven the way
the app drives it — many concurrent requests on one event loop — on SQLite (sqlite3 vs
aiosqlite) and PostgreSQL (psycopg 3 sync vs async). Prints a table; the sync engine is the
baseline. Needs the ``aiosqlite`` package for the async SQLite row.

    .venv/bin/python bench/engine_choice.py [--transactions 3000] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import threading
import time

import anyio.to_thread
from rich.console import Console
from rich.table import Table
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from _server import scratch_database
from consult119.config import Settings
from consult119.db import build_engine

DDL = "CREATE TABLE bench_tx (id INTEGER PRIMARY KEY, body TEXT NOT NULL)"
INSERT = text("INSERT INTO bench_tx (id, body) VALUES (:i, :b) RETURNING id")
SELECT = text("SELECT count(*) FROM bench_tx WHERE id = :i")


async def run_sync(url: str, n: int, concurrency: int) -> float:
    engine = build_engine(Settings(database_url=url))
    with engine.begin() as conn:
        conn.execute(text(DDL))
    lock = threading.Lock() if url.startswith("sqlite") else None  # as db.Database does
    ids = iter(range(n))

    def tx(i: int) -> None:
        if lock:
            lock.acquire()
        try:
            with engine.begin() as conn:
                conn.execute(INSERT, {"i": i, "b": "x" * 64})
                conn.execute(SELECT, {"i": i})
        finally:
            if lock:
                lock.release()

    async def worker() -> None:
        for i in ids:
            await anyio.to_thread.run_sync(tx, i)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    rate = n / (time.perf_counter() - start)
    engine.dispose()
    return rate


async def run_async(url: str, n: int, concurrency: int) -> float:
    if url.startswith("sqlite"):
        aurl = url.replace("sqlite://", "sqlite+aiosqlite://")
    else:
        aurl = "postgresql+psycopg://" + url.split("://", 1)[1]
    engine = create_async_engine(aurl)
    async with engine.begin() as conn:
        await conn.execute(text(DDL))
    lock = asyncio.Lock() if url.startswith("sqlite") else None
    ids = iter(range(n))

    async def worker() -> None:
        for i in ids:
            if lock:
                await lock.acquire()
            try:
                async with engine.begin() as conn:
                    await conn.execute(INSERT, {"i": i, "b": "x" * 64})
                    await conn.execute(SELECT, {"i": i})
            finally:
                if lock:
                    lock.release()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    rate = n / (time.perf_counter() - start)
    await engine.dispose()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    table = Table(title="Small write transactions per second, concurrent on one event loop")
    for col in ("database", "sync engine in thread pool", "async engine", "async / sync"):
        table.add_column(col, justify="left" if col == "database" else "right")
    for backend in args.backends.split(","):
        with scratch_database(backend) as url:
            sync_rate = asyncio.run(run_sync(url, args.transactions, args.concurrency))
        with scratch_database(backend) as url:
            async_rate = asyncio.run(run_async(url, args.transactions, args.concurrency))
        table.add_row(
            backend, f"{sync_rate:,.0f}", f"{async_rate:,.0f}", f"{async_rate / sync_rate:.2f}"
        )
    Console().print(table)


if __name__ == "__main__":
    main()
