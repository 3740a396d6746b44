"""What the operator's pager gets when an alert escalates: the body of its outbox row.

Enough to act on at 3 a.m. without opening anything (kind, rank, case number, how long nobody
acknowledged, one line in Korean and English) and a link to the console; no more personal data
than the alert itself carries (codes, ids, times, the case number). Written once, at escalation,
so every retry posts the same bytes under the same signature.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from consult119.alerts.models import Alert
from consult119.alerts.schemas import alert_json
from consult119.i18n import lazy_gettext as _l
from consult119.outbound import payloads as outbound

SOURCE = "pager"


def body(alert: Alert, *, after_seconds: int, console_url: str | None) -> dict[str, Any]:
    """The pager webhook's JSON body for the escalated ``alert``."""
    shown = alert_json(alert)
    case_number = (alert.data or {}).get("case_number")
    if case_number:
        summary = _l(
            "Urgent: {kind} on case {case_number} (level {level}), unacknowledged for {seconds} s.",
            kind=alert.kind,
            case_number=case_number,
            level=alert.level if alert.level is not None else "-",
            seconds=after_seconds,
        )
    else:
        summary = _l(
            "Urgent: {kind}, unacknowledged for {seconds} s.",
            kind=alert.kind,
            seconds=after_seconds,
        )
    return {
        "alert_id": alert.id,
        "kind": alert.kind,
        "level": alert.level,
        "ticket_id": alert.ticket_id,
        "case_number": case_number,
        "raised_at": shown["raised_at"],
        "escalated_at": shown["escalated_at"],
        "after_seconds": after_seconds,
        "data": shown["data"],
        "console_url": console_url,
        "summary": {"ko": summary.render("ko"), "en": summary.render("en")},
    }


def page(
    session: Session,
    escalated: list[Alert],
    *,
    after: timedelta,
    console_url: str | None,
    now: datetime,
) -> None:
    """One outbox row of source ``pager`` per escalated alert, in the caller's transaction
    (the escalation's): the pager webhook then gets it with retries."""
    seconds = int(after.total_seconds())
    for alert in escalated:
        outbound.enqueue_payload(
            session,
            SOURCE,
            body(alert, after_seconds=seconds, console_url=console_url),
            ticket_id=alert.ticket_id,
            now=now,
        )
