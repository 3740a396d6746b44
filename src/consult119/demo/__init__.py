"""``consult119 demo``: a database that reproduces the published figures, with live work now.

What it builds (FACTS.md), each part through the code that writes such data for real:
- :mod:`.history`: cases for 2021–2024 whose counts per year and channel are exactly the
  published ones (2024: KakaoTalk 3,062 of 4,901 = 62.5%, +11.9 points on 2023; land/sea/air
  2,308/2,586/7), then 2025 and the current year up to now at a plausible growth, written by
  the importer's bulk writer in one transaction;
- :mod:`.people`: six doctors and six EMTs in three teams, one manager, one admin; a roster of
  8-hour shifts (two doctors and two EMTs each) from yesterday to two weeks ahead, so someone
  is on duty now;
- :mod:`.live`: open cases arriving now, through the real intake, triage, record and
  assignment services, so the event log has them as staff would make them.

The figures themselves are in :mod:`.figures`. Re-running is safe: a database the demo made is
emptied and rebuilt; one holding anything else is refused unless ``reset=True``. The demo runs
no query of its own: it calls the repositories and services.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from consult119.db import Database, empty_tables
from consult119.demo.figures import DEMO_DOMAIN
from consult119.demo.history import Step, write_history, year_plan
from consult119.demo.live import LIVE, live_cases
from consult119.demo.people import DemoLogin, make_staff
from consult119.i18n import lazy_gettext as _l
from consult119.migrate import upgrade
from consult119.models import metadata
from consult119.replies import service as replies_service
from consult119.staff import repository as staff_repo
from consult119.tickets import repository as ticket_repo

__all__ = [
    "DEMO_DOMAIN",
    "LIVE",
    "DemoLogin",
    "DemoRefused",
    "DemoResult",
    "Step",
    "build_demo",
    "database_state",
    "wipe",
]


class DemoRefused(Exception):
    """The database holds data the demo did not make; nothing was changed."""


@dataclass
class DemoResult:
    logins: list[DemoLogin]
    cases_per_year: dict[int, int]
    open_cases: int
    rebuilt: bool


def database_state(session: Session) -> str:
    """``empty``, ``demo`` (every account is a demo account) or ``other``."""
    if staff_repo.count_staff(session) == 0:
        return "other" if ticket_repo.any_ticket(session) else "empty"
    return "other" if staff_repo.count_staff(session, outside_domain=DEMO_DOMAIN) else "demo"


def wipe(db: Database) -> None:
    """Empty every table of the application (the schema and its version stay)."""
    tables = [t.name for t in reversed(metadata.sorted_tables) if t.name != "event_counter"]
    empty_tables(db, tables, zero=[("event_counter", "last_id")])


def build_demo(
    db: Database,
    *,
    now: datetime,
    reset: bool = False,
    password: str | None = None,
    seed: int = 119,
    step: Step | None = None,
) -> DemoResult:
    """Build the demo database in ``db`` (schema via the real migrations).

    Raises :class:`DemoRefused` when the database holds data the demo did not make and
    ``reset`` is false; nothing is changed then.
    """
    step = step or (lambda _msg: None)
    zone = db.settings.report_zone
    rng = random.Random(seed)
    password = password or secrets.token_urlsafe(9)
    upgrade(db.engine)
    with db.read_session() as session:
        state = database_state(session)
    if state == "other" and not reset:
        raise DemoRefused(
            _l(
                "This database holds accounts or cases the demo did not make. Point "
                "{setting} at another database, or pass --reset to erase it.",
                setting="CONSULT119_DATABASE_URL",
            )
        )
    if state != "empty":
        wipe(db)
    with db.unit_of_work() as session:
        # The migration seeds the canned replies; emptying the tables took them away again.
        replies_service.seed_defaults(session, now=now)
    step(_l("schema ready"))
    team = make_staff(db, now, zone, password, rng)
    step(_l("staff and roster"))
    with db.unit_of_work() as session:
        counted = write_history(session, year_plan(now, zone), team.doctors, now, rng, step)
    open_cases = live_cases(db, now, zone, team.doctors_on_duty, min(team.emts), rng)
    step(_l("live cases"))
    return DemoResult(
        logins=team.logins, cases_per_year=counted, open_cases=open_cases, rebuilt=state != "empty"
    )
