"""How the e-mail channel threads: our Message-IDs, the thread a reply cites, its subject.

Replies are threaded like mail clients expect: ``In-Reply-To`` the traveller's last mail,
``References`` the thread, the subject ``[C119-…] Re: <theirs>``; our own Message-IDs carry the
message's primary key so a reply to one of them finds its case on any source.
"""

from __future__ import annotations

import secrets
from dataclasses import replace

from sqlalchemy.orm import Session

from consult119.channels.email import repository as email_repo
from consult119.mailaddress import one_line
from consult119.outbound import repository as outbound_repo
from consult119.outbound.senders import Job
from consult119.tickets.codes import CASE_TOKEN_RE, Direction
from consult119.tickets.models import Contact, Message, Ticket

#: How many earlier Message-IDs a reply cites in ``References``.
MAX_REFERENCES = 20


def new_message_id(message_id: int, mail_from: str) -> str:
    domain = mail_from.rpartition("@")[2].strip(" >") or "consult119.localhost"
    return f"<c119.{message_id}.{secrets.token_hex(8)}@{domain}>"


def threads(session: Session, ticket_ids: set[int]) -> dict[int, list[Message]]:
    if not ticket_ids:
        return {}
    threads: dict[int, list[Message]] = {t: [] for t in ticket_ids}
    for message in email_repo.thread_messages(session, ticket_ids):
        threads[message.ticket_id].append(message)
    return threads


def email_job(
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
