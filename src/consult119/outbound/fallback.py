"""One-click fallbacks of a delivery alert (:mod:`consult119.outbound.watchdog` lists them).

``channel`` queues the reply again on another channel the traveller is known on; ``sms`` sends
it by the operator's SMS provider (``CONSULT119_SMS_URL``) to the traveller's phone; ``callback``
makes a follow-up due now ("Call back") for the case, so someone phones the traveller. Each
resolves the reply's delivery alerts and appends ``alert.fallback``, in one transaction.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from consult119.alerts import service as alerts
from consult119.alerts.models import Alert, AlertState, FallbackAction
from consult119.errors import Conflict, Invalid
from consult119.followups import service as followups
from consult119.followups.service import CALLBACK_NOTE
from consult119.i18n import LazyText
from consult119.i18n import lazy_gettext as _l
from consult119.outbound import payloads
from consult119.outbound import service as outbound
from consult119.outbound.watchdog import DELIVERY_KINDS, SMS, causes, fallbacks, phone_number
from consult119.staff.models import Staff
from consult119.tickets import repository as ticket_repo
from consult119.tickets.codes import SOURCE_CHANNEL, Direction, Source
from consult119.tickets.events import message_event
from consult119.tickets.models import Ticket

#: An SMS carries at most this much of the reply (providers split longer texts; a reply this
#: long belongs on a channel, and the SMS says where to read the rest).
SMS_MAX_CHARS = 600


def _unavailable(
    why: LazyText, alert_id: int | None, action: FallbackAction, **extra: str
) -> Conflict:
    """409 ``fallback_unavailable``: this fallback of this alert cannot be taken now."""
    return Conflict("fallback_unavailable", why, alert_id=alert_id, action=action.value, **extra)


def take_fallback(
    session: Session,
    alert_id: int,
    *,
    action: FallbackAction,
    channel: str | None,
    staff: Staff,
    now: datetime,
    pushable: Collection[str],
) -> Alert:
    """Perform one of a delivery alert's fallbacks: ``channel`` queues the reply's text again
    on ``channel`` as a new outbox item (a new outbound message on the case, with its
    ``message.created``), resolves the alert (``alert.resolved``, reason ``fallback``) and
    appends ``alert.fallback``. 404 ``alert_not_found``; 409 ``alert_resolved``; 409
    ``fallback_unavailable`` (not a delivery alert, a channel the traveller is not reachable
    on, no phone number for ``sms``/``callback``, no SMS provider); 422 ``channel_required``."""
    alert = alerts.get_or_not_found(session, alert_id)
    if alert.kind not in DELIVERY_KINDS or alert.ticket_id is None:
        raise _unavailable(_l("This alert has no fallbacks."), alert_id, action)
    # The case's row lock orders two fallbacks of one alert: the second finds it resolved.
    ticket = ticket_repo.lock_ticket(session, alert.ticket_id)
    alert = alerts.reload(session, alert_id) or alert
    if alert.state != AlertState.OPEN.value:
        raise Conflict("alert_resolved", _l("This alert is resolved already."), alert_id=alert_id)
    if action is not FallbackAction.CHANNEL:
        return _sms_or_callback(
            session, alert, ticket, action=action, staff=staff, now=now, pushable=pushable
        )
    if not channel:
        raise Invalid(
            "channel_required", _l("Name the channel to send the reply on."), field="channel"
        )
    message = ticket_repo.get_message(session, int(alert.data.get("message_id") or 0))
    if ticket is None or message is None or message.direction != Direction.OUTBOUND.value:
        raise _unavailable(_l("The reply of this alert is gone."), alert_id, action)
    contact = ticket_repo.get_contact(session, ticket.contact_id)
    offered = {
        f.get("channel")
        for f in fallbacks(session, contact, source=message.source, pushable=pushable)
        if f["action"] == FallbackAction.CHANNEL.value
    }
    if channel not in offered:
        raise _unavailable(
            _l("The traveller cannot be reached on this channel."),
            alert_id,
            action,
            channel=channel[:20],
        )
    assert message.id is not None and staff.id is not None
    again = ticket_repo.add_message(
        session,
        ticket,
        source=channel,
        channel=SOURCE_CHANNEL[Source(channel)].value,
        text=message.text,
        author_staff_id=message.author_staff_id,
        now=now,
        meta={"kind": "fallback", "fallback_of": message.id, "fallback_by": staff.id},
    )
    assert again.id is not None
    outbound.enqueue(session, ticket, again, now=now, source=channel)
    ticket_repo.set_message_meta(
        session,
        message,
        {**(message.meta or {}), "fallback": {"message_id": again.id, "channel": channel}},
    )
    ticket_repo.bump_version(session, ticket, now, if_unchanged=False)
    message_event(session, again, ticket, at=now, actor_id=staff.id)
    return _settled(
        session,
        alert,
        message.id,
        staff_id=staff.id,
        now=now,
        action=action.value,
        channel=channel,
        fallback_message_id=again.id,
    )


def _settled(
    session: Session, alert: Alert, message_id: int, *, staff_id: int, now: datetime, **done: Any
) -> Alert:
    """A fallback is sent: the reply's delivery alerts resolve, and one ``alert.fallback``
    event tells the consoles what was done (``done``)."""
    alerts.resolve_causes(session, causes(message_id), now=now, by=staff_id, reason="fallback")
    alert = alerts.reload(session, alert.id) or alert  # type: ignore[arg-type]
    alerts.alert_event(
        session,
        "alert.fallback",
        alert,
        at=now,
        actor_id=staff_id,
        message_id=message_id,
        **done,
    )
    return alert


def _sms_or_callback(
    session: Session,
    alert: Alert,
    ticket: Ticket | None,
    *,
    action: FallbackAction,
    staff: Staff,
    now: datetime,
    pushable: Collection[str],
) -> Alert:
    """``sms``: the reply's text to the traveller's phone through the operator's provider;
    ``callback``: a follow-up due now, so someone calls the traveller. 409
    ``fallback_unavailable`` when no phone number is known, or the SMS provider is not set."""
    message = ticket_repo.get_message(session, int(alert.data.get("message_id") or 0))
    contact = ticket_repo.get_contact(session, ticket.contact_id) if ticket is not None else None
    phone = phone_number(session, contact)
    if (
        ticket is None
        or message is None
        or phone is None
        or (action is FallbackAction.SMS and SMS not in pushable)
    ):
        raise _unavailable(_l("The traveller cannot be reached this way now."), alert.id, action)
    assert message.id is not None and ticket.id is not None and staff.id is not None
    done: dict[str, object] = {"action": action.value}
    if action is FallbackAction.SMS:
        text = (
            message.text
            if len(message.text) <= SMS_MAX_CHARS
            else message.text[: SMS_MAX_CHARS - 1] + "…"
        )
        item = payloads.enqueue_sms(
            session,
            to=phone,
            text=f"[{ticket.case_number}] {text}",
            ticket_id=ticket.id,
            case_number=ticket.case_number,
            now=now,
        )
        done["outbox_id"] = item.id
    else:
        followup = followups.create(
            session, ticket.id, staff=staff, due_at=now, note=CALLBACK_NOTE.singular, now=now
        )
        done["followup_id"] = followup.id
    ticket_repo.set_message_meta(session, message, {**(message.meta or {}), "fallback": done})
    return _settled(session, alert, message.id, staff_id=staff.id, now=now, **done)
