"""What happens to a case's rank when a traveller's message arrives (called by intake)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from consult119.alerts import service as alerts
from consult119.tickets import repository as ticket_repo
from consult119.tickets.codes import UNTRIAGED_PRIORITY
from consult119.tickets.events import ticket_event
from consult119.tickets.models import Ticket
from consult119.tickets.service import requeue_if_off_duty
from consult119.triage import ktas, sla
from consult119.triage.redflags import detect


def initial_rank(text: str, *, now: datetime) -> dict[str, Any]:
    """Rank, red flags and SLA deadline of a case opened by ``text`` — the columns its INSERT
    carries, so a new case is ranked in the same statement that creates it."""
    finding = detect(text)
    priority = UNTRIAGED_PRIORITY
    if finding.suspected_acuity is not None:
        priority = min(priority, finding.suspected_acuity)
    return {
        "priority": priority,
        "red_flags": list(finding.flags) or None,
        "suspected_acuity": finding.suspected_acuity,
        "sla_due_at": now + ktas.target(priority),
    }


def announce_initial_rank(session: Session, ticket: Ticket, *, now: datetime) -> None:
    """``ticket.red_flagged`` for a new case whose first words ranked it above an untriaged one,
    and a ``red_flag`` alert for a new case whose first words carry red flags."""
    if ticket.priority < UNTRIAGED_PRIORITY:
        ticket_event(
            session,
            "ticket.red_flagged",
            ticket,
            at=now,
            red_flags=list(ticket.red_flags or ()),
            suspected_acuity=ticket.suspected_acuity,
            **{"from": UNTRIAGED_PRIORITY, "to": ticket.priority},
        )
    alerts.red_flag(session, ticket, list(ticket.red_flags or ()), now=now)


def on_inbound(
    session: Session, ticket: Ticket, text: str, *, now: datetime, reopened: bool = False
) -> None:
    """Read the message for red flags and raise the case's rank; start its clock.

    The rank is ``min(acuity or 2, suspected level)``: a red flag can only move a case up the
    queue, never down, and never changes the level a person set. When the rank rises, the case
    gets ``ticket.red_flagged``; red flags the case did not have yet raise a ``red_flag``
    alert. A reopened case whose doctor is no longer on duty goes back to
    the queue.
    """
    finding = detect(text)
    new_flags: list[str] = []
    if finding.flags:
        known = list(ticket.red_flags or [])
        new_flags = [f for f in finding.flags if f not in known]
        ticket.red_flags = known + new_flags
        if ticket.suspected_acuity is None or finding.suspected_acuity < ticket.suspected_acuity:  # type: ignore[operator]
            ticket.suspected_acuity = finding.suspected_acuity
    base = ticket.acuity if ticket.acuity is not None else UNTRIAGED_PRIORITY
    rank = min(base, ticket.suspected_acuity) if ticket.suspected_acuity is not None else base
    old_rank = ticket.priority
    if rank < old_rank:
        ticket.priority = rank
    sla.start_next_response(ticket, now=now)
    sla.reset_clock(ticket, now=now)
    if ticket.priority != old_rank:
        ticket_repo.bump_version(session, ticket, now, if_unchanged=False)
        ticket_event(
            session,
            "ticket.red_flagged",
            ticket,
            at=now,
            red_flags=list(finding.flags),
            suspected_acuity=ticket.suspected_acuity,
            **{"from": old_rank, "to": ticket.priority},
        )
    alerts.red_flag(session, ticket, new_flags, now=now)
    if reopened and ticket.assignee_id is not None:
        requeue_if_off_duty(session, ticket, now=now)
