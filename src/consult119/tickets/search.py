"""Finding a case by its number, the traveller's name, phone or e-mail, or a word of any
message, Korean included: a substring search, served by a trigram index on each database.

SQLite: FTS5 tables with the ``trigram`` tokenizer over ``messages.text``, the contact's
name, phone and e-mail and the case number (external content: the index only, no second copy of the text), kept by
triggers the migration creates, so every writer — intake, merge, retention — keeps them true.
PostgreSQL: ``pg_trgm`` GIN indexes, which serve ``ILIKE '%…%'``. A trigram index needs three
characters; a two-character query (a Korean word is often two syllables) is answered by a plain
scan instead, slower but the same result, and a one-character query is refused.

A broad term (a phrase in one message in eight, a common two-syllable word) must not cost its
every hit: :func:`hit_ids` streams the matching case ids from the indexes and stops at
:data:`COUNT_CAP` (the page then says ``total_capped``), and :func:`row_match` checks one case
at a time, so the first page can walk the cases in queue order through ``ix_tickets_queue`` and
stop after the page (``repository.search_page``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, column, literal_column, or_, select, table, union, union_all
from sqlalchemy.orm import Session

from consult119.errors import Invalid
from consult119.i18n import lazy_gettext as _l
from consult119.tickets.models import Contact, Message, Ticket

#: The shortest query answered (below the trigram minimum of 3 by a scan).
MIN_QUERY = 2
MAX_QUERY = 200
TRIGRAM = 3
#: A search counts at most this many matching cases; beyond, ``total`` is this and the page
#: says ``total_capped`` (the console shows "1,000+").
COUNT_CAP = 1000

#: SQLite's FTS5 tables (and, with their suffixes, their shadow tables) and PostgreSQL's trigram
#: indexes: schema the migration keeps outside the ORM's metadata.
FTS_TABLES = ("messages_fts", "contacts_fts", "tickets_fts")
TRGM_INDEXES = (
    "ix_messages_text_trgm",
    "ix_contacts_display_name_trgm",
    "ix_contacts_phone_trgm",
    "ix_contacts_email_trgm",
    "ix_tickets_case_number_trgm",
)


def is_search_object(name: str | None) -> bool:
    """True for a table or index of the search indexes (not described by the models)."""
    return bool(name) and (name in TRGM_INDEXES or name.startswith(FTS_TABLES))  # type: ignore[union-attr]


def clean_query(q: str) -> str:
    """The query as searched, or 422 ``query_too_short`` / ``invalid_field``."""
    q = q.strip()
    if "\x00" in q:
        raise Invalid("invalid_text", _l("The text contains a NUL character."), field="q")
    if len(q) < MIN_QUERY:
        raise Invalid(
            "query_too_short",
            _l("Search for at least {n} characters.", n=MIN_QUERY),
            field="q",
        )
    if len(q) > MAX_QUERY:
        raise Invalid(
            "invalid_field",
            _l("Must be at most {max_length} characters.", max_length=MAX_QUERY),
            field="q",
        )
    return q


def _like(q: str) -> str:
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _phrase(q: str) -> str:
    # One FTS5 phrase: with the trigram tokenizer, a phrase matches as a substring.
    return '"' + q.replace('"', '""') + '"'


def matching(session: Session, q: str) -> Any:
    """A condition on ``Ticket``: its number, its contact or one of its messages holds ``q``.

    The ids come from one UNION of three index lookups (case numbers, contacts, messages), so
    each part is answered by its own index rather than the planner weighing an OR per row."""
    like = _like(q)
    if session.get_bind().dialect.name == "sqlite" and len(q) >= TRIGRAM:
        phrase = _phrase(q)

        def fts(name: str) -> Any:
            index = table(name, column("rowid", Integer))
            return select(index.c.rowid).where(literal_column(name).op("MATCH")(phrase))

        by_number = fts("tickets_fts")
        contact_ids: Any = fts("contacts_fts")
        message_ids = select(Message.ticket_id).where(Message.id.in_(fts("messages_fts")))
    else:
        # PostgreSQL: the trigram GIN indexes serve ILIKE; SQLite under three characters: a scan.
        by_number = select(Ticket.id).where(Ticket.case_number.ilike(like, escape="\\"))
        contact_ids = select(Contact.id).where(
            or_(
                Contact.display_name.ilike(like, escape="\\"),
                Contact.phone_e164.ilike(like, escape="\\"),
                Contact.email.ilike(like, escape="\\"),
            )
        )
        message_ids = select(Message.ticket_id).where(Message.text.ilike(like, escape="\\"))
    by_contact = select(Ticket.id).where(Ticket.contact_id.in_(contact_ids))
    return Ticket.id.in_(union(by_number, by_contact, message_ids))


def hit_ids(session: Session, q: str) -> Any:
    """The ids of the cases holding ``q``, one row per hit (a case may come more than once),
    as a subquery with one column, ``ticket_id``: a ``UNION ALL`` of the three index lookups,
    which the database can stream and stop reading when the caller has enough."""
    like = _like(q)
    if session.get_bind().dialect.name == "sqlite" and len(q) >= TRIGRAM:
        phrase = _phrase(q)

        def fts(name: str) -> Any:
            return table(name, column("rowid", Integer))

        numbers, contacts, messages = fts("tickets_fts"), fts("contacts_fts"), fts("messages_fts")
        by_number = select(numbers.c.rowid).where(literal_column("tickets_fts").op("MATCH")(phrase))
        by_contact = (
            select(Ticket.id)
            .select_from(contacts)
            .join(Ticket, Ticket.contact_id == contacts.c.rowid)
            .where(literal_column("contacts_fts").op("MATCH")(phrase))
        )
        by_message = (
            select(Message.ticket_id.label("ticket_id"))
            .select_from(messages)
            .join(Message, Message.id == messages.c.rowid)
            .where(literal_column("messages_fts").op("MATCH")(phrase))
        )
    else:
        by_number = select(Ticket.id).where(Ticket.case_number.ilike(like, escape="\\"))
        by_contact = (
            select(Ticket.id)
            .join(Contact, Contact.id == Ticket.contact_id)
            .where(_contact_holds(like))
        )
        by_message = select(Message.ticket_id.label("ticket_id")).where(
            Message.text.ilike(like, escape="\\")
        )
    # Messages first: a broad term is most often in the messages, and the caller stops reading
    # there without running the other two (which, under three characters, scan).
    return union_all(by_message, by_contact, by_number).subquery("hits")


def _contact_holds(like: str) -> Any:
    return or_(
        Contact.display_name.ilike(like, escape="\\"),
        Contact.phone_e164.ilike(like, escape="\\"),
        Contact.email.ilike(like, escape="\\"),
    )


def row_match(q: str) -> Any:
    """:func:`matching` as a check of one case (``Ticket`` correlated): its number, its contact
    or one of its messages (through ``ix_messages_ticket``) holds ``q``. What a walk of the
    cases in queue order filters on, so it can stop after a page.

    Scalar subqueries (``LIMIT 1 … IS NOT NULL``), not ``EXISTS``: PostgreSQL may answer an
    ``EXISTS`` under ``OR`` by hashing every hit up front, which is the cost the walk avoids."""
    like = _like(q)
    contact = (
        select(Contact.id)
        .where(Contact.id == Ticket.contact_id, _contact_holds(like))
        .limit(1)
        .correlate(Ticket)
        .scalar_subquery()
    )
    message = (
        select(Message.id)
        .where(Message.ticket_id == Ticket.id, Message.text.ilike(like, escape="\\"))
        .limit(1)
        .correlate(Ticket)
        .scalar_subquery()
    )
    return or_(
        Ticket.case_number.ilike(like, escape="\\"), contact.is_not(None), message.is_not(None)
    )
