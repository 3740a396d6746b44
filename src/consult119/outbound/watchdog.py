"""The delivery watchdog: a staff reply that does not reach the traveller is an alert.

A staff reply (an outbound message with an author) that is not ``sent`` within
``CONSULT119_DELIVERY_OVERDUE_SECONDS`` of its case's rank raises ``delivery_overdue`` (the
scheduler's scan, :func:`raise_overdue`); one that becomes ``failed`` raises ``delivery_failed``
in the transaction that records the failure (:func:`on_failed`), superseding an open
``delivery_overdue`` of the same reply. A channel that cannot deliver at all (a phone case, a
source without a sender) fails its replies at the first attempt, so it raises at once too.

One alert per reply and kind (cause ``delivery_overdue:message:<id>``), resolved when the reply
is delivered (:func:`on_sent`) or a fallback is taken (:mod:`consult119.outbound.fallback`). The alert's
``data.fallbacks`` lists what is possible: another channel the traveller is known on,
``sms`` (when the SMS provider is configured) and ``callback`` when a phone number is known.

On a pull channel (web chat, Kakao without its event API) ``sent`` means the traveller's side
fetched the reply (the chat socket pushed it, or a skill response carried it): a traveller who
has closed the chat page leaves the reply undelivered, and the watchdog says so.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from consult119.alerts import service as alerts
from consult119.alerts.models import Alert, AlertKind, FallbackAction
from consult119.config import AssignmentPolicy, Settings
from consult119.i18n import emergency_advice, negotiate_locale, translator
from consult119.outbound import payloads
from consult119.outbound import repository as outbound_repo
from consult119.staff import repository as staff_repo
from consult119.tickets import repository as ticket_repo
from consult119.tickets.models import Contact, Message, Ticket
from consult119.triage import ktas

#: Sources a reply can be pushed on when their sender is configured (the fallback channels).
PUSHED = ("smtp", "line", "kakao")
DELIVERY_KINDS = (AlertKind.DELIVERY_OVERDUE.value, AlertKind.DELIVERY_FAILED.value)
SMS = "sms"


def pushable_sources(settings: Settings) -> frozenset[str]:
    """Sources whose sender is configured in ``settings``: where a fallback can go now."""
    out = set()
    if settings.smtp_relay:
        out.add("smtp")
    if settings.line_channel_token:
        out.add("line")
    if settings.kakao_event_api_url and settings.kakao_event_api_key:
        out.add("kakao")
    if settings.sms_url:
        out.add(SMS)  # the operator's SMS provider: a fallback, never a traveller's channel
    return frozenset(out)


def cause(kind: AlertKind, message_id: int) -> str:
    return f"{kind.value}:message:{message_id}"


def causes(message_id: int) -> list[str]:
    return [
        cause(AlertKind.DELIVERY_OVERDUE, message_id),
        cause(AlertKind.DELIVERY_FAILED, message_id),
    ]


def fallbacks(
    session: Session, contact: Contact | None, *, source: str, pushable: Collection[str]
) -> list[dict[str, Any]]:
    """The one-click fallbacks for a reply on ``source`` to ``contact``: codes only (the
    channel's name, never the traveller's address)."""
    if contact is None or contact.id is None:
        return []
    identities = outbound_repo.contact_identities(session, contact.id)
    known = [s for s, _ in identities]
    if contact.email:
        known.append("smtp")
    out: list[dict[str, Any]] = []
    for other in dict.fromkeys(known):
        if other != source and other in PUSHED and other in pushable:
            out.append({"action": FallbackAction.CHANNEL.value, "channel": other})
    if phone_number(session, contact) is not None:
        if SMS in pushable:
            out.append({"action": FallbackAction.SMS.value})
        out.append({"action": FallbackAction.CALLBACK.value})
    return out


def phone_number(session: Session, contact: Contact | None) -> str | None:
    """The traveller's phone number: the contact's E.164 number, else the caller id of a
    phone identity (a call the team took or missed)."""
    if contact is None or contact.id is None:
        return None
    if contact.phone_e164:
        return contact.phone_e164
    for source, external_id in outbound_repo.contact_identities(session, contact.id):
        if source == "phone" and external_id:
            return external_id
    return None


def _raise(
    session: Session,
    kind: AlertKind,
    message: Message,
    ticket: Ticket,
    *,
    source: str,
    now: datetime,
    pushable: Collection[str],
    **data: Any,
) -> Alert | None:
    assert message.id is not None
    author = (
        staff_repo.get_staff(session, message.author_staff_id)
        if message.author_staff_id is not None
        else None
    )
    contact = ticket_repo.get_contact(session, ticket.contact_id)
    emergency_sms = _emergency_sms(session, ticket, contact, now=now, pushable=pushable)
    if emergency_sms:
        data["emergency_sms"] = True
    return alerts.raise_alert(
        session,
        kind,
        cause=cause(kind, message.id),
        now=now,
        ticket_id=ticket.id,
        level=ticket.priority,
        role=author.role if author is not None else "doctor",
        staff_id=message.author_staff_id,
        data={
            "case_number": ticket.case_number,
            "message_id": message.id,
            "source": source,
            "fallbacks": fallbacks(session, contact, source=source, pushable=pushable),
            **data,
        },
    )


def overdue(
    session: Session, *, now: datetime, policy: AssignmentPolicy, limit: int = 200
) -> list[Any]:
    """Staff replies past their rank's limit with no ``delivery_overdue`` yet (one statement;
    a read session may ask it before a unit of work is opened)."""
    return outbound_repo.overdue_replies(
        session,
        now=now,
        limits={lvl: policy.delivery_overdue(lvl) for lvl in ktas.LEVELS},
        cause_prefix=f"{AlertKind.DELIVERY_OVERDUE.value}:message:",
        limit=limit,
    )


def raise_overdue(
    session: Session, *, now: datetime, policy: AssignmentPolicy, pushable: Collection[str]
) -> list[int]:
    """``delivery_overdue`` for every staff reply not delivered within its rank's limit (once
    per reply: the scan skips replies whose cause was raised). Returns the message ids."""
    rows = overdue(session, now=now, policy=policy)
    done = []
    for message_id, ticket_id, source, queued_at in rows:
        message = ticket_repo.get_message(session, message_id)
        ticket = ticket_repo.get_ticket(session, ticket_id)
        if message is None or ticket is None:
            continue
        raised = _raise(
            session,
            AlertKind.DELIVERY_OVERDUE,
            message,
            ticket,
            source=source,
            now=now,
            pushable=pushable,
            queued_at=queued_at.isoformat(),
            after_seconds=int(policy.delivery_overdue(ticket.priority).total_seconds()),
        )
        if raised is not None:
            done.append(message_id)
    return done


def on_failed(
    session: Session,
    *,
    message_id: int,
    ticket_id: int,
    source: str,
    error: str,
    now: datetime,
    pushable: Collection[str] | None,
) -> Alert | None:
    """A reply was given up (``failed``): ``delivery_failed`` at once, in the caller's
    transaction. Not for automatic messages, nor for a reply whose fallback was taken."""
    message = ticket_repo.get_message(session, message_id)
    if message is None or message.author_staff_id is None:
        return None
    if (message.meta or {}).get("fallback"):
        return None
    ticket = ticket_repo.get_ticket(session, ticket_id)
    if ticket is None:
        return None
    alerts.resolve_causes(
        session, [cause(AlertKind.DELIVERY_OVERDUE, message_id)], now=now, reason="failed"
    )
    return _raise(
        session,
        AlertKind.DELIVERY_FAILED,
        message,
        ticket,
        source=source,
        now=now,
        pushable=PUSHED if pushable is None else pushable,
        error=error.split(" ", 1)[0][:60],
    )


def on_sent(session: Session, *, message_id: int, now: datetime) -> None:
    """The reply reached the traveller: its delivery alerts are answered."""
    alerts.resolve_causes(session, causes(message_id), now=now, reason="delivered")


#: Ranks whose undelivered reply sends the local emergency number by SMS at once.
EMERGENCY_SMS_LEVELS = (1, 2)


def _emergency_sms(
    session: Session,
    ticket: Ticket,
    contact: Contact | None,
    *,
    now: datetime,
    pushable: Collection[str],
) -> bool:
    """A KTAS 1–2 case whose reply is not getting through: the local emergency number goes by
    SMS at once (once per case), when a phone number is known and the SMS provider is set."""
    level = ticket.acuity if ticket.acuity is not None else ticket.suspected_acuity
    if level not in EMERGENCY_SMS_LEVELS or SMS not in pushable or ticket.id is None:
        return False
    phone = phone_number(session, contact)
    if phone is None:
        return False
    sent = outbound_repo.payloads_of_ticket(session, ticket.id, SMS)
    if any(p.get("kind") == EMERGENCY_SMS_KIND for p in sent):
        return False
    t = translator(negotiate_locale(ticket.locale, contact.locale if contact else None))
    head = t.gettext(
        "Case {case_number}: our reply could not reach you by message. A doctor is on it.",
        case_number=ticket.case_number,
    )
    advice = emergency_advice(
        ticket.country or (contact.country if contact else None),
        t.locale,
        location_type=ticket.location_type or (contact.location_type if contact else None),
        compact=True,
    )
    payloads.enqueue_payload(
        session,
        SMS,
        {
            "to": phone,
            "text": f"{head} {advice}",
            "ticket_id": ticket.id,
            "case_number": ticket.case_number,
            "kind": EMERGENCY_SMS_KIND,  # kept on the row; the provider gets the four fields
        },
        ticket_id=ticket.id,
        now=now,
    )
    return True


EMERGENCY_SMS_KIND = "emergency"
