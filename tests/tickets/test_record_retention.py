"""The clinical summary is personal health data: the retention purge clears it with the rest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from consult119.retention import service as retention
from consult119.staff.models import Staff
from consult119.tickets import service
from consult119.tickets.models import Ticket
from tests.factories import make_staff
from tests.retention.helpers import receive

NOW = datetime(2036, 3, 1, 3, 0, tzinfo=UTC)
OLD = NOW - timedelta(days=11 * 365)  # past the 10-year case retention


def test_the_purge_clears_the_clinical_summary(db, settings):
    emt = make_staff(db, "emt", on_duty=True, now=OLD)
    case = receive(db, "old-summary", "가슴이 아파요", OLD)
    with db.unit_of_work() as session:
        staff = session.get(Staff, emt.id)
        version = session.get(Ticket, case).version
        service.update_record(
            session,
            case,
            staff=staff,
            version=version,
            values={"chief_complaint": "흉통", "assessment": "ACS 의심", "plan": "회항"},
            now=OLD,
        )
        service.add_message(session, case, staff=staff, text="119에 전화하세요", now=OLD)
        service.change_status(session, case, to="resolved", by=staff, now=OLD)
        service.change_status(session, case, to="closed", by=staff, now=OLD)
    retention.purge(db, settings, now=NOW)
    with db.read_session() as session:
        ticket = session.get(Ticket, case)
        assert ticket.purged_at == NOW
        assert ticket.chief_complaint is ticket.assessment is ticket.plan is None
