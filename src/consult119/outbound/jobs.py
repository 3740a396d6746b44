"""Reading what a claimed item needs to go out: a reply's text, recipient and e-mail thread,
or a payload row's payload."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.orm import Session

from consult119.attachments import service as attachments
from consult119.channels.email import thread as email
from consult119.outbound import repository as outbound_repo
from consult119.outbound.delivery import Claimed
from consult119.outbound.senders import Job
from consult119.tickets.models import Message


def load_jobs(session: Session, claims: Sequence[Claimed], *, mail_from: str) -> dict[int, Job]:
    """Jobs for ``claims`` keyed by item id, in a handful of queries whatever their number."""
    if not claims:
        return {}
    jobs: dict[int, Job] = _payload_jobs(session, [c for c in claims if c.message_id is None])
    claims = [c for c in claims if c.message_id is not None]
    if not claims:
        return jobs
    message_ids = [c.message_id for c in claims]
    rows = outbound_repo.messages_with_case(session, message_ids)
    by_message = {m.id: (m, t, c) for m, t, c in rows}
    contact_ids = {c.id for _, _, c in rows}
    identities: dict[tuple[int, str], str] = {}
    for contact_id, source, external_id in outbound_repo.identities_of(session, contact_ids):
        identities[(contact_id, source)] = external_id  # the newest identity wins

    email_tickets = {c.ticket_id for c in claims if c.source == "smtp"}
    threads = email.threads(session, email_tickets)  # type: ignore[arg-type]
    files = attachments.files_of_messages(
        session, [c.message_id for c in claims if c.source in attachments.SOURCES_WITH_FILES]
    )
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
            files=tuple(
                (a.filename, a.content_type, a.sha256)
                for a in files.get(claim.message_id, [])
                if attachments.readable(a) and a.sha256 is not None
            ),
        )
        if claim.source == "smtp":
            job = email.email_job(session, job, message, ticket, contact, threads, mail_from)
        jobs[claim.item_id] = job
    return jobs


def _payload_jobs(session: Session, claims: Sequence[Claimed]) -> dict[int, Job]:
    """Jobs of payload rows (the pager, SMS): the row's payload is all the sender posts."""
    payloads = outbound_repo.payloads_of(session, [c.item_id for c in claims])
    jobs: dict[int, Job] = {}
    for claim in claims:
        payload = payloads.get(claim.item_id)
        if payload is None:
            continue  # no payload: the dispatcher fails it as missing
        jobs[claim.item_id] = Job(
            message_id=None,
            ticket_id=claim.ticket_id,
            case_number=str(payload.get("case_number") or ""),
            source=claim.source,
            text=str(payload.get("text") or ""),
            recipient=None,
            payload=payload,
            extra={"retry_key": f"consult119:outbox:{claim.item_id}"},
        )
    return jobs


def _uuid_of(message: Message) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"consult119:message:{message.id}"))
