"""Reading what a claimed reply needs to go out: text, recipient and the e-mail thread."""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import replace

from sqlalchemy.orm import Session

from consult119.mailaddress import one_line
from consult119.outbound import repository as outbound_repo
from consult119.outbound.delivery import Claimed
from consult119.outbound.senders import Job
from consult119.tickets.codes import CASE_TOKEN_RE, Direction
from consult119.tickets.models import Contact, Message, Ticket

#: Our Message-IDs: ``<c119.<message id>.<random>@domain>``; the random part makes them unguessable.
OWN_MESSAGE_ID_RE = re.compile(r"^<c119\.(\d+)\.[0-9a-f]{16}@[^>]+>$")
#: How many earlier Message-IDs a reply cites in ``References``.
MAX_REFERENCES = 20


def new_message_id(message_id: int, mail_from: str) -> str:
    domain = mail_from.rpartition("@")[2].strip(" >") or "consult119.localhost"
    return f"<c119.{message_id}.{secrets.token_hex(8)}@{domain}>"


def load_jobs(session: Session, claims: Sequence[Claimed], *, mail_from: str) -> dict[int, Job]:
    """Jobs for ``claims`` keyed by item id, in a handful of queries whatever their number."""
    if not claims:
        return {}
    message_ids = [c.message_id for c in claims]
    rows = outbound_repo.messages_with_case(session, message_ids)
    by_message = {m.id: (m, t, c) for m, t, c in rows}
    contact_ids = {c.id for _, _, c in rows}
    identities: dict[tuple[int, str], str] = {}
    for contact_id, source, external_id in outbound_repo.identities_of(session, contact_ids):
        identities[(contact_id, source)] = external_id  # the newest identity wins

    email_tickets = {c.ticket_id for c in claims if c.source == "smtp"}
    threads = _email_threads(session, email_tickets)
    jobs: dict[int, Job] = {}
    for claim in claims:
        found = by_message.get(claim.message_id)
        if found is None:
            continue
        message, ticket, contact = found
        job = Job(
            message_id=claim.message_id,
            ticket_id=claim.ticket_id,
            case_number=ticket.case_number,
            source=claim.source,
            text=message.text,
            recipient=identities.get((contact.id, claim.source)),  # type: ignore[arg-type]
            recipient_name=contact.display_name,
            created_at=message.created_at,
            auto_reply=bool((message.meta or {}).get("auto_reply")),
            extra={"retry_key": _uuid_of(message)},
        )
        if claim.source == "smtp":
            job = _email_job(session, job, message, ticket, contact, threads, mail_from)
        jobs[claim.item_id] = job
    return jobs


def _uuid_of(message: Message) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"consult119:message:{message.id}"))


def _email_threads(session: Session, ticket_ids: set[int]) -> dict[int, list[Message]]:
    if not ticket_ids:
        return {}
    threads: dict[int, list[Message]] = {t: [] for t in ticket_ids}
    for message in outbound_repo.email_thread_messages(session, ticket_ids):
        threads[message.ticket_id].append(message)
    return threads


def _email_job(
    session: Session,
    job: Job,
    message: Message,
    ticket: Ticket,
    contact: Contact,
    threads: dict[int, list[Message]],
    mail_from: str,
) -> Job:
    own_id = message.external_id
    if not own_id:
        # Fixed before the first attempt, so every retry sends the same Message-ID.
        own_id = new_message_id(message.id, mail_from)  # type: ignore[arg-type]
        outbound_repo.set_message_external_id(session, message.id, own_id)  # type: ignore[arg-type]
    thread = [m for m in threads.get(ticket.id, []) if m.id != message.id]  # type: ignore[arg-type]
    inbound = [m for m in thread if m.direction == Direction.INBOUND.value]
    subject = None
    for m in reversed(inbound):
        subject = (m.meta or {}).get("subject")
        if subject:
            break
    return replace(
        job,
        recipient=contact.email or job.recipient,
        email_message_id=own_id,
        in_reply_to=inbound[-1].external_id if inbound else None,
        references=tuple(m.external_id for m in thread[-MAX_REFERENCES:] if m.external_id),
        subject=reply_subject(subject, ticket.case_number),
    )


#: Most characters of the traveller's subject copied into a reply's subject.
REPLY_SUBJECT_CHARS = 120


def reply_subject(original: str | None, case_number: str) -> str:
    """``[C119-YYYY-NNNNNN] Re: <their subject>``, with the case token exactly once.

    Their subject is someone else's text in our mail: only a single-line copy without control
    characters, cut at :data:`REPLY_SUBJECT_CHARS`, is echoed.
    """
    subject = one_line(CASE_TOKEN_RE.sub("", original or ""), REPLY_SUBJECT_CHARS)
    if subject and not subject.lower().startswith("re:"):
        subject = "Re: " + subject
    return f"[{case_number}] {subject}".strip()
