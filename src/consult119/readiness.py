"""``GET /readyz``: whether this process should be sent traffic (docs/operations.md, "Readiness").

Ready means: the database's schema is the one this code was written for (its Alembic revision
is the head of this code's migrations), and the three pieces of background work the service
relies on run — the intake writer (no message is acknowledged without it), the relay (consoles
get nothing live without it) and the scheduler (SLA alarms, handovers). ``/healthz`` stays the
liveness check: it asks only whether the database answers.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from alembic.config import Config
from alembic.script import ScriptDirectory

from consult119.dberrors import outage
from consult119.migrate import MIGRATIONS
from consult119.migrate import database_revision as read_revision

if TYPE_CHECKING:
    from consult119.context import AppContext

log = logging.getLogger(__name__)

#: The parts /readyz reports, in its answer's order.
PARTS = ("schema", "writer", "relay", "scheduler")


@lru_cache(maxsize=1)
def code_head() -> str | None:
    """The newest revision of this code's migrations."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg).get_current_head()


def database_revision(ctx: AppContext) -> str | None:
    """The revision the database is at (None: no Alembic table, never migrated)."""
    with ctx.db.read_session() as session:
        return read_revision(session)


def readiness(ctx: AppContext) -> tuple[bool, dict[str, Any]]:
    """Whether the process is ready, and the answer's body: each part ``ok`` or why not."""
    checks: dict[str, str] = {}
    head = code_head()
    revision: str | None = None
    try:
        revision = database_revision(ctx)
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        log.warning("readiness: %s", outage(exc))
        checks["schema"] = "database_unavailable"
    else:
        if revision == head:
            checks["schema"] = "ok"
        elif revision is None:
            checks["schema"] = "not_migrated"
        else:
            checks["schema"] = "not_current"
    checks["writer"] = "ok" if ctx.db.writer.running else "stopped"
    console = ctx.console
    checks["relay"] = "ok" if console is not None and console.relay.running else "stopped"
    scheduler = ctx.scheduler
    checks["scheduler"] = "ok" if scheduler is not None and scheduler.running else "stopped"
    ready = all(value == "ok" for value in checks.values())
    body: dict[str, Any] = {
        "status": "ready" if ready else "not_ready",
        "checks": {part: checks[part] for part in PARTS},
        "schema": {"database": revision, "code": head},
    }
    if not ready:
        body["not_ready"] = [part for part in PARTS if checks[part] != "ok"]
    return ready, body
