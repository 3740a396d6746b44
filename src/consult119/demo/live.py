"""Cases arriving now: through the real intake service, then triaged, recorded and assigned
through the real ticket services as staff do it, so the rows, the events and the console agree."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from consult119.db import Database
from consult119.demo.figures import COUNTRIES, GIVEN, SURNAMES, age_sex, weighted
from consult119.intake.service import InboundMessage, IntakeService
from consult119.staff import repository as staff_repo
from consult119.tickets import service as tickets_service
from consult119.tickets.codes import SEX_OF_STORED

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


def live_cases(
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
        country = weighted(rng, COUNTRIES[location])
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
            emt = staff_repo.get_staff(session, emt_id)
            assert emt is not None
            triaged = at + timedelta(minutes=1)
            ticket = tickets_service.triage(
                session, ticket.id, staff=emt, acuity=acuity, category=category, now=triaged
            )
            age, sex = age_sex(rng, location)
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
                    # Now, not a minute after triage: the doctors are those on duty now, and a
                    # case that came in before their shift began is handed to them as it starts.
                    now=max(triaged + timedelta(minutes=1), now),
                )
    return len(LIVE)
