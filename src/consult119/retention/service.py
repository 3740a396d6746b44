"""Retention: how long each kind of record is kept, and the purge that enforces it.

A purge runs in phases, each in short batches (one unit of work per batch, so the live service
keeps writing between them on SQLite's single writer), each batch a handful of set-based SQL
statements over at most ``retention_batch_size`` ids:

1. **cases** resolved, closed or merged whose last change is older than the case retention:
   their messages, attachments, outbox rows, suggested links and events are deleted, and the
   case row is de-identified — free text, red flags, vessel or flight, timezone and locale
   cleared, the age coarsened to the lower bound of its ten-year band, ``purged_at`` set. The
   row keeps its codes (date, channel, source, status, KTAS level, category, disposition,
   country, land/sea/air, age band, sex, response times), so every report stays exactly as it
   was: statistics come from pseudonymised data, and a purge never changes a published figure.
   Open cases are never touched.
2. **attachments** of finished cases whose message is older than the attachment retention.
   In both phases a file leaves the store (:mod:`consult119.attachments.store`) with its row,
   once the batch has committed, unless another row still names the same file.
3. **events** older than the event retention (the console resyncs a client that asks to resume
   from a purged id).
4. **access log** entries older than the audit retention (never less than two years).
5. **contacts** with no case left (none, or only purged ones) unchanged for the contact
   retention: their channel identities are deleted and their name, phone, e-mail and the rest
   cleared, so a later message from the same person starts afresh.

The conditions are built once and used both to count (``plan``, the dry run) and to purge, so
a dry run announces exactly what a purge at the same moment removes. Each purge writes one
``audit_log`` entry (action ``purge``) in its first transaction and updates its counts in the
same transaction as every batch, so the entry always says what was really removed, even if the
purge is interrupted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from consult119.attachments import service as attachments
from consult119.audit import service as audit
from consult119.config import Settings
from consult119.db import Database
from consult119.retention import repository
from consult119.retention.repository import (  # noqa: F401 - part of this module's names
    CASE_PERSONAL_COLUMNS,
    CONTACT_PERSONAL_COLUMNS,
    FINISHED,
)

#: The audit action of a purge.
PURGE_ACTION = "purge"
#: What a purge counts, in the order it reports them.
KINDS = ("cases", "messages", "attachments", "outbox", "links", "events", "audit", "contacts")
#: The phases, in the order they run.
PHASES = ("cases", "attachments", "events", "audit", "contacts")

Progress = Callable[[str, int], None]


@dataclass(frozen=True)
class Cutoffs:
    """Records older than these instants (UTC) are due."""

    now: datetime
    case: datetime
    attachment: datetime
    event: datetime
    audit: datetime
    contact: datetime

    @classmethod
    def at(cls, settings: Settings, now: datetime) -> Cutoffs:
        def days(n: int) -> datetime:
            return now - timedelta(days=n)

        return cls(
            now=now,
            case=days(settings.retention_case_days),
            attachment=days(settings.retention_attachment_days),
            event=days(settings.retention_event_days),
            audit=days(settings.retention_audit_days),
            contact=days(settings.retention_contact_days),
        )

    def as_json(self) -> dict[str, str]:
        return {
            k: getattr(self, k).isoformat()
            for k in ("case", "attachment", "event", "audit", "contact")
        }


@dataclass
class Plan:
    """What is due: rows per kind, and rows per phase (for a progress bar)."""

    cutoffs: Cutoffs
    counts: dict[str, int]
    phases: dict[str, int]


@dataclass
class PurgeResult:
    cutoffs: Cutoffs
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    audit_id: int | None = None


def plan(session: Session, settings: Settings, *, now: datetime) -> Plan:
    """Count what a purge at ``now`` would remove (the dry run), without writing anything."""
    cut = Cutoffs.at(settings, now)
    counts, phases = repository.due_counts(session, cut)
    return Plan(cutoffs=cut, counts=counts, phases=phases)


# ---- purging ----------------------------------------------------------------------------------


def purge(
    db: Database,
    settings: Settings,
    *,
    now: datetime,
    by: str | None = None,
    progress: Progress | None = None,
) -> PurgeResult:
    """Remove everything due at ``now`` (see the module docstring), batch by batch.

    ``by`` names who ran it (the operating-system user for the command line); it goes into the
    audit entry with the counts. ``progress(phase, rows)`` is called after each batch.
    """
    cut = Cutoffs.at(settings, now)
    result = PurgeResult(cutoffs=cut)
    batch = settings.retention_batch_size
    store = attachments.store_of(settings)
    with db.unit_of_work() as session:
        entry = audit.record(
            session, staff_id=None, action=PURGE_ACTION, detail=_detail(result, by), at=now
        )
        session.flush()
        result.audit_id = entry.id

    def run(phase: str) -> None:
        """Batch after batch until nothing is due: pick ids, apply, record; one transaction each.
        (On PostgreSQL, rows the service holds locked are skipped until the next run.)"""
        while True:
            with db.unit_of_work() as session:
                ids = repository.due_ids(session, phase, cut, limit=batch)
                if not ids:
                    return
                hashes = repository.attachment_hashes(session, phase, ids)
                for kind, n in repository.purge_batch(session, phase, ids, now).items():
                    result.counts[kind] += n
                repository.set_audit_detail(session, result.audit_id, _detail(result, by))
            if hashes:
                # Only after the commit (a rolled-back batch keeps its files), and only the
                # files no other row names (the same photo on a case that stays).
                with db.read_session() as session:
                    attachments.remove_unreferenced(session, store, hashes)
            if progress is not None:
                progress(phase, len(ids))

    for phase in PHASES:
        run(phase)
    with db.unit_of_work() as session:
        repository.set_audit_detail(session, result.audit_id, _detail(result, by, finished=True))
    return result


def _detail(result: PurgeResult, by: str | None, *, finished: bool = False) -> dict[str, Any]:
    return {
        "by": by,
        "finished": finished,
        "counts": dict(result.counts),
        "older_than": result.cutoffs.as_json(),
    }
