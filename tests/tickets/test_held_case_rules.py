"""Who may act on a case another doctor holds, and a doctor off duty may act on none.

On a held case only the holder or an EMT on duty changes the triage (an EMT may raise a level at
any time); only the holder resolves or closes it; everyone else moves it with transfer or release.
"""

from __future__ import annotations

import pytest

from consult119.db import utcnow
from consult119.errors import Conflict
from consult119.staff.models import Staff
from consult119.tickets import service
from consult119.tickets.models import Ticket
from tests.factories import make_staff, make_ticket


@pytest.fixture
def people(db):
    return {
        "holder": make_staff(db, "doctor", on_duty=True),
        "other": make_staff(db, "doctor", on_duty=True),
        "off_doctor": make_staff(db, "doctor"),
        "emt": make_staff(db, "emt", on_duty=True),
        "off_emt": make_staff(db, "emt"),
    }


def act(db, who, fn, ticket_id, **kw):
    with db.unit_of_work() as session:
        staff = session.get(Staff, who.id)
        key = "staff" if fn in (service.triage, service.add_message, service.claim) else "by"
        return fn(session, ticket_id, now=utcnow(), **{key: staff}, **kw)


def held_case(db, people) -> int:
    ticket_id = make_ticket(db, "가슴이 답답해요")
    act(db, people["holder"], service.claim, ticket_id)
    return ticket_id


def state(db, ticket_id) -> tuple:
    with db.read_session() as session:
        t = session.get(Ticket, ticket_id)
        return (t.acuity, t.status, t.assignee_id, t.version)


TRIAGE = {"acuity": 2, "category": "medical_consultation"}


def test_only_the_holder_or_an_emt_on_duty_changes_the_triage(db, people):
    ticket_id = held_case(db, people)
    for who in ("other", "off_emt"):
        before = state(db, ticket_id)
        with pytest.raises(Conflict) as refused:
            act(db, people[who], service.triage, ticket_id, **TRIAGE)
        assert refused.value.code == "ticket_taken"
        assert state(db, ticket_id) == before  # nothing half-written
    act(db, people["emt"], service.triage, ticket_id, acuity=3, category="first_aid")
    assert state(db, ticket_id)[0] == 3
    act(db, people["emt"], service.triage, ticket_id, **TRIAGE)  # raised again, at any time
    act(db, people["holder"], service.triage, ticket_id, acuity=1, category="first_aid")
    assert state(db, ticket_id)[0] == 1


def test_only_the_holder_resolves_or_closes_a_held_case(db, people):
    ticket_id = held_case(db, people)
    for who in ("other", "emt"):
        for to in ("resolved", "closed"):
            before = state(db, ticket_id)
            with pytest.raises(Conflict) as refused:
                act(db, people[who], service.change_status, ticket_id, to=to)
            assert refused.value.code == "ticket_taken"
            assert state(db, ticket_id) == before
    # Others may still move it: waiting on the traveller is not finishing it.
    act(db, people["emt"], service.change_status, ticket_id, to="waiting")
    act(
        db,
        people["holder"],
        service.change_status,
        ticket_id,
        to="resolved",
        reason="no_reply_needed",  # nobody replied on this case: resolving needs a reason
    )
    assert state(db, ticket_id)[1] == "resolved"


def test_an_unheld_case_may_be_resolved_by_an_emt(db, people):
    ticket_id = make_ticket(db, "약을 잃어버렸어요")
    act(db, people["emt"], service.change_status, ticket_id, to="resolved", reason="duplicate")
    assert state(db, ticket_id)[1] == "resolved"


@pytest.mark.parametrize(
    ("fn", "kw"),
    [
        (service.triage, TRIAGE),
        (service.change_status, {"to": "waiting"}),
        (service.add_message, {"text": "메모", "internal": True}),
        (service.release, {}),
        (service.transfer, {"staff_id": 0}),
    ],
    ids=["triage", "status", "note", "release", "transfer"],
)
def test_a_doctor_off_duty_acts_on_no_case(db, people, fn, kw):
    ticket_id = make_ticket(db, "열이 나요")
    if fn is service.release or fn is service.transfer:
        ticket_id = held_case(db, people)
        if fn is service.transfer:
            kw = {"staff_id": people["other"].id}
    before = state(db, ticket_id)
    with pytest.raises(Conflict) as refused:
        act(db, people["off_doctor"], fn, ticket_id, **kw)
    assert refused.value.code == "doctor_off_duty"
    assert state(db, ticket_id) == before
