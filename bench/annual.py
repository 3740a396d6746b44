"""Benchmark: the annual report (``GET /reports/annual``) over 1 million cases.

A fresh database (the real migrations) gets generated cases in two years, 2023 and 2024, so the
report for 2024, which sets every table beside 2023, reads all of them. Every case has a channel
and source, and most a location, type, country, age and sex (a few have none: "not recorded").
Timed, through the service functions the API calls, warm, median of ``--repeat`` runs:

- full scan (floor)     one pass over every row of the table: no report can beat it by much
- one GROUP BY per table   the obvious way: one aggregate per table and period (16 queries)
- annual report         what the service does per period: channel and source from the covering
                        index, the fixed lists (land/sea/air, type, age band, sex) in one pass
                        with a FILTER per value, countries in one GROUP BY
                        (``repository.annual_counts``)
- channel share         the channel-share report for the same year, for scale

Usage:
    .venv/bin/python bench/annual.py                          # 1M cases, SQLite and PostgreSQL
    .venv/bin/python bench/annual.py --backends sqlite --cases 200000 --repeat 3

PostgreSQL: ``--pg-url`` (default postgresql://postgres@127.0.0.1:5432/postgres) creates and drops
a scratch database; the row is skipped when no server answers.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from consult119.config import Settings  # noqa: E402
from consult119.db import Database  # noqa: E402
from consult119.migrate import upgrade  # noqa: E402
from consult119.reports import repository as repo  # noqa: E402
from consult119.reports import service as svc  # noqa: E402
from consult119.tickets.models import Ticket  # noqa: E402
from reports import CONTACT, postgres_database, sqlite_database  # noqa: E402

ZONE = ZoneInfo("Asia/Seoul")
START = 1672498800  # 2023-01-01 00:00 in Seoul, as a Unix time
SPAN = 2 * 365 * 86400  # two years: 2023 and 2024 (2024 being a leap year, its 31 Dec is spare)
console = Console()

#: Column expressions over ``i``, the same on both engines (``%`` and CASE only).
COLUMNS = """
       CASE i % 10 WHEN 0 THEN 'email' WHEN 1 THEN 'email' WHEN 2 THEN 'phone' ELSE 'chat' END,
       CASE i % 10 WHEN 0 THEN 'smtp' WHEN 1 THEN 'smtp' WHEN 2 THEN 'phone'
                   WHEN 3 THEN 'line' ELSE 'kakao' END,
       1, CASE WHEN i % 97 = 0 THEN 'merged' ELSE 'closed' END, 3, 1 + i % 5, 0, {false},
       CASE i % 50 WHEN 0 THEN NULL WHEN 1 THEN 'air' ELSE
            CASE i % 2 WHEN 0 THEN 'sea' ELSE 'land' END END,
       CASE i % 40 WHEN 0 THEN NULL ELSE
            CASE i % 7 WHEN 0 THEN 'first_aid' WHEN 1 THEN 'medication'
                       WHEN 2 THEN 'hospital_info' WHEN 3 THEN 'transfer'
                       ELSE 'medical_consultation' END END,
       CASE i % 30 WHEN 0 THEN NULL WHEN 1 THEN 'JP' WHEN 2 THEN 'CN' WHEN 3 THEN 'US'
            WHEN 4 THEN 'VN' WHEN 5 THEN 'SG' WHEN 6 THEN 'PA' WHEN 7 THEN 'TH' WHEN 8 THEN 'DE'
            WHEN 9 THEN 'AU' WHEN 10 THEN 'AE' WHEN 11 THEN 'BR' WHEN 12 THEN 'ZA'
            ELSE 'PH' END,
       CASE i % 25 WHEN 0 THEN NULL ELSE 1 + (i * 37) % 89 END,
       CASE i % 33 WHEN 0 THEN NULL WHEN 1 THEN 'U' ELSE
            CASE i % 3 WHEN 0 THEN 'F' ELSE 'M' END END,
"""

INSERT = """
INSERT INTO tickets (case_number, year, seq, channel, source, contact_id, status, priority,
                     acuity, reopen_count, assignment_accepted, location_type, category,
                     country, patient_age, patient_sex, created_at, updated_at, version)
"""

SQLITE_FILL = (
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :count)"
    + INSERT
    + "SELECT 'A' || i, 0, i,"
    + COLUMNS.format(false="0")
    + """
       strftime('%Y-%m-%d %H:%M:%S', :start + (i * 7919) % :span, 'unixepoch') || '.000000',
       strftime('%Y-%m-%d %H:%M:%S', :start + (i * 7919) % :span, 'unixepoch') || '.000000',
       1
FROM n"""
)

PG_FILL = (
    INSERT
    + "SELECT 'A' || i, 0, i,"
    + COLUMNS.format(false="false")
    + """
       to_timestamp(:start + (i::bigint * 7919) % :span),
       to_timestamp(:start + (i::bigint * 7919) % :span),
       1
FROM generate_series(1, :count) AS i"""
)


def fill(db: Database, count: int) -> float:
    started = time.perf_counter()
    with db.engine.begin() as conn:
        conn.exec_driver_sql(CONTACT.replace("2016-01-01", "2023-01-01"))
        sql = SQLITE_FILL if db.is_sqlite else PG_FILL
        conn.execute(text(sql), {"count": count, "span": SPAN, "start": START})
    if db.is_sqlite:
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    else:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE tickets")
    return time.perf_counter() - started


def per_table(session: Any, period: svc.Period) -> dict[str, dict[str, int]]:
    """The baseline: one GROUP BY per table and period, as one would write it first."""
    out: dict[str, dict[str, int]] = {}
    for p in (period, period.previous_year()):
        for name in ("channel", "source", "location_type", "category", "country", "age_band"):
            column = repo.age_band() if name == "age_band" else getattr(Ticket, name)
            stmt = (
                select(column, func.count())
                .where(repo.counted(p.start_utc, p.end_utc))
                .group_by(column)
            )
            out[f"{p.start}-{name}"] = {str(k): n for k, n in session.execute(stmt)}
        sex = select(Ticket.patient_sex, func.count()).where(repo.counted(p.start_utc, p.end_utc))
        out[f"{p.start}-sex"] = {
            str(k): n for k, n in session.execute(sex.group_by(Ticket.patient_sex))
        }
        out[f"{p.start}-total"] = {"n": repo.count_cases(session, p.start_utc, p.end_utc)}
    return out


def timed(fn: Callable[[], Any], repeat: int) -> float:
    fn()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def run(url: str, count: int, repeat: int) -> tuple[float, int, list[tuple[str, float]]]:
    db = Database(Settings(database_url=url, secret_key="bench-" + "x" * 40))
    upgrade(db.engine)
    seconds = fill(db, count)
    year = svc.year_period(2024, ZONE)
    with db.read_session() as s:
        scan = text("SELECT count(*) FROM tickets WHERE updated_at IS NOT NULL AND version > 0")
        report = svc.annual(s, year, locale="en")
        counted = report.total.count + report.total.previous_count
        cases: list[tuple[str, Callable[[], Any]]] = [
            ("full scan (floor)", lambda: s.execute(scan).scalar_one()),
            ("one GROUP BY per table (16 queries)", lambda: per_table(s, year)),
            ("annual report", lambda: svc.annual(s, year, locale="en")),
            ("channel share, same year", lambda: svc.channel_share(s, year, by="source")),
        ]
        results = [(name, timed(fn, repeat)) for name, fn in cases]
    db.dispose()
    return seconds, counted, results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per row (median)")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()

    table = Table(title="Annual report for 2024 beside 2023 (median of warm runs)")
    for name in ("backend", "cases read", "query", "ms", "× full scan", "× annual report"):
        table.add_column(name, justify="left" if name in ("backend", "query") else "right")
    for backend in args.backends.split(","):
        try:
            manager = sqlite_database() if backend == "sqlite" else postgres_database(args.pg_url)
            with manager as url:
                console.print(f"[dim]{backend}: generating {args.cases:,} cases…[/dim]")
                seconds, counted, results = run(url, args.cases, args.repeat)
        except Exception as exc:  # noqa: BLE001 - a missing server skips its rows
            console.print(f"[yellow]{backend} skipped: {type(exc).__name__}: {exc}[/yellow]")
            continue
        console.print(f"[dim]{backend}: generated in {seconds:.1f} s[/dim]")
        assert counted == args.cases - args.cases // 97, counted  # all but the merged, once each
        floor, annual = results[0][1], results[2][1]
        for name, ms in results:
            table.add_row(
                backend,
                f"{counted:,}",
                name,
                f"{ms:,.0f}",
                f"{ms / floor:.2f}",
                f"{ms / annual:.2f}",
            )
        table.add_section()
    console.print(table)


if __name__ == "__main__":
    main()
