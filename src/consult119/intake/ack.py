"""The acknowledgement a traveller reads at once after writing in.

A first message gets the whole of it, in the traveller's language: the case number, whom to call
right where they are if life is in danger, when a doctor will answer, and what to send while
waiting — within the channel's limit (Kakao: 1,000 characters). A follow-up gets one short line
with the emergency reminder. A redelivery gets what the first delivery got, since the first answer
may never have reached the traveller.

Every channel adapter calls ``acknowledgement(result, locale, wait=...)`` with the expected
wait that :func:`wait_for` read from the queue in the intake's own transaction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from consult119.i18n import Translator, emergency_advice, negotiate_locale, translator
from consult119.intake import repository as intake_repo
from consult119.intake.service import IntakeResult
from consult119.tickets.models import Ticket

#: The longest text each channel shows in one message (None: no practical limit).
CHANNEL_LIMITS: dict[str, int | None] = {
    "kakao": 1000,  # simpleText in a skill response
    "line": 5000,
    "telegram": 4096,
    "whatsapp": 4096,
    "webchat": None,
}

#: Doctor-minutes one case needs before the next can be answered: the first response, not the
#: whole consultation. Chosen so an empty queue with two doctors on duty reads "about 5 minutes".
MINUTES_PER_CASE = 10

ELLIPSIS = "…"


@dataclass(frozen=True)
class WaitEstimate:
    """Cases waiting ahead of this one and doctors on duty, from one query."""

    ahead: int
    doctors: int

    @property
    def minutes(self) -> int | None:
        """Expected minutes to a doctor's answer, rounded up to 5; None with no doctor on duty."""
        if self.doctors <= 0:
            return None
        raw = (self.ahead + 1) * MINUTES_PER_CASE / self.doctors
        return max(5, math.ceil(raw / 5) * 5)


#: Cases ahead counted at most (see estimate_wait).
AHEAD_CAP = 100


def estimate_wait(session: Session, *, now: datetime, ticket: Ticket | None = None) -> WaitEstimate:
    """Open cases waiting for a doctor ahead of ``ticket`` in queue order (all of them without
    a ticket), and on-duty doctors — two counts in one round trip, both served by indexes."""
    ahead, doctors = intake_repo.wait_counts(session, now=now, cap=AHEAD_CAP, ticket=ticket)
    return WaitEstimate(ahead=ahead, doctors=doctors)


def opened_by_this_message(result: IntakeResult) -> bool:
    """Whether ``result``'s message opened its case (a redelivery of that message too)."""
    # The message that opens a case is stamped with the case's creation time.
    return result.created or (
        result.duplicate
        and result.message.created_at is not None
        and result.message.created_at == result.ticket.created_at
    )


def _wait_line(t: Translator, wait: WaitEstimate | None) -> str:
    if wait is None:
        return t.gettext("An emergency doctor will answer as soon as possible.")
    minutes = wait.minutes
    if minutes is None:
        return t.gettext("An emergency doctor will answer as soon as one is free.")
    if minutes >= 90:
        hours = round(minutes / 60)
        return t.ngettext(
            "An emergency doctor will answer in about {n} hour.",
            "An emergency doctor will answer in about {n} hours.",
            hours,
        )
    return t.ngettext(
        "An emergency doctor will answer in about {n} minute.",
        "An emergency doctor will answer in about {n} minutes.",
        minutes,
    )


def _what_to_send(t: Translator) -> str:
    items = (
        t.gettext("the patient's age"),
        t.gettext("the symptoms and when they began"),
        t.gettext("medicines taken"),
        t.gettext("a photo if there is a wound"),
    )
    return t.gettext("While you wait, please send:") + "".join(f"\n- {item}" for item in items)


def _fit(candidates: list[str], max_chars: int | None) -> str:
    """The first candidate within ``max_chars``; the last one cut to fit otherwise."""
    if max_chars is None:
        return candidates[0]
    for text in candidates:
        if len(text) <= max_chars:
            return text
    return candidates[-1][: max(0, max_chars - len(ELLIPSIS))] + ELLIPSIS


def acknowledgement(
    result: IntakeResult,
    locale: str | None,
    *,
    wait: WaitEstimate | None = None,
    max_chars: int | None = None,
) -> str:
    """The acknowledgement text for ``result``, in ``locale`` (else the contact's, else Korean).

    ``wait`` adds the expected wait (see :func:`estimate_wait`); ``max_chars`` defaults to the
    limit of the ticket's channel. The case number and the emergency line always survive; the
    list of what to send is shortened first.
    """
    t = translator(negotiate_locale(locale, result.contact.locale, result.ticket.locale))
    # The case's record first: staff may have set where the patient is (PATCH), and every
    # acknowledgement from then on names that country's number; the contact's word otherwise.
    country = result.ticket.country or result.contact.country
    location_type = result.ticket.location_type or result.contact.location_type
    limit = max_chars if max_chars is not None else CHANNEL_LIMITS.get(result.ticket.source)
    number = result.case_number

    if not opened_by_this_message(result):
        reminder = emergency_advice(country, t.locale, location_type=location_type, compact=True)
        if result.duplicate:
            head = t.gettext("Already received (case {case_number}).", case_number=number)
        elif result.reopened:
            head = t.gettext(
                "Your case {case_number} is open again; a doctor will answer.", case_number=number
            )
        else:
            head = t.gettext("Added to your case {case_number}.", case_number=number)
        return _fit([f"{head} {reminder}", head], limit)

    head = t.gettext("Received. Your case number is {case_number}.", case_number=number)
    emergency = emergency_advice(country, t.locale, location_type=location_type)
    wait_line = _wait_line(t, wait)
    compact_send = t.gettext(
        "Please send the patient's age, the symptoms and when they began, medicines taken, "
        "and a photo if there is a wound."
    )
    return _fit(
        [
            f"{head}\n{emergency}\n{wait_line}\n\n{_what_to_send(t)}",
            f"{head}\n{emergency}\n{wait_line}\n{compact_send}",
            f"{head}\n{emergency}\n{wait_line}",
            f"{head}\n{emergency}",
        ],
        limit,
    )


def wait_for(session: Session, result: IntakeResult, *, now: datetime) -> WaitEstimate | None:
    """The expected wait to tell a traveller whose message opened ``result``'s case (None for
    a follow-up, which gets no wait line). One read, in the caller's session."""
    if not opened_by_this_message(result):
        return None
    return estimate_wait(session, now=now, ticket=result.ticket)
