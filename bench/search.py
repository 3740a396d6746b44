"""Benchmark: case search (``GET /api/v1/tickets?q=``) at 100,000 cases, SQLite and PostgreSQL.

Each run builds a fresh database with the real migrations (so the search indexes are the ones
production gets), bulk-inserts generated contacts, cases, three messages and one event per
case (Korean sentences from a medical vocabulary, names, phones, e-mails) with executemany,
then times, through the same functions the route calls (``search.hit_ids``,
``search.row_match`` and ``repo.search_rows``: one page of 50 as the queue shows it and the
total, counted up to ``search.COUNT_CAP``), against a primary-key lookup in the same run:

- primary key         one case by id (the floor)
- rare word           a word that is in one message only (3+ characters: the trigram index)
- common phrase       a phrase in about 1 message in 8, first page and total (capped)
- … offset 500        the same phrase, the page at offset 500
- name                a traveller's full name (Korean, 3 syllables)
- phone digits        8 digits of a phone number
- case number         a whole case number
- two syllables       a 2-character Korean word (below the trigram minimum: a scan)
- rare two characters a 2-character word in no message (the scan reads every message)
- timeline            ``repo.timeline`` of a case with 50 events (the route's page of 200)

Usage:
    .venv/bin/python bench/search.py                  # 100,000 cases, SQLite and PostgreSQL
    .venv/bin/python bench/search.py --cases 20000 --backends sqlite --repeat 9

PostgreSQL: ``--pg-url`` (default postgresql://postgres@127.0.0.1:5432/postgres) is used to create
and drop a scratch database; the benchmark skips PostgreSQL when it does not answer.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent))
from consult119.config import Settings  # noqa: E402
from consult119.db import Database  # noqa: E402
from consult119.migrate import upgrade  # noqa: E402
from consult119.realtime.models import Event  # noqa: E402
from consult119.staff.models import Staff  # noqa: E402
from consult119.tickets import repository as repo  # noqa: E402
from consult119.tickets import search  # noqa: E402
from consult119.tickets.codes import Status  # noqa: E402
from consult119.tickets.models import Contact, Message, Ticket  # noqa: E402
from reports import postgres_database, sqlite_database  # noqa: E402 - bench's own helpers

console = Console()
START = datetime(2026, 1, 1, tzinfo=UTC)
SURNAMES = "김이박최정강조윤장임한오서신권황안송류홍"
GIVEN = ["민수", "서연", "지훈", "하은", "도윤", "수아", "예준", "지우", "시우", "서준", "유진"]
WORDS = [
    "머리가 아파요",
    "열이 나요",
    "배가 아파요",
    "기침이 심해요",
    "어지러워요",
    "토했어요",
    "설사를 해요",
    "발목을 삐었어요",
    "숨이 차요",
    "두드러기가 났어요",
    "약을 먹었어요",
    "병원이 어디예요",
    "아이가 울어요",
    "체한 것 같아요",
    "눈이 충혈됐어요",
    "허리가 아파요",
    "잠을 못 자요",
    "fever since yesterday",
    "took ibuprofen",
    "at the hotel",
    "on the ship",
    "in the airport",
]
COMMON = "가슴 통증이"  # put in one message in eight
RARE = "희귀단어쿠쿠루"  # put in one message only
RARE_TWO = "꿻꿻"  # in no message
TIMELINE_EVENTS = 50
EVENT_NAMES = ["message.received", "ticket.updated", "ticket.assigned", "message.sent"]
CHUNK = 5000


def rows(count: int, rng: random.Random) -> tuple[list[dict], ...]:
    contacts, tickets, messages, events = [], [], [], []
    for i in range(1, count + 1):
        at = START + timedelta(seconds=i * 37)
        contacts.append(
            {
                "id": i,
                "display_name": rng.choice(SURNAMES) + rng.choice(GIVEN),
                "phone_e164": f"+8210{rng.randrange(10**8):08d}",
                "email": f"traveller{i}@example.org",
                "created_at": at,
                "updated_at": at,
            }
        )
        tickets.append(
            {
                "id": i,
                "case_number": f"C119-2026-{i:06d}",
                "year": 2026,
                "seq": i,
                "channel": "chat",
                "source": "kakao",
                "contact_id": i,
                "status": "new" if i % 10 == 0 else "closed",
                "priority": 3,
                "reopen_count": 0,
                "assignment_accepted": False,
                "created_at": at,
                "updated_at": at,
                "version": 1,
            }
        )
        for k in range(3):
            words = rng.sample(WORDS, 3)
            if (i * 3 + k) % 8 == 0:
                words.append(COMMON)
            messages.append(
                {
                    "ticket_id": i,
                    "direction": "inbound",
                    "channel": "chat",
                    "source": "kakao",
                    "text": " ".join(words),
                    "created_at": at,
                }
            )
        events.append(
            {
                "id": len(events) + 1,
                "name": "ticket.created",
                "at": at,
                "ticket_id": i,
                "data": {"case_number": f"C119-2026-{i:06d}", "channel": "chat"},
            }
        )
    messages[len(messages) // 2]["text"] += " " + RARE
    probe = count // 2
    for n in range(TIMELINE_EVENTS - 1):
        events.append(
            {
                "id": len(events) + 1,
                "name": EVENT_NAMES[n % len(EVENT_NAMES)],
                "at": START + timedelta(seconds=probe * 37 + n),
                "ticket_id": probe,
                "actor_id": 1 if n % 2 else None,
                "data": {"ticket_id": probe, "text": rng.choice(WORDS), "n": n},
            }
        )
    return contacts, tickets, messages, events


def fill(db: Database, count: int) -> tuple[float, dict[str, Any]]:
    rng = random.Random(119)
    contacts, tickets, messages, events = rows(count, rng)
    staff = [
        {
            "id": 1,
            "email": "doctor@example.org",
            "name": "의사 김",
            "role": "doctor",
            "password_hash": "-",
            "created_at": START,
        }
    ]
    started = time.perf_counter()
    with db.engine.begin() as conn:
        for model, data in (
            (Staff, staff),
            (Contact, contacts),
            (Ticket, tickets),
            (Message, messages),
            (Event, events),
        ):
            table = model.__table__  # type: ignore[attr-defined]
            for n in range(0, len(data), CHUNK):
                conn.execute(insert(table), data[n : n + CHUNK])
    if db.is_sqlite:
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    else:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    probe = contacts[count // 3]
    return time.perf_counter() - started, {
        "name": probe["display_name"],
        "phone": probe["phone_e164"][5:13],
        "case": tickets[count // 2]["case_number"],
    }


def timed(fn: Callable[[], Any], repeat: int) -> float:
    fn()  # warm: a console searching twice sees this
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def run(url: str, count: int, repeat: int) -> tuple[float, list[tuple[str, float, str]]]:
    db = Database(Settings(database_url=url, secret_key="bench-" + "x" * 40))
    upgrade(db.engine)
    seconds, probe = fill(db, count)
    every = sorted(s.value for s in Status)
    results = []
    with db.read_session() as s:
        conds = repo.queue_conditions(statuses=every, with_status=False)

        def find(q: str, offset: int = 0) -> str:
            q = search.clean_query(q)
            _, total, capped = repo.search_rows(
                s,
                conds=conds,
                statuses=every,
                hits=search.hit_ids(s, q),
                row_match=search.row_match(q),
                cap=search.COUNT_CAP,
                limit=50,
                offset=offset,
            )
            return f"{total:,}" + ("+" if capped else "")

        def timeline() -> str:
            items, total = repo.timeline(s, count // 2, limit=200, offset=0)
            return f"{len(items)} events"

        cases: list[tuple[str, Callable[[], Any]]] = [
            (
                "primary key (floor)",
                lambda: s.execute(select(Ticket).where(Ticket.id == count // 2)).scalar_one().id,
            ),
            (f"rare word ({RARE})", lambda: find(RARE)),
            (f"common phrase ({COMMON})", lambda: find(COMMON)),
            ("… offset 500", lambda: find(COMMON, offset=500)),
            (f"name ({probe['name']})", lambda: find(probe["name"])),
            (f"phone digits ({probe['phone']})", lambda: find(probe["phone"])),
            (f"case number ({probe['case']})", lambda: find(probe["case"])),
            ("two syllables (통증)", lambda: find("통증")),
            (f"rare two characters ({RARE_TWO})", lambda: find(RARE_TWO)),
            (f"timeline ({TIMELINE_EVENTS} events)", timeline),
        ]
        for name, fn in cases:
            results.append((name, timed(fn, repeat), fn()))
    db.dispose()
    return seconds, results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per query (median)")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()

    table = Table(title="Case search, status=all, a page of 50 and the total (median of warm runs)")
    for name in ("backend", "cases", "query", "hits", "ms", "× primary key"):
        table.add_column(name, justify="left" if name in ("backend", "query") else "right")
    for backend in args.backends.split(","):
        try:
            manager = sqlite_database() if backend == "sqlite" else postgres_database(args.pg_url)
            with manager as url:
                console.print(f"[dim]{backend}: generating {args.cases:,} cases…[/dim]")
                seconds, results = run(url, args.cases, args.repeat)
        except Exception as exc:  # noqa: BLE001 - a missing server skips its rows
            console.print(f"[yellow]{backend} skipped: {type(exc).__name__}: {exc}[/yellow]")
            continue
        console.print(f"[dim]{backend}: {args.cases:,} cases loaded in {seconds:.1f} s[/dim]")
        floor = results[0][1]
        for name, ms, hits in results:
            shown = "" if name.startswith("primary") else str(hits)
            table.add_row(
                backend, f"{args.cases:,}", name, shown, f"{ms:,.2f}", f"{ms / floor:,.0f}"
            )
        table.add_section()
    console.print(table)


if __name__ == "__main__":
    main()
