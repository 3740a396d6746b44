"""The demo's history: every case of 2021 up to a few hours ago, written through the importer's
bulk writer (:func:`consult119.reports.importer.write_cases`) in one transaction, seconds not
minutes. Counts per year and channel are exactly the published ones (FACTS.md); countries,
categories, KTAS levels, dispositions, ages, response and resolution times follow them; a few
cases are merged into others (not counted) and a few were reopened (counted once)."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from consult119.demo.figures import (
    ACUITY,
    CATEGORY_2021,
    CATEGORY_2024,
    CHANNEL_PACE,
    COUNTRIES,
    GIVEN,
    LATER,
    LOCATION_2024,
    MONTH_WEIGHT,
    PUBLISHED,
    REPLY,
    RESPONSE_MEDIAN_MIN,
    SEA_SHARE,
    SURNAMES,
    SYMPTOMS,
    TARGET_MINUTES,
    VESSELS,
    age_sex,
    apportion,
    disposition,
    exact_list,
    weighted,
)
from consult119.i18n import LazyText, lazy_ngettext
from consult119.reports.importer import CaseRows, write_cases
from consult119.tickets.codes import SOURCE_CHANNEL, Source, Status

#: Progress: a short description of the step just done, rendered when shown.
Step = Callable[[LazyText], None]

#: (year, cases per source, first instant, last instant)
YearPlan = tuple[int, dict[str, int], datetime, datetime]


def year_plan(now: datetime, zone: ZoneInfo) -> list[YearPlan]:
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


def write_history(
    session: Session,
    plan: list[YearPlan],
    doctors: list[int],
    now: datetime,
    rng: random.Random,
    step: Step,
) -> dict[int, int]:
    """Write the cases of every planned year, with contacts, identities and messages, and a few
    duplicates merged into them; the cases counted per year."""
    counted: dict[int, int] = {}
    serial = 0
    for year, by_source, start, end in plan:
        n = sum(by_source.values())
        full_year = end == start.replace(year=year + 1)
        created = _created_times(rng, n, start, end, full_year)
        sources = exact_list(by_source, rng)
        locations = _locations(year, n, rng)
        categories = _categories(year, n, rng)
        cases: list[CaseRows] = []
        for at, source, location, category in zip(
            created, sources, locations, categories, strict=True
        ):
            serial += 1
            cases.append(_case(serial, at, source, location, category, doctors, now, rng))
        written = write_cases(session, year, cases)
        _merged_duplicates(session, year, cases, written, now, rng)
        counted[year] = n
        step(lazy_ngettext("{year}: {n:,} case", "{year}: {n:,} cases", n, year=year))
    return counted


def _case(
    serial: int,
    at: datetime,
    source: str,
    location: str,
    category: str,
    doctors: list[int],
    now: datetime,
    rng: random.Random,
) -> CaseRows:
    """One answered case: its contact and channel id, its columns, its first two messages."""
    channel = SOURCE_CHANNEL[Source(source)].value
    country = weighted(rng, COUNTRIES[location])
    phone = f"+8210{rng.randint(10000000, 99999999)}" if source == "phone" else None
    email = f"traveller{serial}@example.com" if source == "smtp" else None
    vessel = (
        f"MV {rng.choice(VESSELS)}"
        if location == "sea"
        else f"KE{rng.randint(1, 999):03d}"
        if location == "air"
        else None
    )
    contact = {
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
    identity = {
        "source": source,
        "external_id": phone or email or f"{source}-{serial:07d}",
        "created_at": at,
    }
    acuity = weighted(rng, ACUITY)
    response = timedelta(
        minutes=RESPONSE_MEDIAN_MIN[acuity] * CHANNEL_PACE[channel] * rng.lognormvariate(0, 0.7)
    )
    first_response = at + response
    resolved = first_response + timedelta(
        minutes=25 * (3 if channel == "email" else 1) * rng.lognormvariate(0, 0.8)
    )
    closed = resolved + timedelta(hours=24)
    age, sex = age_sex(rng, location)
    doctor = rng.choice(doctors)
    ticket = {
        "channel": channel,
        "source": source,
        "status": Status.CLOSED.value if closed <= now else Status.RESOLVED.value,
        "priority": acuity,
        "acuity": acuity,
        "suspected_acuity": None,
        "red_flags": None,
        "category": category,
        "disposition": disposition(rng, acuity, category),
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
        "assignee_id": doctor,
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
    return CaseRows(
        ticket=ticket,
        contact=contact,
        identities=[identity],
        messages=_messages(channel, source, at, first_response, doctor, category, rng),
    )


def _messages(
    channel: str,
    source: str,
    at: datetime,
    first_response: datetime,
    doctor: int,
    category: str,
    rng: random.Random,
) -> list[dict[str, Any]]:
    """The traveller's first message and the doctor's first answer (a call note for phone)."""
    words = rng.choice(SYMPTOMS[category])
    base = {"channel": channel, "source": source, "external_id": None, "meta": None}
    if channel == "phone":
        return [
            {
                **base,
                "direction": "internal",
                "text": f"전화 상담: {words}",
                "author_staff_id": doctor,
                "created_at": first_response,
                "sent_at": None,
                "delivery": None,
            }
        ]
    return [
        {
            **base,
            "direction": "inbound",
            "text": words,
            "author_staff_id": None,
            "created_at": at,
            "sent_at": at,
            "delivery": None,
        },
        {
            **base,
            "direction": "outbound",
            "text": REPLY,
            "author_staff_id": doctor,
            "created_at": first_response,
            "sent_at": first_response,
            "delivery": "sent",
        },
    ]


def _merged_duplicates(
    session: Session,
    year: int,
    cases: list[CaseRows],
    written: list[tuple[int, int]],
    now: datetime,
    rng: random.Random,
) -> int:
    """A few cases opened twice (a traveller wrote again on a second channel) and merged into
    the first: they exist, and reports do not count them."""
    picks = rng.sample(range(len(cases)), k=min(12, len(cases)))
    duplicates = []
    for index in picks:
        survivor = cases[index].ticket
        ticket_id, contact_id = written[index]
        at = survivor["created_at"] + timedelta(minutes=rng.randint(2, 30))
        merged_at = min(at + timedelta(minutes=10), now)
        duplicates.append(
            CaseRows(
                ticket={
                    **survivor,
                    "contact_id": contact_id,
                    "status": Status.MERGED.value,
                    "merged_into_id": ticket_id,
                    "created_at": at,
                    "merged_at": merged_at,
                    "updated_at": merged_at,
                    "first_response_at": None,
                    "resolved_at": None,
                    "closed_at": None,
                    "reopen_count": 0,
                }
            )
        )
    if duplicates:
        write_cases(session, year, duplicates)
    return len(duplicates)
