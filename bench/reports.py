"""Benchmark: the reports over 1 million (and optionally 5 million) cases, SQLite and PostgreSQL.

Each run builds a fresh database with the real migrations, fills ``tickets`` with generated
cases spread evenly over ten years (2016-2025, so one year holds a tenth) in one INSERT … SELECT
per backend, then times, through the same service functions the API calls:

- full scan       one pass over every row of the cases table (the floor the others are set against)
- share: 10 years channel share over every case in the table (2016-2026, the longest period allowed)
- share: 1 year   channel share for 2024 beside 2023, as ``GET /reports/channel-share`` runs it
- monthly         cases per month of 2024 per channel
- p50/p90 times   time to first response per channel for 2024 (window functions)

Usage:
    .venv/bin/python bench/reports.py                       # 1M cases, SQLite and PostgreSQL
    .venv/bin/python bench/reports.py --sizes 1000000,5000000
    .venv/bin/python bench/reports.py --backends sqlite --repeat 7

PostgreSQL: ``--pg-url`` (default postgresql://postgres@127.0.0.1:5432/postgres) is used to create
and drop a scratch database; the benchmark skips PostgreSQL when it does not answer.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, text

from consult119.config import Settings
from consult119.db import Database
from consult119.migrate import upgrade
from consult119.reports import service as svc

ZONE = ZoneInfo("Asia/Seoul")
SPAN_SECONDS = 10 * 365 * 86400  # 2016-01-01 .. ~2025-12-29 UTC
console = Console()

SQLITE_FILL = """
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :count)
INSERT INTO tickets (case_number, year, seq, channel, source, contact_id, status, priority,
                     acuity, reopen_count, assignment_accepted, created_at, updated_at,
                     first_response_at, version)
SELECT 'B' || i, 0, i,
       CASE i % 10 WHEN 0 THEN 'email' WHEN 1 THEN 'email' WHEN 2 THEN 'phone' ELSE 'chat' END,
       CASE i % 10 WHEN 0 THEN 'smtp' WHEN 1 THEN 'smtp' WHEN 2 THEN 'phone'
                   WHEN 3 THEN 'line' ELSE 'kakao' END,
       1, CASE WHEN i % 97 = 0 THEN 'merged' ELSE 'closed' END, 3, 1 + i % 5, 0, 0,
       strftime('%Y-%m-%d %H:%M:%S', 1451606400 + (i * 7919) % :span, 'unixepoch') || '.000000',
       strftime('%Y-%m-%d %H:%M:%S', 1451606400 + (i * 7919) % :span, 'unixepoch') || '.000000',
       strftime('%Y-%m-%d %H:%M:%S', 1451606400 + (i * 7919) % :span + 60 + i % 3600,
                'unixepoch') || '.000000',
       1
FROM n
"""

PG_FILL = """
INSERT INTO tickets (case_number, year, seq, channel, source, contact_id, status, priority,
                     acuity, reopen_count, assignment_accepted, created_at, updated_at,
                     first_response_at, version)
SELECT 'B' || i, 0, i,
       CASE i % 10 WHEN 0 THEN 'email' WHEN 1 THEN 'email' WHEN 2 THEN 'phone' ELSE 'chat' END,
       CASE i % 10 WHEN 0 THEN 'smtp' WHEN 1 THEN 'smtp' WHEN 2 THEN 'phone'
                   WHEN 3 THEN 'line' ELSE 'kakao' END,
       1, CASE WHEN i % 97 = 0 THEN 'merged' ELSE 'closed' END, 3, 1 + i % 5, 0, false,
       to_timestamp(1451606400 + (i::bigint * 7919) % :span),
       to_timestamp(1451606400 + (i::bigint * 7919) % :span),
       to_timestamp(1451606400 + (i::bigint * 7919) % :span + 60 + i % 3600),
       1
FROM generate_series(1, :count) AS i
"""

CONTACT = (
    "INSERT INTO contacts (id, created_at, updated_at) "
    "VALUES (1, '2016-01-01 00:00:00.000000', '2016-01-01 00:00:00.000000')"
)


@contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="c119-bench-") as folder:
        yield f"sqlite:///{Path(folder) / 'bench.db'}"


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    name = f"c119_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(
        "postgresql+psycopg://" + admin_url.split("://", 1)[1], isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def fill(db: Database, count: int) -> float:
    started = time.perf_counter()
    with db.engine.begin() as conn:
        conn.exec_driver_sql(CONTACT)
        conn.execute(
            text(SQLITE_FILL if db.is_sqlite else PG_FILL), {"count": count, "span": SPAN_SECONDS}
        )
    if db.is_sqlite:
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    else:
        # What autovacuum would do soon after a bulk load: statistics, and the visibility map
        # that lets PostgreSQL answer from the covering index alone.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE tickets")
    return time.perf_counter() - started


def timed(fn: Callable[[], Any], repeat: int) -> float:
    fn()  # warm the cache: every report is timed as a manager re-running it would see it
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def run(url: str, count: int, repeat: int) -> tuple[float, list[tuple[str, float, Any]]]:
    settings = Settings(database_url=url, secret_key="bench-" + "x" * 40)
    db = Database(settings)
    upgrade(db.engine)
    seconds = fill(db, count)
    ten_years = svc.make_period("2016-01-01", "2026-01-01", ZONE)
    year_2024 = svc.year_period(2024, ZONE)
    with db.read_session() as s:
        scan_sql = text("SELECT count(*) FROM tickets WHERE updated_at IS NOT NULL AND version > 0")
        cases: list[tuple[str, Callable[[], Any]]] = [
            ("full scan (floor)", lambda: s.execute(scan_sql).scalar_one()),
            ("channel share, 10 years", lambda: svc.channel_share(s, ten_years, compare="none")),
            (
                "channel share, 1 year vs previous",
                lambda: svc.channel_share(s, year_2024, by="source"),
            ),
            ("monthly series, 1 year", lambda: svc.monthly(s, 2024, ZONE)),
            ("p50/p90 first response, 1 year", lambda: svc.response_times(s, year_2024)),
        ]
        results = []
        for name, fn in cases:
            results.append((name, timed(fn, repeat), fn()))
    db.dispose()
    return seconds, results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000000", help="comma-separated case counts")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per report (median)")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()

    table = Table(title="Reports over generated cases (median of warm runs)", header_style="bold")
    for name in ("backend", "cases", "report", "ms", "× full scan"):
        table.add_column(name, justify="left" if name in ("backend", "report") else "right")
    for backend in args.backends.split(","):
        for size in (int(s) for s in args.sizes.split(",")):
            try:
                manager = (
                    sqlite_database() if backend == "sqlite" else postgres_database(args.pg_url)
                )
                with manager as url:
                    console.print(f"[dim]{backend}: generating {size:,} cases…[/dim]")
                    seconds, results = run(url, size, args.repeat)
            except Exception as exc:  # noqa: BLE001 - a missing server skips its rows
                console.print(f"[yellow]{backend} skipped: {type(exc).__name__}: {exc}[/yellow]")
                break
            console.print(f"[dim]{backend}: {size:,} cases generated in {seconds:.1f} s[/dim]")
            floor = results[0][1]
            total = results[1][2].period.total
            assert total == size - size // 97, total  # every case but the merged ones, counted once
            for name, ms, _ in results:
                table.add_row(backend, f"{size:,}", name, f"{ms:,.1f}", f"{ms / floor:.2f}")
            table.add_section()
    console.print(table)


if __name__ == "__main__":
    main()
