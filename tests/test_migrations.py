"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from consult119.models import metadata
from consult119.tickets.search import is_search_object


def test_models_and_migrations_agree(db):
    with db.engine.connect() as conn:
        # The search indexes (FTS5 tables on SQLite, trigram indexes on PostgreSQL) are made by
        # the migration alone: the models cannot describe them.
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "include_name": lambda name, type_, parent: not is_search_object(name),
            },
        )
        diff = compare_metadata(context, metadata)
    assert diff == []


def test_shifts_begun_before_the_upgrade_are_not_announced_again(tmp_path):
    """0004 adds ``shifts.started_seen_at``: a shift that began before the upgrade counts as
    announced (no flood of duty.started on the first tick), a future one does not."""
    from datetime import timedelta

    import sqlalchemy as sa

    from consult119.config import Settings
    from consult119.db import UTCDateTime, build_engine, utcnow
    from consult119.migrate import upgrade
    from consult119.staff.models import Shift

    engine = build_engine(Settings(database_url=f"sqlite:///{tmp_path / 'm.db'}"))
    upgrade(engine, "0003_retention")
    now = utcnow()
    shifts = sa.table(
        "shifts",
        sa.column("staff_id", sa.Integer),
        sa.column("starts_at", UTCDateTime()),
        sa.column("ends_at", UTCDateTime()),
    )
    # The staff table as 0003 left it (the model has columns of later revisions).
    staff_0003 = sa.table(
        "staff",
        sa.column("id", sa.Integer),
        sa.column("email", sa.String),
        sa.column("name", sa.String),
        sa.column("role", sa.String),
        sa.column("password_hash", sa.String),
        sa.column("disabled", sa.Boolean),
        sa.column("locale", sa.String),
        sa.column("presence", sa.String),
        sa.column("capacity", sa.Integer),
        sa.column("created_at", UTCDateTime()),
    )
    with engine.begin() as conn:
        staff_id = conn.execute(
            sa.insert(staff_0003).returning(staff_0003.c.id),
            {
                "email": "a@example.org",
                "name": "A",
                "role": "doctor",
                "password_hash": "x",
                "disabled": False,
                "locale": "ko",
                "presence": "offline",
                "capacity": 8,
                "created_at": now,
            },
        ).scalar_one()
        conn.execute(
            sa.insert(shifts),
            [
                {"staff_id": staff_id, "starts_at": now - timedelta(hours=2), "ends_at": now},
                {
                    "staff_id": staff_id,
                    "starts_at": now + timedelta(hours=1),
                    "ends_at": now + timedelta(hours=9),
                },
            ],
        )
    upgrade(engine)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(Shift.starts_at, Shift.started_seen_at).order_by(Shift.starts_at)
        ).all()
        # 0005: an account made before it starts at security version 0 (what its tokens carry).
        version = conn.execute(sa.text("SELECT security_version FROM staff")).scalar_one()
    engine.dispose()
    assert version == 0
    assert rows[0].started_seen_at == rows[0].starts_at
    assert rows[1].started_seen_at is None
