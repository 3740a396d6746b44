"""``consult119 demo``: a database that reproduces the published figures, with live work now.

What it builds (FACTS.md):
- cases for 2021–2024 whose counts per year and channel are exactly the published ones
  (2024: KakaoTalk 3,062 of 4,901 = 62.5%, +11.9 points on 2023; land/sea/air 2,308/2,586/7),
  then 2025 and the current year up to now at a plausible growth; realistic countries,
  categories, KTAS levels, dispositions, ages, response and resolution times, doctors assigned;
  a few cases merged into others (not counted) and reopened (counted once);
- staff: six doctors and six EMTs in three teams, one manager, one admin; a roster of 8-hour
  shifts (two doctors and two EMTs each) from yesterday to two weeks ahead, so someone is on
  duty now;
- open cases arriving now, written by the real intake service, so the event log has them.

History is written with bulk Core inserts (``executemany``) in one transaction: seconds, not
minutes. Re-running is safe: a database the demo made is emptied and rebuilt; one holding
anything else is refused unless ``reset=True``.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.orm import Session

from consult119.db import Database
from consult119.i18n import LazyText, lazy_ngettext
from consult119.i18n import lazy_gettext as _l
from consult119.intake.service import InboundMessage, IntakeService
from consult119.migrate import upgrade
from consult119.models import metadata
from consult119.replies import service as replies_service
from consult119.staff.models import Role, Shift, Staff
from consult119.staff.service import create_staff
from consult119.tickets import repository as ticket_repo
from consult119.tickets import service as tickets_service
from consult119.tickets.codes import (
    SEX_OF_STORED,
    SOURCE_CHANNEL,
    Source,
    Status,
    format_case_number,
)
from consult119.tickets.models import (
    Contact,
    ContactIdentity,
    Message,
    Ticket,
)

DEMO_DOMAIN = "demo.consult119.example"

#: Cases per year and source. 2021, 2022 and 2024 are the published figures; 2023's KakaoTalk
#: count gives the published +11.9 points, its other channels are free (FACTS.md).
PUBLISHED: dict[int, dict[str, int]] = {
    2021: {"kakao": 698, "smtp": 1108, "phone": 724, "webchat": 46},
    2022: {"kakao": 1521, "line": 26, "smtp": 1490, "phone": 774},
    2023: {"kakao": 2092, "line": 28, "smtp": 1400, "phone": 615},
    2024: {"kakao": 3062, "line": 31, "smtp": 1338, "phone": 470},
}
#: 2025 onwards: not published; KakaoTalk keeps growing, phone keeps shrinking.
LATER: dict[str, int] = {"kakao": 3720, "line": 38, "smtp": 1290, "phone": 412, "webchat": 60}

#: Patient location (sea, land, air); 2024 is published exactly, other years follow its trend.
LOCATION_2024 = {"sea": 2586, "land": 2308, "air": 7}
SEA_SHARE = {2021: 0.44, 2022: 0.47, 2023: 0.50, 2024: 0.528}

CATEGORY_2021 = {
    "medical_consultation": 57.6,
    "first_aid": 23.8,
    "medication": 14.8,
    "hospital_info": 2.2,
    "transfer": 1.0,
    "other": 0.6,
}
CATEGORY_2024 = {
    "medical_consultation": 64.2,
    "first_aid": 17.5,
    "medication": 11.8,
    "hospital_info": 3.8,
    "transfer": 1.8,
    "other": 0.9,
}
ACUITY = {1: 1.5, 2: 9.0, 3: 27.0, 4: 37.5, 5: 25.0}
MONTH_WEIGHT = [8.6, 7.6, 8.0, 7.9, 8.2, 8.0, 9.2, 9.6, 8.3, 8.6, 7.8, 8.2]
COUNTRIES = {
    "land": {
        "JP": 18,
        "VN": 13,
        "CN": 9,
        "US": 10,
        "TH": 8,
        "PH": 6,
        "AU": 4,
        "FR": 3,
        "DE": 3,
        "GB": 3,
        "CA": 3,
        "ID": 3,
        "MY": 2,
        "SG": 2,
        "TW": 3,
        "MN": 2,
        "KH": 2,
        "IT": 2,
        "ES": 2,
        "NZ": 1,
        "AE": 1,
    },
    "sea": {
        "SG": 12,
        "CN": 12,
        "JP": 8,
        "PA": 7,
        "AE": 6,
        "NL": 5,
        "US": 6,
        "BR": 4,
        "AU": 5,
        "ZA": 4,
        "ES": 3,
        "IN": 5,
        "SA": 4,
        "CL": 3,
        "MX": 3,
        "EG": 3,
    },
    "air": {"US": 3, "FR": 1, "DE": 1, "AE": 1, "JP": 1},
}
VESSELS = [
    "Hanbada",
    "Pan Ocean Glory",
    "HMM Algeciras",
    "Sinokor Star",
    "Korea Express",
    "Busan Pioneer",
    "Ocean Dream",
    "Jeju Spirit",
    "Dongbang Hope",
    "Pacific Harmony",
]
TARGET_MINUTES = {1: 1, 2: 10, 3: 30, 4: 60, 5: 120}  # the demo takes "immediate" as 1 minute
RESPONSE_MEDIAN_MIN = {1: 0.5, 2: 3.5, 3: 11.0, 4: 22.0, 5: 40.0}
CHANNEL_PACE = {"chat": 1.0, "email": 5.0, "phone": 0.15}
SURNAMES = "김이박최정강조윤장임한오서신권황안송류홍"
GIVEN = [
    "민준",
    "서연",
    "도윤",
    "하은",
    "지호",
    "수아",
    "예준",
    "지민",
    "현우",
    "서윤",
    "준서",
    "채원",
    "건우",
    "다은",
    "우진",
    "소율",
    "태윤",
    "지아",
]
SYMPTOMS = {
    "medical_consultation": [
        "열이 39도까지 올라요",
        "가슴이 답답하고 숨이 차요",
        "복통과 설사가 계속돼요",
        "머리가 심하게 아파요",
        "아이가 밤새 토했어요",
    ],
    "first_aid": [
        "넘어져서 손목이 부었어요",
        "칼에 베였는데 피가 안 멈춰요",
        "화상을 입었어요",
        "벌에 쏘였어요",
        "배에서 미끄러져 허리를 다쳤어요",
    ],
    "medication": [
        "현지에서 해열제를 사도 되나요",
        "혈압약이 떨어졌어요",
        "이 약을 같이 먹어도 되나요",
    ],
    "hospital_info": ["근처 응급실이 어디인가요", "현지 병원 이용 방법을 알려주세요"],
    "transfer": ["한국으로 이송하려면 어떻게 하나요", "환자 국내 이송 절차가 궁금해요"],
    "other": ["보험 처리 서류가 필요해요", "통역이 필요해요"],
}
REPLY = "의사입니다. 말씀하신 증상 확인했습니다. 안내드린 대로 조치하시고 변화가 있으면 바로 알려주세요."


class DemoRefused(Exception):
    """The database holds data the demo did not make; nothing was changed."""


@dataclass
class DemoLogin:
    role: str
    name: str
    email: str
    password: str
    on_duty: bool


@dataclass
class DemoResult:
    logins: list[DemoLogin]
    cases_per_year: dict[int, int]
    open_cases: int
    rebuilt: bool


#: Progress: a short description of the step just done, rendered when shown.
Step = Callable[[LazyText], None]


def apportion(weights: dict[Any, float], n: int) -> dict[Any, int]:
    """Whole counts summing to ``n`` in proportion to ``weights`` (largest remainder)."""
    total = sum(weights.values())
    raw = {k: w * n / total for k, w in weights.items()}
    counts = {k: int(v) for k, v in raw.items()}
    rest = n - sum(counts.values())
    for k in sorted(raw, key=lambda k: raw[k] - counts[k], reverse=True)[:rest]:
        counts[k] += 1
    return counts


def exact_list(counts: dict[Any, int], rng: random.Random) -> list[Any]:
    values = [k for k, c in counts.items() for _ in range(c)]
    rng.shuffle(values)
    return values


def _weighted(rng: random.Random, table: dict[Any, float]) -> Any:
    return rng.choices(list(table), weights=list(table.values()))[0]


# --- the state of the database -----------------------------------------------------------


def database_state(session: Session) -> str:
    """``empty``, ``demo`` (every account is a demo account) or ``other``."""
    staff = session.scalar(select(func.count()).select_from(Staff)) or 0
    tickets = session.scalar(select(func.count()).select_from(Ticket)) or 0
    if staff == 0:
        return "empty" if tickets == 0 else "other"
    foreign = session.scalar(
        select(func.count()).select_from(Staff).where(~Staff.email.like(f"%@{DEMO_DOMAIN}"))
    )
    return "demo" if not foreign else "other"


def wipe(db: Database) -> None:
    """Empty every table of the application (the schema and its version stay)."""
    tables = [t.name for t in reversed(metadata.sorted_tables) if t.name != "event_counter"]
    if not db.is_sqlite:
        with db.unit_of_work() as session:
            session.connection().exec_driver_sql(
                "TRUNCATE " + ", ".join(f'"{n}"' for n in tables) + " RESTART IDENTITY CASCADE"
            )
            session.connection().exec_driver_sql("UPDATE event_counter SET last_id = 0")
        return
    # SQLite checks each deleted row's foreign keys, and tickets.merged_into_id has no index:
    # with the checks on, emptying the demo's tickets is quadratic. Everything goes, so they
    # are switched off for this one transaction (the pragma only works outside one).
    raw = db.engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("PRAGMA foreign_keys=OFF")
        cur.execute("BEGIN IMMEDIATE")
        for name in tables:
            cur.execute(f'DELETE FROM "{name}"')  # noqa: S608 - the schema's own table names
        cur.execute("UPDATE event_counter SET last_id = 0")
        cur.execute("COMMIT")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()
    finally:
        raw.close()


# --- staff and roster --------------------------------------------------------------------


def _staff(
    db: Database, now: datetime, zone: ZoneInfo, password: str, rng: random.Random
) -> tuple[list[DemoLogin], list[int]]:
    """Twelve clinicians in three teams, a manager and an admin; 8-hour shifts around now."""
    people: list[tuple[str, str, int | None]] = [
        (Role.ADMIN.value, "admin", None),
        (Role.MANAGER.value, "manager", None),
    ]
    for i in range(1, 7):
        people.append((Role.DOCTOR.value, f"doctor{i}", (i - 1) // 2))
    for i in range(1, 7):
        people.append((Role.EMT.value, f"emt{i}", (i - 1) // 2))
    shifts: list[dict[str, Any]] = []
    team_members: dict[int, list[int]] = {0: [], 1: [], 2: []}
    logins: list[tuple[str, str, str, int | None, int]] = []
    with db.unit_of_work() as session:
        password_hash = None
        for role, local, team in people:
            name = f"{rng.choice(SURNAMES)}{rng.choice(GIVEN)}"
            email = f"{local}@{DEMO_DOMAIN}"
            if password_hash is None:
                # The first account goes through the real service (its checks, its hashing);
                # the rest share its Argon2 hash, as they share the password: an Argon2 hash
                # costs a noticeable fraction of a second, and the demo must be quick.
                staff = create_staff(
                    session, email=email, name=name, role=role, password=password, now=now
                )
                password_hash = staff.password_hash
            else:
                staff = Staff(
                    email=email, name=name, role=role, password_hash=password_hash, created_at=now
                )
                session.add(staff)
                session.flush()
            assert staff.id is not None
            logins.append((role, name, staff.email, team, staff.id))
            if team is not None:
                team_members[team].append(staff.id)
        # Shifts 00-08, 08-16, 16-24 local; the teams rotate so each works every slot in turn.
        today = now.astimezone(zone).date()
        for offset in range(-1, 14):
            day = today + timedelta(days=offset)
            for slot in range(3):
                start = datetime.combine(day, time(8 * slot), tzinfo=zone).astimezone(UTC)
                team = (day.toordinal() + slot) % 3
                for staff_id in team_members[team]:
                    shifts.append(
                        {
                            "staff_id": staff_id,
                            "starts_at": start,
                            "ends_at": start + timedelta(hours=8),
                            "handed_over_at": None,
                        }
                    )
        for shift in shifts:  # the past is not announced when the demo server starts
            began, ended = shift["starts_at"] <= now, shift["ends_at"] <= now
            shift["started_seen_at"] = shift["starts_at"] if began else None
            shift["handed_over_at"] = shift["ends_at"] if ended else None
        session.execute(insert(Shift.__table__), shifts)
    on_duty = {s["staff_id"] for s in shifts if s["starts_at"] <= now < s["ends_at"]}
    result = [
        DemoLogin(role=role, name=name, email=email, password=password, on_duty=sid in on_duty)
        for role, name, email, _team, sid in logins
    ]
    doctors = [sid for role, _n, _e, _t, sid in logins if role == Role.DOCTOR.value]
    return result, doctors


# --- history -----------------------------------------------------------------------------


def _year_plan(
    now: datetime, zone: ZoneInfo
) -> list[tuple[int, dict[str, int], datetime, datetime]]:
    """(year, cases per source, first instant, last instant) for every demo year up to now."""
    local_now = now.astimezone(zone)
    plan = []
    for year, counts in PUBLISHED.items():
        start = datetime.combine(date(year, 1, 1), time(0), tzinfo=zone)
        plan.append((year, counts, start, start.replace(year=year + 1)))
    year = 2025
    while year <= local_now.year:
        start = datetime.combine(date(year, 1, 1), time(0), tzinfo=zone)
        end = start.replace(year=year + 1)
        growth = 1.05 ** (year - 2025)
        counts = {k: round(v * growth) for k, v in LATER.items()}
        if end > local_now:
            # This year so far, stopping short of now (the live cases come through intake).
            end = local_now - timedelta(hours=3)
            fraction = max(0.0, (end - start) / (start.replace(year=year + 1) - start))
            counts = {k: round(v * fraction) for k, v in counts.items()}
        if end > start:
            plan.append((year, counts, start, end))
        year += 1
    return plan


def _created_times(
    rng: random.Random, n: int, start: datetime, end: datetime, full_year: bool
) -> list[datetime]:
    """``n`` instants in [start, end): by month with a summer peak for a full year."""
    out: list[datetime] = []
    if full_year:
        zone = start.tzinfo
        months = exact_list(apportion(dict(enumerate(MONTH_WEIGHT, start=1)), n), rng)
        for m in months:
            a = datetime(start.year, m, 1, tzinfo=zone)
            b = datetime(start.year + (m == 12), m % 12 + 1, 1, tzinfo=zone)
            span = (b - a).total_seconds()
            out.append(a + timedelta(seconds=rng.random() * span))
    else:
        span = (end - start).total_seconds()
        out = [start + timedelta(seconds=rng.random() * span) for _ in range(n)]
    return sorted(t.astimezone(UTC) for t in out)


def _locations(year: int, n: int, rng: random.Random) -> list[str]:
    if year == 2024:
        counts = dict(LOCATION_2024)
    else:
        sea = SEA_SHARE.get(year, 0.54)
        counts = apportion({"sea": sea, "land": 0.9985 - sea, "air": 0.0015}, n)
    return exact_list(counts, rng)


def _categories(year: int, n: int, rng: random.Random) -> list[str]:
    t = min(max((year - 2021) / 3, 0.0), 1.0)
    weights = {k: CATEGORY_2021[k] * (1 - t) + CATEGORY_2024[k] * t for k in CATEGORY_2021}
    return exact_list(apportion(weights, n), rng)


def _disposition(rng: random.Random, acuity: int, category: str) -> str:
    if category == "transfer":
        return "repatriation"
    table = {
        1: {"call_local_ems": 85, "go_to_ed_now": 15},
        2: {"go_to_ed_now": 70, "call_local_ems": 25, "referred": 5},
        3: {"go_to_ed_now": 35, "see_doctor_soon": 55, "referred": 10},
        4: {"see_doctor_soon": 55, "self_care": 40, "referred": 5},
        5: {"self_care": 75, "see_doctor_soon": 15, "referred": 10},
    }[acuity]
    return _weighted(rng, table)


def _age_sex(rng: random.Random, location: str) -> tuple[int, str]:
    if location == "sea":  # crew
        return rng.randint(20, 64), "M" if rng.random() < 0.93 else "F"
    age = min(90, max(0, int(rng.gauss(38, 17))))
    return age, rng.choice("MF")


def _history(
    session: Session,
    plan: list[tuple[int, dict[str, int], datetime, datetime]],
    doctors: list[int],
    now: datetime,
    rng: random.Random,
    step: Step,
) -> dict[int, int]:
    """Bulk-insert the cases of every planned year, with contacts, identities and messages."""
    tickets_t, contacts_t = Ticket.__table__, Contact.__table__
    counted: dict[int, int] = {}
    serial = 0
    for year, by_source, start, end in plan:
        n = sum(by_source.values())
        full_year = end == start.replace(year=year + 1)
        created = _created_times(rng, n, start, end, full_year)
        sources = exact_list(by_source, rng)
        locations = _locations(year, n, rng)
        categories = _categories(year, n, rng)
        contacts: list[dict[str, Any]] = []
        identities: list[tuple[str, str]] = []
        tickets: list[dict[str, Any]] = []
        first = ticket_repo.allocate_case_seqs(session, year, n)
        for seq, (at, source, location, category) in enumerate(
            zip(created, sources, locations, categories, strict=True), start=first
        ):
            serial += 1
            channel = SOURCE_CHANNEL[Source(source)].value
            country = _weighted(rng, COUNTRIES[location])
            phone = f"+8210{rng.randint(10000000, 99999999)}" if source == "phone" else None
            email = f"traveller{serial}@example.com" if source == "smtp" else None
            vessel = (
                f"MV {rng.choice(VESSELS)}"
                if location == "sea"
                else f"KE{rng.randint(1, 999):03d}"
                if location == "air"
                else None
            )
            contacts.append(
                {
                    "display_name": f"{rng.choice(SURNAMES)}{rng.choice(GIVEN)}",
                    "locale": "ko",
                    "country": country,
                    "timezone": None,
                    "location_type": location,
                    "vessel_or_flight": vessel,
                    "phone_e164": phone,
                    "email": email,
                    "created_at": at,
                    "updated_at": at,
                }
            )
            identities.append((source, phone or email or f"{source}-{serial:07d}"))
            acuity = _weighted(rng, ACUITY)
            pace = CHANNEL_PACE[channel]
            response = timedelta(
                minutes=RESPONSE_MEDIAN_MIN[acuity] * pace * rng.lognormvariate(0, 0.7)
            )
            first_response = at + response
            resolved = first_response + timedelta(
                minutes=25 * (3 if channel == "email" else 1) * rng.lognormvariate(0, 0.8)
            )
            closed = resolved + timedelta(hours=24)
            age, sex = _age_sex(rng, location)
            tickets.append(
                {
                    "case_number": format_case_number(year, seq),
                    "year": year,
                    "seq": seq,
                    "channel": channel,
                    "source": source,
                    "contact_id": None,
                    "status": Status.CLOSED.value if closed <= now else Status.RESOLVED.value,
                    "priority": acuity,
                    "acuity": acuity,
                    "suspected_acuity": None,
                    "red_flags": None,
                    "category": category,
                    "disposition": _disposition(rng, acuity, category),
                    "patient_age": age,
                    "patient_sex": sex,
                    "symptoms_onset": None,
                    "conditions": None,
                    "medication": None,
                    "allergies": None,
                    "country": country,
                    "timezone": None,
                    "locale": "ko",
                    "location_type": location,
                    "vessel_or_flight": vessel,
                    "assignee_id": rng.choice(doctors),
                    "assignment_accepted": True,
                    "merged_into_id": None,
                    "reopen_count": 1 if rng.random() < 0.03 else 0,
                    "created_at": at,
                    "updated_at": closed if closed <= now else resolved,
                    "last_message_at": first_response,
                    "triaged_at": at + min(response, timedelta(minutes=2)) / 2,
                    "assigned_at": at + response * 0.8,
                    "in_progress_at": first_response,
                    "waiting_at": None,
                    "first_response_at": first_response,
                    "resolved_at": resolved,
                    "closed_at": closed if closed <= now else None,
                    "merged_at": None,
                    "sla_due_at": at + timedelta(minutes=TARGET_MINUTES[acuity]),
                    "sla_warned_at": None,
                    "sla_breached_at": None,
                    "version": 5,
                }
            )
        contact_ids = _with_ids(session, contacts_t, contacts)
        session.execute(insert(contacts_t), contacts)
        for ticket, contact_id in zip(tickets, contact_ids, strict=True):
            ticket["contact_id"] = contact_id
        session.execute(
            insert(ContactIdentity.__table__),
            [
                {
                    "contact_id": cid,
                    "source": src,
                    "external_id": ext,
                    "created_at": t["created_at"],
                }
                for cid, (src, ext), t in zip(contact_ids, identities, tickets, strict=True)
            ],
        )
        ticket_ids = _with_ids(session, tickets_t, tickets)
        session.execute(insert(tickets_t), tickets)
        _merged_duplicates(session, year, tickets, ticket_ids, now, rng)
        _messages(session, tickets, ticket_ids, rng)
        counted[year] = n
        step(lazy_ngettext("{year}: {n:,} case", "{year}: {n:,} cases", n, year=year))
    _sync_sequences(session)
    return counted


def _with_ids(session: Session, table: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Give ``rows`` explicit ids after the table's highest: a plain ``executemany`` then
    inserts them in one call (RETURNING would cost a statement per row on SQLite). The demo
    writes alone, inside one transaction; :func:`_sync_sequences` catches PostgreSQL up."""
    first = (session.scalar(select(func.max(table.c.id))) or 0) + 1
    for offset, row in enumerate(rows):
        row["id"] = first + offset
    return [row["id"] for row in rows]


def _sync_sequences(session: Session) -> None:
    """After explicit ids, move PostgreSQL's id sequences past them (SQLite needs nothing)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for table in (Contact.__table__, Ticket.__table__):
        top = session.scalar(select(func.max(table.c.id))) or 0
        session.execute(
            text("SELECT setval(pg_get_serial_sequence(:t, 'id'), :v, false)"),
            {"t": table.name, "v": top + 1},
        )


def _merged_duplicates(
    session: Session,
    year: int,
    tickets: list[dict[str, Any]],
    ids: list[int],
    now: datetime,
    rng: random.Random,
) -> int:
    """A few cases opened twice (a traveller wrote again on a second channel) and merged into
    the first: they exist, and reports do not count them."""
    picks = rng.sample(range(len(tickets)), k=min(12, len(tickets)))
    first = ticket_repo.allocate_case_seqs(session, year, len(picks))
    rows = []
    for seq, index in enumerate(picks, start=first):
        survivor = tickets[index]
        at = survivor["created_at"] + timedelta(minutes=rng.randint(2, 30))
        merged_at = min(at + timedelta(minutes=10), now)
        rows.append(
            {
                **survivor,
                "case_number": format_case_number(year, seq),
                "seq": seq,
                "status": Status.MERGED.value,
                "merged_into_id": ids[index],
                "created_at": at,
                "merged_at": merged_at,
                "updated_at": merged_at,
                "first_response_at": None,
                "resolved_at": None,
                "closed_at": None,
                "reopen_count": 0,
            }
        )
    if rows:
        _with_ids(session, Ticket.__table__, rows)
        session.execute(insert(Ticket.__table__), rows)
    return len(rows)


def _messages(
    session: Session, tickets: list[dict[str, Any]], ids: list[int], rng: random.Random
) -> None:
    """The traveller's first message and the doctor's first answer (a call note for phone)."""
    rows = []
    for ticket, ticket_id in zip(tickets, ids, strict=True):
        text = rng.choice(SYMPTOMS[ticket["category"]])
        base = {
            "ticket_id": ticket_id,
            "channel": ticket["channel"],
            "source": ticket["source"],
            "external_id": None,
            "meta": None,
        }
        if ticket["channel"] == "phone":
            rows.append(
                {
                    **base,
                    "direction": "internal",
                    "text": f"전화 상담: {text}",
                    "author_staff_id": ticket["assignee_id"],
                    "created_at": ticket["first_response_at"],
                    "sent_at": None,
                    "delivery": None,
                }
            )
            continue
        rows.append(
            {
                **base,
                "direction": "inbound",
                "text": text,
                "author_staff_id": None,
                "created_at": ticket["created_at"],
                "sent_at": ticket["created_at"],
                "delivery": None,
            }
        )
        rows.append(
            {
                **base,
                "direction": "outbound",
                "text": REPLY,
                "author_staff_id": ticket["assignee_id"],
                "created_at": ticket["first_response_at"],
                "sent_at": ticket["first_response_at"],
                "delivery": "sent",
            }
        )
    session.execute(insert(Message.__table__), rows)


# --- live cases --------------------------------------------------------------------------

LIVE = [
    # minutes ago, source, text, KTAS (None: untriaged), category, assign
    (42, "kakao", "선원이 갑판에서 떨어져 다리가 부었어요. 걸을 수 없어요.", 3, "first_aid", True),
    (
        35,
        "smtp",
        "다낭 여행 중 아이가 고열과 발진이 있습니다. 병원에 가야 할까요?",
        4,
        "medical_consultation",
        False,
    ),
    (
        27,
        "line",
        "복용 중인 혈압약이 떨어졌는데 현지 약으로 대체 가능한가요?",
        5,
        "medication",
        False,
    ),
    (
        18,
        "kakao",
        "남편이 갑자기 가슴 통증을 호소하고 식은땀을 흘려요",
        2,
        "medical_consultation",
        True,
    ),
    (11, "webchat", "스노클링 후 귀가 아프고 어지러워요", 4, "medical_consultation", False),
    (6, "kakao", "배에서 화상을 입었어요. 물집이 크게 잡혔어요.", None, None, False),
    (
        4,
        "smtp",
        "현지 병원에서 수술을 권하는데 한국으로 이송이 가능한지 문의드립니다.",
        None,
        None,
        False,
    ),
    (2, "kakao", "숨쉬기가 힘들고 입술이 파래지고 있어요", None, None, False),
    (1, "line", "벌에 쏘였는데 온몸이 가려워요", None, None, False),
]


def _live(
    db: Database,
    now: datetime,
    zone: ZoneInfo,
    doctors_on_duty: list[int],
    emt_id: int,
    rng: random.Random,
) -> int:
    """Open cases through the real intake service (events and all), some triaged and assigned."""
    intake = IntakeService(report_zone=zone, reopen_window=timedelta(hours=72))
    for i, (ago, source, words, acuity, category, assign) in enumerate(LIVE, start=1):
        at = now - timedelta(minutes=ago)
        location = "sea" if "배" in words or "선원" in words else "land"
        country = _weighted(rng, COUNTRIES[location])
        inbound = InboundMessage(
            source=source,
            sender_id=f"traveller{i}@example.com" if source == "smtp" else f"live-{source}-{i}",
            external_id=f"demo-live-{i}",
            text=words,
            sent_at=at,
            sender_name=f"{rng.choice(SURNAMES)}{rng.choice(GIVEN)}",
            locale="ko",
            country=country,
            location_type=location,
            email=f"traveller{i}@example.com" if source == "smtp" else None,
        )
        with db.unit_of_work() as session:
            ticket = intake.receive(session, inbound, now=at).ticket
            if acuity is None:
                continue
            # Triage, the record and assignment as staff do them: the real services, so the
            # rows, the events and the console agree (an unheld case goes to a doctor at once).
            emt = session.get(Staff, emt_id)
            assert emt is not None
            triaged = at + timedelta(minutes=1)
            ticket = tickets_service.triage(
                session, ticket.id, staff=emt, acuity=acuity, category=category, now=triaged
            )
            age, sex = _age_sex(rng, location)
            ticket, _ = tickets_service.update_record(
                session,
                ticket.id,
                staff=emt,
                version=ticket.version,
                values={"patient_age": age, "patient_sex": SEX_OF_STORED[sex]},
                now=triaged,
            )
            if assign and doctors_on_duty and ticket.assignee_id is None:
                tickets_service.assign(
                    session,
                    ticket.id,
                    staff_id=doctors_on_duty[i % len(doctors_on_duty)],
                    by=emt,
                    now=triaged + timedelta(minutes=1),
                )
    return len(LIVE)


# --- the whole build ---------------------------------------------------------------------


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
    logins, doctors = _staff(db, now, zone, password, rng)
    step(_l("staff and roster"))
    with db.unit_of_work() as session:
        counted = _history(session, _year_plan(now, zone), doctors, now, rng, step)
    with db.read_session() as session:
        on_duty = list(
            session.scalars(
                select(Shift.staff_id)
                .join(Staff, Staff.id == Shift.staff_id)
                .where(Staff.role == Role.DOCTOR.value, Shift.starts_at <= now, Shift.ends_at > now)
                .order_by(Shift.staff_id)
            )
        )
        emt_id = session.scalar(
            select(Staff.id).where(Staff.role == Role.EMT.value).order_by(Staff.id).limit(1)
        )
    assert emt_id is not None
    # Doctors on shift are shown as available in the console until they say otherwise (and
    # the live cases' assignment, which prefers available doctors, sees them so).
    with db.unit_of_work() as session:
        session.execute(
            update(Staff).where(Staff.id.in_(on_duty)).values(presence="available", presence_at=now)
        )
    open_cases = _live(db, now, zone, on_duty, emt_id, rng)
    step(_l("live cases"))
    return DemoResult(
        logins=logins, cases_per_year=counted, open_cases=open_cases, rebuilt=state != "empty"
    )
