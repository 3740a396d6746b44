"""The one intake service every channel calls: a message in, a case out, never lost or doubled.

Rules (SPEC.md):
- idempotent on (source, external message id): a redelivery returns what the first delivery made;
- continuity: an open ticket of the contact takes the message; a ticket resolved within the
  reopen window (72 h) is reopened; otherwise a new ticket with the next case number;
- the caller acknowledges only after the unit of work has committed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from consult119.channels.email import repository as email_repo
from consult119.db import advisory_locks
from consult119.intake import repository as intake_repo
from consult119.realtime import events
from consult119.tickets import repository as repo
from consult119.tickets import service as tickets_service
from consult119.tickets.codes import (
    OPEN_STATUSES,
    SOURCE_CHANNEL,
    Direction,
    Source,
    Status,
    format_case_number,
)
from consult119.tickets.events import message_event, ticket_event
from consult119.tickets.models import (
    Attachment,
    Contact,
    ContactIdentity,
    Message,
    Ticket,
    TicketLink,
)
from consult119.triage import pretriage

#: How far back a case of another contact with the same phone or e-mail is suggested as a link.
LINK_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class InboundMessage:
    """A message as every channel adapter hands it over."""

    source: str
    sender_id: str
    text: str
    external_id: str | None = None
    sent_at: datetime | None = None
    sender_name: str | None = None
    locale: str | None = None
    country: str | None = None
    timezone: str | None = None
    location_type: str | None = None
    vessel_or_flight: str | None = None
    phone_e164: str | None = None
    email: str | None = None
    meta: dict[str, Any] | None = None
    #: E-mail threading: Message-IDs this message answers (In-Reply-To, then References) and a
    #: case number read from the subject token, tried in that order before continuity.
    thread_refs: tuple[str, ...] = ()
    case_number_hint: str | None = None
    attachments: tuple[AttachmentIn, ...] = ()
    #: Record fields the traveller answered (API names and values: a web-chat form, a Kakao
    #: quick reply). They fill the case's empty fields as self-reported; a bad one is skipped.
    answers: dict[str, Any] | None = None

    @property
    def locks(self) -> tuple[str, ...]:
        """The advisory locks its intake takes: name them when queueing it for the writer."""
        return (repo.sender_lock(self.source, self.sender_id),)


@dataclass(frozen=True)
class AttachmentIn:
    """A file that came with the message, already within the channel's size limit."""

    filename: str
    content_type: str
    data: bytes


@dataclass
class IntakeResult:
    ticket: Ticket
    contact: Contact
    message: Message
    created: bool
    duplicate: bool
    reopened: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def ticket_id(self) -> int:
        assert self.ticket.id is not None
        return self.ticket.id

    @property
    def case_number(self) -> str:
        return self.ticket.case_number


_CONTACT_FIELDS = (
    "locale",
    "country",
    "timezone",
    "location_type",
    "vessel_or_flight",
    "phone_e164",
    "email",
)


class IntakeService:
    """Turns inbound messages into cases. Stateless apart from its configuration."""

    def __init__(self, *, report_zone: Any, reopen_window: timedelta) -> None:
        self.report_zone = report_zone
        self.reopen_window = reopen_window

    def receive(self, session: Session, msg: InboundMessage, *, now: datetime) -> IntakeResult:
        """Record ``msg`` in the caller's unit of work and return what it joined or created.

        The new-case path is plain INSERT … RETURNING statements (no ORM flushes): about eight
        statements for a message from a new traveller, including the event log.
        """
        advisory_locks(session, msg.locks)
        if msg.external_id is not None:
            ref = repo.find_message_ref(session, msg.source, msg.external_id)
            if ref is not None:
                return self._duplicate(session, *ref)

        contact, is_new_contact = self._contact_for(session, msg, now)
        ticket = self._threaded_ticket(session, msg, contact)
        if ticket is None and not is_new_contact:
            ticket = repo.latest_ticket_of_contact(session, contact.id)  # type: ignore[arg-type]
        created = reopened = False
        if ticket is None or not self._continues(ticket, now):
            ticket = self._open_ticket(session, msg, contact, now)
            created = True
        else:
            if ticket.status == Status.RESOLVED:
                self._reopen(session, ticket, now)
                reopened = True
            ticket.last_message_at = now
            ticket.updated_at = now

        values = {
            "ticket_id": ticket.id,
            "direction": Direction.INBOUND.value,
            "channel": SOURCE_CHANNEL[Source(msg.source)].value,
            "source": msg.source,
            "external_id": msg.external_id,
            "text": msg.text,
            "created_at": now,
            "sent_at": msg.sent_at,
            "meta": msg.meta,
        }
        message = repo.transient(
            Message, {"id": repo.insert_returning_id(session, Message, values), **values}
        )
        for att in msg.attachments:
            session.add(
                Attachment(
                    message_id=message.id,  # type: ignore[arg-type]
                    filename=att.filename,
                    content_type=att.content_type,
                    size=len(att.data),
                    data=att.data,
                )
            )
        if not created:
            # A new case was ranked before its INSERT (see _open_ticket).
            pretriage.on_inbound(session, ticket, msg.text, now=now, reopened=reopened)
        message_event(session, message, ticket, at=now)
        if msg.answers:
            tickets_service.fill_from_traveller(
                session, ticket, msg.answers, now=now, opened=created
            )
        if created:
            self._suggest_links(session, ticket, contact, now)
        return IntakeResult(
            ticket, contact, message, created=created, duplicate=False, reopened=reopened
        )

    def _duplicate(self, session: Session, message_id: int, ticket_id: int) -> IntakeResult:
        message = repo.get_message(session, message_id)
        ticket = repo.get_ticket(session, ticket_id)
        assert message is not None and ticket is not None
        contact = repo.get_contact(session, ticket.contact_id)
        assert contact is not None
        return IntakeResult(ticket, contact, message, created=False, duplicate=True)

    def _threaded_ticket(
        self, session: Session, msg: InboundMessage, contact: Contact
    ) -> Ticket | None:
        """The case an e-mail answers: by the Message-IDs it cites, then by its subject token.

        Citing a Message-ID proves the sender saw the mail (ours are unguessable), so it threads
        whoever writes — a relative answering from their own address. Case numbers are
        sequential, so the subject token threads only the case's own traveller. A merged case
        hands the thread on to the case it was merged into.
        """
        ticket = None
        if msg.thread_refs:
            ticket = self._follow_merges(
                session,
                email_repo.ticket_of_message_ids(session, msg.source, list(msg.thread_refs)),
            )
        if ticket is None and msg.case_number_hint:
            by_token = self._follow_merges(
                session, email_repo.ticket_by_case_number(session, msg.case_number_hint)
            )
            if by_token is not None and by_token.contact_id == contact.id:
                ticket = by_token
        return ticket

    @staticmethod
    def _follow_merges(session: Session, ticket: Ticket | None) -> Ticket | None:
        for _ in range(5):  # a short chain at most; never loop on bad data
            if ticket is None or ticket.merged_into_id is None:
                break
            ticket = repo.get_ticket(session, ticket.merged_into_id)
        return ticket

    def _suggest_links(
        self, session: Session, ticket: Ticket, contact: Contact, now: datetime
    ) -> None:
        """Suggest (never make) a link to recent cases of contacts with the same phone or e-mail."""
        matches = intake_repo.recent_tickets_of_same_person(
            session, contact, since=now - LINK_WINDOW, exclude_ticket_id=ticket.id
        )
        for other_id, reason in matches:
            session.add(
                TicketLink(
                    ticket_id=ticket.id,  # type: ignore[arg-type]
                    other_ticket_id=other_id,
                    reason=reason,
                    created_at=now,
                )
            )
            session.add(
                TicketLink(
                    ticket_id=other_id,
                    other_ticket_id=ticket.id,  # type: ignore[arg-type]
                    reason=reason,
                    created_at=now,
                )
            )
            events.append(
                session,
                "ticket.link_suggested",
                ticket_id=ticket.id,
                at=now,
                data={"ticket_id": ticket.id, "other_ticket_id": other_id, "reason": reason},
            )

    def _continues(self, ticket: Ticket, now: datetime) -> bool:
        if ticket.status in OPEN_STATUSES:
            return True
        return (
            ticket.status == Status.RESOLVED
            and ticket.resolved_at is not None
            and now - ticket.resolved_at <= self.reopen_window
        )

    def _contact_for(
        self, session: Session, msg: InboundMessage, now: datetime
    ) -> tuple[Contact, bool]:
        """The sender's contact (updated with what the message says), and whether it is new."""
        details = {name: getattr(msg, name) for name in _CONTACT_FIELDS}
        contact_id = repo.find_contact_id(session, msg.source, msg.sender_id)
        if contact_id is None:
            values = {
                **details,
                "display_name": msg.sender_name,
                "created_at": now,
                "updated_at": now,
            }
            contact = repo.transient(
                Contact, {"id": repo.insert_returning_id(session, Contact, values), **values}
            )
            repo.insert_returning_id(
                session,
                ContactIdentity,
                {
                    "contact_id": contact.id,
                    "source": msg.source,
                    "external_id": msg.sender_id,
                    "created_at": now,
                },
            )
            return contact, True
        contact = repo.get_contact(session, contact_id)  # type: ignore[assignment]
        assert contact is not None
        # The latest word from the traveller wins: they move, change language, board a ship.
        for name, value in details.items():
            if value is not None and getattr(contact, name) != value:
                setattr(contact, name, value)
                contact.updated_at = now
        if msg.sender_name and not contact.display_name:
            contact.display_name = msg.sender_name
        return contact, False

    def _open_ticket(
        self, session: Session, msg: InboundMessage, contact: Contact, now: datetime
    ) -> Ticket:
        year = now.astimezone(self.report_zone).year
        seq = repo.next_case_seq(session, year)
        values = {
            "case_number": format_case_number(year, seq),
            "year": year,
            "seq": seq,
            "channel": SOURCE_CHANNEL[Source(msg.source)].value,
            "source": msg.source,
            "contact_id": contact.id,
            "status": Status.NEW.value,
            "country": contact.country,
            "timezone": contact.timezone,
            "locale": contact.locale,
            "location_type": contact.location_type,
            "vessel_or_flight": contact.vessel_or_flight,
            "created_at": now,
            "updated_at": now,
            "last_message_at": now,
            **pretriage.initial_rank(msg.text, now=now),
            "assignment_accepted": False,
            "reopen_count": 0,
            "version": 1,
        }
        ticket = repo.transient(
            Ticket, {"id": repo.insert_returning_id(session, Ticket, values), **values}
        )
        ticket_event(session, "ticket.created", ticket, at=now)
        pretriage.announce_initial_rank(session, ticket, now=now)
        return ticket

    def _reopen(self, session: Session, ticket: Ticket, now: datetime) -> None:
        """A message soon after resolution: back to where the case stood."""
        if ticket.assignee_id is not None:
            to = Status.ASSIGNED
        elif ticket.acuity is not None:
            to = Status.TRIAGED
        else:
            to = Status.NEW
        tickets_service.reopen(session, ticket, to=to, now=now, reason="reopened")
