"""The case record: the clinical summary staff write on a case, and the search indexes.

``chief_complaint``, ``assessment`` and ``plan`` join the patient details already on the ticket
(``PATCH /api/v1/tickets/{ticket_id}`` edits them all). They describe a person, so retention
clears them with the other personal columns of a finished case.

Search (``GET /api/v1/tickets?q=``, consult119/tickets/search.py) is a substring search over
message text, the contact's name, phone and e-mail, and the case number. On SQLite: FTS5 tables
with the trigram tokenizer over ``messages``, ``contacts`` and case numbers (external content: no second copy
of the text), kept by triggers on insert, update and delete, and filled from the existing rows.
On PostgreSQL: ``pg_trgm`` GIN indexes, which serve ``ILIKE '%…%'`` (``pg_trgm`` is a trusted
extension: the database owner may create it).

Revision ID: 0007_case_record
Revises: 0006_webchat_sessions
"""

# ruff: noqa: S608 (DDL built from the constant names below, never from input)
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007_case_record"
down_revision: str | None = "0006_webchat_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


#: (FTS table, source table, indexed columns) on SQLite.
FTS = (
    ("messages_fts", "messages", ("text",)),
    ("contacts_fts", "contacts", ("display_name", "phone_e164", "email")),
    ("tickets_fts", "tickets", ("case_number",)),
)
#: (index, table, column) on PostgreSQL.
TRGM = (
    ("ix_messages_text_trgm", "messages", "text"),
    ("ix_contacts_display_name_trgm", "contacts", "display_name"),
    ("ix_contacts_phone_trgm", "contacts", "phone_e164"),
    ("ix_contacts_email_trgm", "contacts", "email"),
    ("ix_tickets_case_number_trgm", "tickets", "case_number"),
)


def _sqlite_search() -> None:
    for fts, table, columns in FTS:
        cols = ", ".join(columns)
        new = ", ".join(f"new.{c}" for c in columns)
        old = ", ".join(f"old.{c}" for c in columns)
        op.execute(
            f"CREATE VIRTUAL TABLE {fts} USING fts5({cols}, content='{table}', "
            "content_rowid='id', tokenize='trigram')"
        )
        # External content: the index must be told the old values to forget them.
        op.execute(
            f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN "
            f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new}); END"
        )
        op.execute(
            f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN "
            f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old}); END"
        )
        op.execute(
            f"CREATE TRIGGER {fts}_au AFTER UPDATE OF {cols} ON {table} BEGIN "
            f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old}); "
            f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new}); END"
        )
        op.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")


def _postgresql_search() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, col in TRGM:
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({col} gin_trgm_ops)")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_search()
    else:
        _postgresql_search()
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "chief_complaint", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column("assessment", sqlmodel.sql.sqltypes.AutoString(length=5000), nullable=True)
        )
        batch_op.add_column(
            sa.Column("plan", sqlmodel.sql.sqltypes.AutoString(length=5000), nullable=True)
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for fts, _table, _columns in FTS:
            for suffix in ("ai", "ad", "au"):
                op.execute(f"DROP TRIGGER IF EXISTS {fts}_{suffix}")
            op.execute(f"DROP TABLE IF EXISTS {fts}")
    else:
        for name, _table, _col in TRGM:
            op.execute(f"DROP INDEX IF EXISTS {name}")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_column("plan")
        batch_op.drop_column("assessment")
        batch_op.drop_column("chief_complaint")
