"""Intake without HTTP: what one new case costs in-process, alone and in a group commit.

The intake's unit of work (duplicate check, contact, case number, ticket, message, events, the
wait estimate of the acknowledgement) run through the app's group-commit writer on a scratch
database, in batches of one and of ``--batch``. Baseline, in the same run: one row inserted and
committed through the same engine. Prints a table.

    .venv/bin/python bench/intake_core.py [--backends sqlite,postgresql] [--cases 3200]
"""

from __future__ import annotations

import argparse
import time

from rich.console import Console
from rich.progress import track
from rich.table import Table

from _server import SECRET, scratch_database
from consult119.config import Settings
from consult119.db import build_engine
from consult119.intake.ack import wait_for
from consult119.intake.service import InboundMessage
from consult119.main import create_app
from consult119.migrate import upgrade
from intake import raw_commit_rate


def intake_rate(url: str, cases: int, batch: int, label: str) -> float:
    """New cases per second through the writer, ``batch`` submitted before waiting."""
    settings = Settings(database_url=url, secret_key=SECRET)
    engine = build_engine(settings)
    upgrade(engine)
    engine.dispose()
    ctx = create_app(settings).state.ctx

    def work(i: int):
        inbound = InboundMessage(
            source="kakao",
            sender_id=f"{label}-{i}",
            external_id=f"{label}-m{i}",
            text="stomach pain and fever",
        )

        def take(session):
            now = ctx.now()
            result = ctx.intake.receive(session, inbound, now=now)
            return result, wait_for(session, result, now=now)

        return take

    def run(start: int, n: int) -> None:
        futures = [ctx.db.writer.submit(work(i)) for i in range(start, start + n)]
        for f in futures:
            f.result()

    run(0, 10 * batch)  # warm up: compiled statements, connections
    rounds = max(1, cases // batch)
    t0 = time.perf_counter()
    for r in track(range(rounds), description=f"{label}, batches of {batch}", transient=True):
        run((10 + r) * batch, batch)
    rate = rounds * batch / (time.perf_counter() - t0)
    ctx.db.dispose()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--cases", type=int, default=3200, help="new cases per measurement")
    parser.add_argument("--batch", type=int, default=32, help="intakes submitted at once")
    parser.add_argument("--raw", type=int, default=2000, help="raw insert-and-commit rows")
    args = parser.parse_args()

    table = Table(title="Intake in-process (no HTTP): one new case")
    for col in ("database", "measure", "per second", "ms each", "vs baseline"):
        table.add_column(col, justify="left" if col in ("database", "measure") else "right")
    for backend in args.backends.split(","):
        with scratch_database(backend) as url:
            raw = raw_commit_rate(url, args.raw)
        with scratch_database(backend) as url:
            alone = intake_rate(url, args.cases // 4, 1, f"{backend}-alone")
        with scratch_database(backend) as url:
            grouped = intake_rate(url, args.cases, args.batch, f"{backend}-grouped")
        for label, rate in (
            ("raw insert+commit (baseline)", raw),
            ("new case, committed alone", alone),
            (f"new case, {args.batch} per commit", grouped),
        ):
            table.add_row(backend, label, f"{rate:,.0f}", f"{1000 / rate:.2f}", f"{rate / raw:.2f}")
    Console().print(table)


if __name__ == "__main__":
    main()
