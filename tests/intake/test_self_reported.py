# ruff: noqa: F811 (the module fixtures imported from tests.tickets.live are parameters)
"""What the traveller answers fills the case record as self-reported: the web-chat form and the
Kakao quick replies, over a real socket on both databases — with and without the form, bad
values, a staff value never overwritten, a staff edit ending the mark, and redelivery."""

from __future__ import annotations

import asyncio
import itertools
import json

import httpx
import websockets
from sqlalchemy import func, select

from consult119.audit.models import AuditEntry
from consult119.realtime.models import Event
from consult119.tickets.models import Message, Ticket
from tests.tickets.live import mdb, people, server  # noqa: F401 (module fixtures)

_ids = itertools.count(1)

FORM = {
    "patient_age": 34,
    "purpose_of_stay": "travel",
    "symptoms_onset": "오늘 새벽 2시",
    "location_type": "land",
}


def session_token(server, **body) -> httpx.Response:
    return httpx.post(f"{server.url}/api/v1/webchat/sessions", json=body, timeout=10)


def chat(server, token: str, *texts: str) -> list[dict]:
    """Send ``texts`` on one socket; the acks, in order."""

    async def run():
        acks = []
        async with websockets.connect(f"{server.ws_url}/ws/chat") as ws:
            await ws.send(json.dumps({"type": "auth", "token": token}))
            for i, text in enumerate(texts):
                await ws.send(json.dumps({"type": "message", "text": text, "client_id": f"c{i}"}))
                while True:
                    frame = json.loads(await asyncio.wait_for(ws.recv(), 15))
                    if frame["type"] == "ack":
                        acks.append(frame)
                        break
        return acks

    return asyncio.run(run())


def case_of(mdb, case_number: str) -> Ticket:
    with mdb.read_session() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.case_number == case_number)).one()
        session.expunge(ticket)
        return ticket


def updates(mdb, ticket_id: int) -> list[Event]:
    with mdb.read_session() as session:
        rows = session.scalars(
            select(Event)
            .where(Event.ticket_id == ticket_id, Event.name == "ticket.updated")
            .order_by(Event.id)
        ).all()
        for row in rows:
            session.expunge(row)
        return list(rows)


def kakao(server, utterance: str, user: str, lang: str = "ko") -> dict:
    body = {"userRequest": {"utterance": utterance, "user": {"id": user}, "lang": lang}}
    r = httpx.post(f"{server.url}/api/v1/intake/kakao", json=body, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def messages_of(mdb, ticket_id: int) -> int:
    with mdb.read_session() as session:
        return session.scalar(
            select(func.count()).select_from(Message).where(Message.ticket_id == ticket_id)
        )


def test_the_web_chat_form_fills_the_record_as_self_reported(server, people, mdb):
    r = session_token(server, locale="ko", name="김하늘", country="jp", answers=FORM)
    assert r.status_code == 201, r.text
    [first, second] = chat(server, r.json()["token"], "배가 너무 아파요", "열도 나요")
    assert first["created"] is True and second["created"] is False
    ticket = case_of(mdb, first["case_number"])
    detail = people["doctor"].get(f"/api/v1/tickets/{ticket.id}").json()
    assert {k: detail[k] for k in FORM} == FORM
    assert detail["country"] == "JP"
    # The country chosen on the form is one of its answers, though the case took it at once.
    assert detail["self_reported"] == [
        "country",
        "location_type",
        "patient_age",
        "purpose_of_stay",
        "symptoms_onset",
    ]
    assert [m["text"] for m in detail["messages"]] == ["배가 너무 아파요", "열도 나요"]
    # One ticket.updated, as a PATCH emits it, by nobody (the traveller); names-only access log.
    [event] = updates(mdb, ticket.id)
    assert event.actor_id is None and event.data["by"] is None
    assert event.data["fields"] == detail["self_reported"]
    assert event.data["changes"]["patient_age"] == 34
    assert event.data["self_reported"] == detail["self_reported"]
    with mdb.read_session() as session:
        [entry] = session.scalars(
            select(AuditEntry).where(
                AuditEntry.ticket_id == ticket.id, AuditEntry.action == "ticket.self_reported"
            )
        ).all()
    assert entry.staff_id is None and entry.detail["fields"] == detail["self_reported"]
    assert "새벽" not in json.dumps(entry.detail)


def test_without_the_form_nothing_is_marked(server, people, mdb):
    r = session_token(server, locale="ko", country="jp")
    assert r.status_code == 201, r.text
    [ack] = chat(server, r.json()["token"], "어지러워요")
    ticket = case_of(mdb, ack["case_number"])
    detail = people["doctor"].get(f"/api/v1/tickets/{ticket.id}").json()
    assert detail["self_reported"] == [] and detail["country"] == "JP"
    assert detail["version"] == 1 and updates(mdb, ticket.id) == []


def test_bad_form_values_are_refused_with_their_field(server):
    bad = [
        ({"patient_age": 200}, "answers.patient_age"),
        ({"patient_age": "34"}, "answers.patient_age"),
        ({"purpose_of_stay": "holiday"}, "answers.purpose_of_stay"),
        ({"location_type": "space"}, "answers.location_type"),
        ({"symptoms_onset": "x" * 201}, "answers.symptoms_onset"),
        ({"blood_type": "A"}, "answers.blood_type"),
        ({"vessel_or_flight": "MV\x00Hanbada"}, "answers.vessel_or_flight"),
    ]
    for answers, field in bad:
        r = session_token(server, locale="en", answers=answers)
        assert r.status_code == 422, (answers, r.text)
        assert r.json()["detail"]["field"] == field, r.text
    # An empty form (every field skipped) is fine.
    assert session_token(server, answers={}).status_code == 201


def test_a_country_no_number_is_known_for_is_not_marked(server, people, mdb):
    # The session's country stays as lenient as before; as an answer it must be a real one.
    r = session_token(server, country="zz", answers={"patient_age": 5})
    assert r.status_code == 201, r.text
    [ack] = chat(server, r.json()["token"], "아이가 토해요")
    ticket = case_of(mdb, ack["case_number"])
    assert ticket.self_reported == ["patient_age"] and ticket.patient_age == 5


def test_a_staff_edit_ends_the_mark_and_is_never_overwritten(server, people, mdb):
    r = session_token(server, locale="ko", answers={"patient_age": 34, "location_type": "sea"})
    [ack] = chat(server, r.json()["token"], "선원이 다쳤어요")
    ticket = case_of(mdb, ack["case_number"])
    assert ticket.self_reported == ["location_type", "patient_age"]
    # Staff confirm the age as it is, and correct the location: neither is the traveller's now.
    r = people["emt"].http.patch(
        f"/api/v1/tickets/{ticket.id}",
        json={"version": ticket.version, "patient_age": 34, "location_type": "air"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["self_reported"] == [] and r.json()["version"] == ticket.version + 1
    last = updates(mdb, ticket.id)[-1]
    assert last.actor_id == people["emt"].id
    assert last.data["fields"] == ["location_type", "patient_age"]
    assert last.data["self_reported"] == []

    # On Kakao: staff set the location; the traveller's later tap records the message only.
    user = f"k-staff-{next(_ids)}"
    kakao(server, "숨이 차요", user)
    with mdb.read_session() as session:
        case = session.scalars(select(Ticket).order_by(Ticket.id.desc())).first()
    r = people["emt"].http.patch(
        f"/api/v1/tickets/{case.id}", json={"version": case.version, "location_type": "sea"}
    )
    assert r.status_code == 200, r.text
    version = r.json()["version"]
    kakao(server, "위치: 육상", user)
    detail = people["doctor"].get(f"/api/v1/tickets/{case.id}").json()
    assert detail["location_type"] == "sea" and detail["self_reported"] == []
    assert detail["version"] == version
    assert [m["text"] for m in detail["messages"]] == ["숨이 차요", "위치: 육상"]


def test_kakao_quick_replies_fill_location_and_country(server, people, mdb):
    user = f"k-tap-{next(_ids)}"
    first = kakao(server, "아버지가 쓰러졌어요", user)
    replies = first["template"]["quickReplies"]
    assert replies[:3] == [
        {"label": "육상(땅 위)", "action": "message", "messageText": "위치: 육상"},
        {"label": "해상(선박)", "action": "message", "messageText": "위치: 해상(선박)"},
        {"label": "항공(기내)", "action": "message", "messageText": "위치: 항공(기내)"},
    ]
    assert len(replies) <= 10
    [ack] = [o["simpleText"]["text"] for o in first["template"]["outputs"]]
    assert "육상, 해상, 항공" in ack
    with mdb.read_session() as session:
        case = session.scalars(select(Ticket).order_by(Ticket.id.desc())).first()
    assert case.location_type is None

    tap = kakao(server, "위치: 육상", user)
    [text] = [o["simpleText"]["text"] for o in tap["template"]["outputs"]]
    assert text.startswith("육상으로 기록했습니다.") and case.case_number in text
    # "On land" asks the country next, with "another country" for the rest.
    labels = [q["label"] for q in tap["template"]["quickReplies"]]
    assert labels[:6] == ["미국", "일본", "중국", "베트남", "필리핀", "다른 나라"]
    after_tap = case_of(mdb, case.case_number)
    assert after_tap.location_type == "land" and after_tap.self_reported == ["location_type"]
    [event] = updates(mdb, case.id)
    assert event.actor_id is None and event.data["changes"] == {"location_type": "land"}

    # The same request again (Kakao's retry): nothing new — no message, no event, no version.
    again = kakao(server, "위치: 육상", user)
    assert [q["label"] for q in again["template"]["quickReplies"]][:6] == labels[:6]
    assert case_of(mdb, case.case_number).version == after_tap.version
    assert messages_of(mdb, case.id) == 2 and len(updates(mdb, case.id)) == 1

    # The country, tapped in English: recognised all the same.
    kakao(server, "Country: Japan", user, lang="en")
    done = case_of(mdb, case.case_number)
    assert done.country == "JP" and done.self_reported == ["location_type", "country"]
    detail = people["doctor"].get(f"/api/v1/tickets/{case.id}").json()
    assert detail["self_reported"] == ["location_type", "country"]
    assert [m["text"] for m in detail["messages"]][-1] == "Country: Japan"
    # A later message asks nothing more: only the usual quick replies.
    later = kakao(server, "열이 나요", user)
    assert [q["label"] for q in later["template"]["quickReplies"]] == [
        "나이·성별",
        "증상 시작 시각",
        "복용 중인 약",
        "사진 보내기",
    ]

    # "Another country" records nothing and asks the traveller to write it.
    other_user = f"k-other-{next(_ids)}"
    kakao(server, "help", other_user, lang="en")
    kakao(server, "Location: on land", other_user, lang="en")
    other = kakao(server, "Country: another country", other_user, lang="en")
    [text] = [o["simpleText"]["text"] for o in other["template"]["outputs"]]
    assert text.startswith("Please write the country you are in.")
    with mdb.read_session() as session:
        last = session.scalars(select(Ticket).order_by(Ticket.id.desc())).first()
    assert last.country is None and last.self_reported == ["location_type"]
