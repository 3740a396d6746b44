"""SLA clocks: the deadline to a doctor's first response, per KTAS target, around the clock.

A case's clock starts when the case is created and runs against the target of its rank
(``priority``: the level a person set, raised by any red flag since; an untriaged case ranks 2).
It stops at the first doctor response. When the rank changes, the deadline moves with it, and an
alarm the new deadline has not reached yet is re-armed.
"""

from __future__ import annotations

from datetime import datetime

from consult119.tickets.models import Ticket
from consult119.triage import ktas


def deadline(ticket: Ticket) -> datetime:
    return ticket.created_at + ktas.target(ticket.priority)


FIRST_RESPONSE = "first_response"
NEXT_RESPONSE = "next_response"


def start_next_response(ticket: Ticket, *, now: datetime) -> None:
    """A traveller writes after a staff reply: the next-response clock starts with the case's
    target (no-op while a clock already runs, or before anyone answered)."""
    if ticket.first_response_at is None or ticket.next_response_since is not None:
        return
    ticket.next_response_since = now
    ticket.next_response_due_at = now + ktas.target(ticket.priority)
    ticket.next_response_warned_at = None
    ticket.next_response_breached_at = None


def stop_next_response(ticket: Ticket) -> None:
    """A staff reply: the next-response clock stops (the traveller has been answered)."""
    ticket.next_response_since = None
    ticket.next_response_due_at = None
    ticket.next_response_warned_at = None
    ticket.next_response_breached_at = None


def reset_clock(ticket: Ticket, *, now: datetime) -> None:
    """Set the deadline from the ticket's rank: the first-response one until a doctor has
    answered, then a running next-response one."""
    if ticket.first_response_at is not None:
        _reset_next_response(ticket, now=now)
        return
    due = deadline(ticket)
    if ticket.sla_due_at == due:
        return
    ticket.sla_due_at = due
    if ticket.sla_breached_at is not None and now < due:
        ticket.sla_breached_at = None
    if ticket.sla_warned_at is not None and now < due - ktas.warning_lead(ticket.priority):
        ticket.sla_warned_at = None


def _reset_next_response(ticket: Ticket, *, now: datetime) -> None:
    if ticket.next_response_since is None:
        return
    due = ticket.next_response_since + ktas.target(ticket.priority)
    if ticket.next_response_due_at == due:
        return
    ticket.next_response_due_at = due
    if ticket.next_response_breached_at is not None and now < due:
        ticket.next_response_breached_at = None
    if ticket.next_response_warned_at is not None and now < due - ktas.warning_lead(
        ticket.priority
    ):
        ticket.next_response_warned_at = None


def status_of(ticket: Ticket, now: datetime) -> str:
    """``stopped``, ``ok``, ``warning`` or ``breached`` for display."""
    if ticket.first_response_at is not None or ticket.sla_due_at is None:
        return "stopped"
    if now >= ticket.sla_due_at:
        return "breached"
    if now >= ticket.sla_due_at - ktas.warning_lead(ticket.priority):
        return "warning"
    return "ok"
