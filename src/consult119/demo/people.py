"""The demo's staff: twelve clinicians in three teams, a manager and an admin, and a roster of
8-hour shifts from yesterday to two weeks ahead, so someone is on duty now."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from consult119.db import Database
from consult119.demo.figures import DEMO_DOMAIN, GIVEN, SURNAMES
from consult119.staff import repository as staff_repo
from consult119.staff import service as staff_service
from consult119.staff.models import Presence, Role, Staff


@dataclass
class DemoLogin:
    role: str
    name: str
    email: str
    password: str
    on_duty: bool


@dataclass
class Team:
    """Who the demo made: the logins to print, and the ids the history and live cases use."""

    logins: list[DemoLogin]
    doctors: list[int]
    doctors_on_duty: list[int]  # by id
    emts: list[int]


def _roster(team_members: dict[int, list[int]], now: datetime, zone: ZoneInfo) -> list[dict]:
    """Shifts 00-08, 08-16, 16-24 local from yesterday to two weeks ahead; the teams rotate so
    each works every slot in turn. The past is not announced when the demo server starts."""
    shifts: list[dict[str, Any]] = []
    today = now.astimezone(zone).date()
    for offset in range(-1, 14):
        day = today + timedelta(days=offset)
        for slot in range(3):
            start = datetime.combine(day, time(8 * slot), tzinfo=zone).astimezone(UTC)
            end = start + timedelta(hours=8)
            for staff_id in team_members[(day.toordinal() + slot) % 3]:
                shifts.append(
                    {
                        "staff_id": staff_id,
                        "starts_at": start,
                        "ends_at": end,
                        "started_seen_at": start if start <= now else None,
                        "handed_over_at": end if end <= now else None,
                    }
                )
    return shifts


def make_staff(
    db: Database, now: datetime, zone: ZoneInfo, password: str, rng: random.Random
) -> Team:
    """The accounts and the roster; the doctors on shift now are at the console (available)."""
    people: list[tuple[str, str, int | None]] = [
        (Role.ADMIN.value, "admin", None),
        (Role.MANAGER.value, "manager", None),
    ]
    for i in range(1, 7):
        people.append((Role.DOCTOR.value, f"doctor{i}", (i - 1) // 2))
    for i in range(1, 7):
        people.append((Role.EMT.value, f"emt{i}", (i - 1) // 2))
    team_members: dict[int, list[int]] = {0: [], 1: [], 2: []}
    made: list[tuple[str, str, str, int]] = []
    with db.unit_of_work() as session:
        password_hash = None
        for role, local, team in people:
            name = f"{rng.choice(SURNAMES)}{rng.choice(GIVEN)}"
            email = f"{local}@{DEMO_DOMAIN}"
            if password_hash is None:
                # The first account goes through the real service (its checks, its hashing);
                # the rest share its Argon2 hash, as they share the password: an Argon2 hash
                # costs a noticeable fraction of a second, and the demo must be quick.
                staff = staff_service.create_staff(
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
            made.append((role, name, staff.email, staff.id))
            if team is not None:
                team_members[team].append(staff.id)
        shifts = _roster(team_members, now, zone)
        staff_repo.insert_shifts(session, shifts)
        on_duty = {s["staff_id"] for s in shifts if s["starts_at"] <= now < s["ends_at"]}
        doctors = [sid for role, _n, _e, sid in made if role == Role.DOCTOR.value]
        doctors_on_duty = sorted(sid for sid in doctors if sid in on_duty)
        # Doctors on shift are shown as available in the console until they say otherwise (and
        # the live cases' assignment, which prefers available doctors, sees them so).
        for staff_id in doctors_on_duty:
            doctor = staff_repo.get_staff(session, staff_id)
            assert doctor is not None
            staff_service.set_presence(session, doctor, Presence.AVAILABLE.value, now=now)
    return Team(
        logins=[
            DemoLogin(role=role, name=name, email=email, password=password, on_duty=sid in on_duty)
            for role, name, email, sid in made
        ],
        doctors=doctors,
        doctors_on_duty=doctors_on_duty,
        emts=[sid for role, _n, _e, sid in made if role == Role.EMT.value],
    )
