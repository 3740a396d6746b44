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

from sqlalchemy.orm import Session

from consult119.errors import Invalid
from consult119.i18n import lazy_gettext as _l
from consult119.tickets import repository as repo

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


def hit_ids(session: Session, q: str) -> Any:
    """The ids of the cases holding ``q``, streamed from the indexes
    (:func:`consult119.tickets.repository.search_hit_ids`)."""
    return repo.search_hit_ids(session, q, trigram=TRIGRAM)


def row_match(q: str) -> Any:
    """:func:`hit_ids` as a check of one case
    (:func:`consult119.tickets.repository.search_row_match`)."""
    return repo.search_row_match(q)
