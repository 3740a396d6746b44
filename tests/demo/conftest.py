"""Demo tests leave the database empty behind them, quickly.

The shared fixture empties tables with plain DELETEs, which on SQLite check every deleted
ticket's foreign keys (``tickets.merged_into_id`` has no index): fine for a few rows, slow
for the demo's tens of thousands. The demo's own wipe switches the checks off first.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from consult119.db import Database
from consult119.demo import wipe


@pytest.fixture
def demo_db(db: Database) -> Iterator[Database]:
    yield db
    wipe(db)
