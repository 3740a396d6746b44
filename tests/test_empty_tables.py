"""``db.empty_tables``: all rows or none, and the pooled SQLite connection keeps its checks."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from consult119.db import Database, empty_tables
from tests.factories import make_staff


def test_a_failed_wipe_changes_nothing_and_leaves_foreign_keys_on(db: Database) -> None:
    make_staff(db, "doctor")
    with pytest.raises(Exception, match="no_such_table"):
        empty_tables(db, ["staff", "no_such_table"])
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM staff")).scalar_one() == 1
        if db.is_sqlite:  # the wipe turned the checks off for itself only
            assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
    empty_tables(db, ["staff"])
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM staff")).scalar_one() == 0
