"""The rules of canned replies: what a reply may say, and how it is filled in for a case.

A body may name two placeholders, ``{case_number}`` and ``{emergency_number}``; any other
``{name}`` is refused when the reply is written, so a reply never reaches a traveller with a
hole in it. Rendering replaces exactly those two and nothing else (no ``str.format``: a body
is data, not a template language).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from consult119.errors import Conflict, Invalid, NotFound
from consult119.i18n import emergency_numbers, translator
from consult119.i18n import lazy_gettext as _l
from consult119.realtime import events
from consult119.replies import repository as repo
from consult119.replies.defaults import default_rows
from consult119.replies.models import MAX_BODY_CHARS, MAX_TITLE_CHARS, CannedReply
from consult119.tickets.service import clean_text

#: The languages a reply is written in (the languages of the service).
LANGUAGES = ("ko", "en")
#: The placeholders a body may use.
PLACEHOLDERS = ("case_number", "emergency_number")
#: The fields a write may set.
FIELDS = ("key", "language", "title", "body", "position", "active")

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


@dataclass(frozen=True)
class CaseFacts:
    """What a reply needs to know about the case it is rendered for."""

    case_number: str
    country: str | None
    locale: str | None

    @property
    def language(self) -> str:
        """The traveller's language: English when the case's locale is English, else Korean."""
        return "en" if (self.locale or "").strip().lower().startswith("en") else "ko"


def emergency_number_text(country: str | None, language: str) -> str:
    """The local emergency number of ``country`` (the ambulance line, as acknowledgements
    name it), or, for a case without a known country, the words acknowledgements use."""
    numbers = emergency_numbers(country)
    if numbers is not None:
        return numbers.ambulance
    return translator(language).gettext("the local emergency number")


def render(body: str, *, language: str, facts: CaseFacts) -> str:
    """``body`` with its placeholders filled for the case."""
    values = {
        "case_number": facts.case_number,
        "emergency_number": emergency_number_text(facts.country, language),
    }
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), body)


def case_facts(session: Session, ticket_id: int) -> CaseFacts:
    """The case's number, country and locale (the case's own, else its traveller's)."""
    found = repo.case_context(session, ticket_id)
    if found is None:
        raise NotFound("ticket_not_found", _l("No case with id {ticket_id}.", ticket_id=ticket_id))
    ticket, contact = found
    return CaseFacts(
        case_number=ticket.case_number,
        country=ticket.country or (contact.country if contact else None),
        locale=ticket.locale or (contact.locale if contact else None),
    )


def list_replies(
    session: Session, *, include_inactive: bool = False, first_language: str | None = None
) -> list[CannedReply]:
    """The replies, ``first_language`` first, each language in its order."""
    return repo.list_replies(
        session, include_inactive=include_inactive, first_language=first_language
    )


#: The event every write appends (``data.change``: created, updated or deleted): a console
#: holding the list of replies knows to fetch it again.
CHANGED = "reply.changed"


def _changed(
    session: Session,
    reply: CannedReply,
    change: str,
    *,
    by: int | None,
    now: datetime,
    **extra: Any,
) -> None:
    data = {"reply_id": reply.id, "key": reply.key, "language": reply.language, "change": change}
    events.append(session, CHANGED, actor_id=by, at=now, data={**data, **extra})


def _not_found(reply_id: int) -> NotFound:
    return NotFound("reply_not_found", _l("No canned reply with id {reply_id}.", reply_id=reply_id))


def get_reply(session: Session, reply_id: int) -> CannedReply:
    """The reply, or 404 ``reply_not_found``."""
    reply = repo.get_reply(session, reply_id)
    if reply is None:
        raise _not_found(reply_id)
    return reply


def _checked(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` as stored, or 422 with the ``field`` at fault. Nothing is written before."""
    out = dict(values)
    if "language" in out and out["language"] not in LANGUAGES:
        raise Invalid(
            "unknown_language",
            _l("Unknown language: {language}. Use ko or en.", language=out["language"]),
            field="language",
        )
    if "title" in out:
        out["title"] = clean_text(out["title"].strip(), max_chars=MAX_TITLE_CHARS, field="title")
    if "body" in out:
        out["body"] = check_body(out["body"])
    return out


def check_body(body: str) -> str:
    """A body as stored: not blank, at most ``MAX_BODY_CHARS``, no NUL, known placeholders."""
    body = clean_text(body.strip(), max_chars=MAX_BODY_CHARS, field="body")
    unknown = [m.group(0) for m in _PLACEHOLDER.finditer(body) if m.group(1) not in PLACEHOLDERS]
    if unknown:
        raise Invalid(
            "unknown_placeholder",
            _l(
                "Unknown placeholder {placeholder}. A reply may use: {allowed}.",
                placeholder=unknown[0],
                allowed=", ".join(f"{{{name}}}" for name in PLACEHOLDERS),
            ),
            field="body",
            placeholders=list(PLACEHOLDERS),
        )
    return body


def _exists(key: str, language: str) -> Conflict:
    return Conflict(
        "reply_exists",
        _l("A canned reply {key} in {language} exists already.", key=key, language=language),
        field="key",
    )


def _require_free_key(
    session: Session, key: str, language: str, *, other_than: int | None = None
) -> None:
    if repo.key_taken(session, key, language, other_than=other_than):
        raise _exists(key, language)


def create_reply(
    session: Session, *, values: dict[str, Any], by: int | None, now: datetime
) -> CannedReply:
    """A new reply from ``values`` (every field of ``FIELDS``; ``position``, ``active``
    optional). 409 ``reply_exists`` when its key is taken in its language."""
    stored = _checked(values)
    _require_free_key(session, stored["key"], stored["language"])
    try:
        reply = repo.add_reply(
            session, CannedReply(**stored, created_at=now, updated_at=now, version=1)
        )
    except repo.KeyTaken:  # taken by a concurrent write since the check
        raise _exists(stored["key"], stored["language"]) from None
    _changed(session, reply, "created", by=by, now=now)
    return reply


def _current(reply: CannedReply) -> dict[str, Any]:
    return {name: getattr(reply, name) for name in FIELDS}


def _stale(reply: CannedReply) -> Conflict:
    return Conflict(
        "stale_version",
        _l(
            "The canned reply was changed by someone else meanwhile; check its current text "
            "and save again."
        ),
        version=reply.version,
        current=_current(reply),
    )


def update_reply(
    session: Session,
    reply_id: int,
    *,
    version: int,
    values: dict[str, Any],
    by: int | None,
    now: datetime,
) -> tuple[CannedReply, list[str]]:
    """Write ``values`` (a subset of ``FIELDS``) if the reply is still at ``version``; returns
    the reply and the names of the fields that changed. Of two admins saving the same version
    one wins and the other gets 409 ``stale_version`` with the reply as it is now."""
    stored = _checked(values)
    reply = get_reply(session, reply_id)
    if reply.version != version:
        raise _stale(reply)
    changed = {name: value for name, value in stored.items() if getattr(reply, name) != value}
    if not changed:
        return reply, []
    if "key" in changed or "language" in changed:
        _require_free_key(
            session,
            changed.get("key", reply.key),
            changed.get("language", reply.language),
            other_than=reply.id,
        )
    try:
        won = repo.bump_version(session, reply, now, **changed)
    except repo.KeyTaken:  # taken by a concurrent write since the check
        key, language = changed.get("key", reply.key), changed.get("language", reply.language)
        raise _exists(key, language) from None
    if not won:
        # Someone's write reached the row first: show theirs (or that it is gone).
        current = repo.reload_reply(session, reply)
        if current is None:
            raise _not_found(reply_id)
        raise _stale(current)
    fields = sorted(changed)
    _changed(session, reply, "updated", by=by, now=now, fields=fields)
    return reply, fields


def delete_reply(session: Session, reply_id: int, *, by: int | None, now: datetime) -> CannedReply:
    """Remove the reply for good (an admin who only wants it hidden sets ``active`` false)."""
    reply = get_reply(session, reply_id)
    repo.delete_reply(session, reply)
    _changed(session, reply, "deleted", by=by, now=now)
    return reply


def seed_defaults(session: Session, *, now: datetime) -> int:
    """Put the default replies in an empty table (the demo after emptying its tables); a
    table that holds any reply is left alone. Returns how many were added."""
    if repo.count_replies(session):
        return 0
    rows = default_rows()
    for row in rows:
        repo.add_reply(session, CannedReply(**row, created_at=now, updated_at=now, version=1))
    return len(rows)
