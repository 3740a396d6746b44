"""The traveller is never left guessing: an urgent case with no doctor reply at its target gets,
once, an automatic message on its channel repeating the local emergency number and saying the
team is alerted.

"Urgent" is KTAS 1–2 (the level a person set, else the suspected level) or any red flag; "at its target" is the
first-response breach of the SLA clock (``CONSULT119_SLA_TARGET_SECONDS`` of its rank), so the
scheduler calls :func:`remind` in the transaction that stamps the breach. The message goes
through the outbox like an acknowledgement (``meta.kind = "emergency_reminder"``, no author):
it is on the case's timeline and it does not stop the first-response clock.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from consult119.i18n import emergency_advice, negotiate_locale, translator
from consult119.outbound import service as outbound
from consult119.tickets import repository as repo
from consult119.tickets.codes import Channel
from consult119.tickets.events import message_event
from consult119.tickets.models import Message, Ticket

KIND = "emergency_reminder"
#: Ranks that get the reminder without a red flag.
URGENT_LEVELS = (1, 2)


def is_due(ticket: Ticket) -> bool:
    """An urgent case on a channel one can write to, that no doctor has answered."""
    return (
        ticket.first_response_at is None
        and ticket.channel != Channel.PHONE.value
        and (level_of(ticket) in URGENT_LEVELS or bool(ticket.red_flags))
    )


def level_of(ticket: Ticket) -> int | None:
    """The case's KTAS level, else its suspected level (an untriaged case without either is
    not known to be urgent, although it ranks 2 in the queue)."""
    return ticket.acuity if ticket.acuity is not None else ticket.suspected_acuity


def text_for(ticket: Ticket, locale: str | None, country: str | None, where: str | None) -> str:
    """The reminder in ``locale``: the team is alerted, then whom to call right now."""
    t = translator(locale)
    head = t.gettext(
        "Case {case_number}: our emergency team has been alerted and a doctor will answer as "
        "soon as possible.",
        case_number=ticket.case_number,
    )
    return f"{head}\n{emergency_advice(country, t.locale, location_type=where)}"


def remind(session: Session, ticket: Ticket, *, now: datetime) -> Message | None:
    """Queue the reminder on ``ticket``'s channel unless it is not due or was sent before."""
    if not is_due(ticket) or ticket.id is None:
        return None
    if repo.has_automatic_message(session, ticket.id, KIND):
        return None
    contact = repo.get_contact(session, ticket.contact_id)
    locale = negotiate_locale(ticket.locale, contact.locale if contact else None)
    # Where the patient is, as the acknowledgement reads it: the case's record, else the contact.
    country = ticket.country or (contact.country if contact else None)
    where = ticket.location_type or (contact.location_type if contact else None)
    message = repo.add_message(
        session,
        ticket,
        text=text_for(ticket, locale, country, where),
        now=now,
        meta={"auto_reply": True, "kind": KIND},
    )
    outbound.enqueue(session, ticket, message, now=now)
    message_event(session, message, ticket, at=now)
    return message
