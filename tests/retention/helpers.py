"""Cases made through the real intake at a chosen moment."""

from __future__ import annotations

from datetime import datetime, timedelta

from consult119.db import Database
from consult119.intake.service import InboundMessage, IntakeService


def receive(db: Database, sender: str, text: str, at: datetime) -> int:
    intake = IntakeService(
        report_zone=db.settings.report_zone,
        reopen_window=timedelta(hours=db.settings.reopen_window_hours),
    )
    with db.unit_of_work() as session:
        result = intake.receive(
            session,
            InboundMessage(
                source="kakao",
                sender_id=sender,
                external_id=f"{sender}-{at.timestamp()}",
                text=text,
            ),
            now=at,
        )
        return result.ticket_id
