"""The scheduler: SLA alarms, acceptance timeouts, auto-assignment and shift-end handover.

:func:`tick` is a plain function of the database and ``now``; tests call it with the time they
choose. :func:`start` runs it every few seconds in the server process.

Several server processes may run it against one database at once. Nothing fires twice:
- SLA alarms are one conditional ``UPDATE … WHERE sla_warned_at IS NULL … RETURNING id`` each;
  a ticket another process stamped first does not match, so its event is appended once.
- Assignment work takes one ticket per transaction, locked with ``FOR UPDATE SKIP LOCKED`` and
  re-checked under the lock; a ticket another process is handling is skipped, and one it has
  handled no longer matches. (On SQLite, writers are serialised anyway.)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from consult119.alerts import cover, pager
from consult119.alerts import service as alerts
from consult119.alerts.models import AlertKind
from consult119.config import AssignmentPolicy
from consult119.db import Database
from consult119.dberrors import log_failure
from consult119.followups import service as followups
from consult119.metrics import SLA_BREACHES
from consult119.outbound import watchdog
from consult119.staff import repository as staff_repo
from consult119.staff import service as service_staff
from consult119.staff.models import Presence
from consult119.tickets import repository as repo
from consult119.tickets import service
from consult119.tickets.codes import OPEN_STATUSES, Status
from consult119.tickets.events import ticket_event
from consult119.tickets.models import Ticket
from consult119.triage import ktas, reminder, sla

if TYPE_CHECKING:
    from consult119.context import AppContext

log = logging.getLogger(__name__)


@dataclass
class TickReport:
    """What one tick did (ticket ids; staff ids for duty), for logs and tests."""

    handed_over: list[int] = field(default_factory=list)
    duty_started: list[int] = field(default_factory=list)
    duty_ended: list[int] = field(default_factory=list)
    timed_out: list[int] = field(default_factory=list)
    auto_assigned: list[int] = field(default_factory=list)
    warned: list[int] = field(default_factory=list)
    breached: list[int] = field(default_factory=list)
    unclaimed: list[int] = field(default_factory=list)  # unclaimed_critical raised
    escalated: list[int] = field(default_factory=list)  # alert ids
    handed_back: list[int] = field(default_factory=list)  # cases of doctors gone offline
    cover_raised: list[int] = field(default_factory=list)  # no_doctor / roster_gap alert ids
    cover_resolved: list[int] = field(default_factory=list)
    delivery_overdue: list[int] = field(default_factory=list)  # message ids
    reminded: list[int] = field(default_factory=list)  # tickets sent the emergency reminder
    followups_due: list[int] = field(default_factory=list)  # follow-up ids

    def __bool__(self) -> bool:
        return any(vars(self).values())


def tick(db: Database, *, now: datetime, policy: AssignmentPolicy | None = None) -> TickReport:
    """One pass over everything that is due at ``now`` (``policy``: the database's settings
    unless given)."""
    policy = policy or db.settings
    report = TickReport()
    report.handed_over, report.duty_ended = _handovers(db, now)
    report.handed_back = _offline_handbacks(db, now)
    report.duty_started = _duty_started(db, now)
    report.timed_out = _acceptance_timeouts(db, now, policy)
    report.auto_assigned = _auto_assign(db, now, policy)
    report.cover_raised, report.cover_resolved = _cover(db, now, policy)
    report.warned, report.breached, report.reminded = _sla(db, now)
    report.delivery_overdue = _delivery_overdue(db, now, policy)
    report.unclaimed = _unclaimed_critical(db, now)
    report.followups_due = _followups_due(db, now)
    report.escalated = _escalate(db, now)
    return report


#: A doctor gone offline hands back the cases of these ranks (KTAS 1–3) after the grace.
OFFLINE_HANDBACK_MAX_LEVEL = 3


def _offline_handbacks(db: Database, now: datetime) -> list[int]:
    """KTAS 1–3 cases held by an on-duty doctor who has been offline for longer than
    ``CONSULT119_PRESENCE_GRACE_SECONDS`` go to another doctor or back to the queue, as at a
    shift's end (``ticket.assigned`` with ``reason`` ``handover``, ``handover_reason``
    ``offline``). Coming back within the grace keeps them."""
    offline_before = now - timedelta(seconds=db.settings.presence_grace_seconds)
    with db.read_session() as session:
        ids = repo.offline_held_ids(session, now, offline_before, OFFLINE_HANDBACK_MAX_LEVEL)

    def still_due(session: Session, ticket: Ticket) -> bool:
        if (
            ticket.status not in OPEN_STATUSES
            or ticket.assignee_id is None
            or ticket.priority > OFFLINE_HANDBACK_MAX_LEVEL
        ):
            return False
        holder = staff_repo.get_staff(session, ticket.assignee_id)
        return (
            holder is not None
            and holder.presence == Presence.OFFLINE.value
            and (holder.presence_at is None or holder.presence_at <= offline_before)
        )

    def act(session: Session, ticket: Ticket) -> bool:
        service.hand_over(session, ticket, now=now, why=service.OFFLINE)
        return True

    return _each_locked(db, ids, still_due, act)


def _cover(db: Database, now: datetime, policy: AssignmentPolicy) -> tuple[list[int], list[int]]:
    """``no_doctor_available`` and ``roster_gap``: raised once, resolved by their answer
    (see :mod:`consult119.alerts.cover`)."""
    with db.unit_of_work() as session:
        raised, resolved = cover.check_no_doctor(
            session, now=now, untriaged_since=now - policy.untriaged_wait
        )
        gap_raised, gap_resolved = cover.check_roster_gaps(session, now=now)
    return raised + gap_raised, resolved + gap_resolved


def _delivery_overdue(db: Database, now: datetime, policy: AssignmentPolicy) -> list[int]:
    """Staff replies not delivered within ``CONSULT119_DELIVERY_OVERDUE_SECONDS`` of their
    case's rank: ``delivery_overdue`` once each (the alert's unique cause picks the winner
    among processes; the scan skips replies already raised)."""
    with db.read_session() as session:
        if not watchdog.overdue(session, now=now, policy=policy, limit=1):
            return []  # an idle tick takes no write lock
    with db.unit_of_work() as session:
        return watchdog.raise_overdue(
            session, now=now, policy=policy, pushable=watchdog.pushable_sources(db.settings)
        )


def _escalate(db: Database, now: datetime) -> list[int]:
    """Urgent alerts nobody acknowledged in ``CONSULT119_ESCALATE_AFTER_SECONDS``: escalated
    once each (the conditional update picks the winner among processes), each paged through
    the outbox when ``CONSULT119_ALERT_WEBHOOK_URL`` is set."""
    s = db.settings
    after = timedelta(seconds=s.escalate_after_seconds)
    with db.unit_of_work() as session:
        done = alerts.escalate_due(session, now=now, after=after)
        if s.alert_webhook_url:
            pager.page(session, done, after=after, console_url=s.console_url, now=now)
        return [a.id for a in done]  # type: ignore[misc]


def _critical(ticket: Ticket) -> bool:
    """KTAS 1–2 (the triaged level, else the suspected one) or red-flagged: the rule of
    :func:`consult119.tickets.repository.unclaimed_critical_ids`, re-checked under the lock."""
    level = ticket.acuity if ticket.acuity is not None else ticket.suspected_acuity
    return bool(ticket.red_flags) or (level is not None and level <= 2)


def _unclaimed_critical(db: Database, now: datetime) -> list[int]:
    """A KTAS 1–2 or red-flagged case nobody holds for ``CONSULT119_UNCLAIMED_CRITICAL_SECONDS``
    raises ``unclaimed_critical`` (once per case: its cause key); a claim or an assignment to a
    doctor resolves it (:data:`consult119.alerts.service.ANSWERED_BY_CLAIM`)."""
    wait = timedelta(seconds=db.settings.unclaimed_critical_seconds)
    since = now - wait
    with db.read_session() as session:
        ids = repo.unclaimed_critical_ids(session, waiting_since=since)

    def still_due(_: Session, ticket: Ticket) -> bool:
        return (
            ticket.status in OPEN_STATUSES
            and ticket.assignee_id is None
            and ticket.merged_into_id is None
            and ticket.created_at <= since
            and _critical(ticket)
        )

    def act(session: Session, ticket: Ticket) -> bool:
        alert = alerts.raise_for_ticket(
            session,
            AlertKind.UNCLAIMED_CRITICAL,
            ticket,
            now=now,
            waiting_since=ticket.created_at.isoformat(),
            after_seconds=int(wait.total_seconds()),
        )
        return alert is not None

    return _each_locked(db, ids, still_due, act)


def _followups_due(db: Database, now: datetime) -> list[int]:
    """``followup_due`` for each follow-up whose time has come, once each (the alert's unique
    cause picks the winner among processes)."""
    with db.read_session() as session:
        ids = followups.due_ids(session, now)
    raised = []
    for followup_id in ids:
        with db.unit_of_work() as session:
            if followups.raise_due(session, followup_id, now=now):
                raised.append(followup_id)
    return raised


def _each_locked(
    db: Database,
    ids: list[int],
    still_due: Callable[[Session, Ticket], bool],
    act: Callable[[Session, Ticket], bool],
) -> list[int]:
    """Run ``act`` on each ticket in its own transaction, locked and re-checked first."""
    done: list[int] = []
    for ticket_id in ids:
        with db.unit_of_work() as session:
            ticket = repo.lock_ticket(session, ticket_id, skip_locked=True)
            if ticket is None or not still_due(session, ticket):
                continue
            if act(session, ticket):
                done.append(ticket_id)
    return done


def _handovers(db: Database, now: datetime) -> tuple[list[int], list[int]]:
    """Open cases held by someone whose shift is over (or whose account was disabled) go to
    another doctor on duty, or back to the queue. This also covers a case that was reopened
    while its doctor was away, and a handover a crashed process left half done.

    Returns the handed-over tickets and the staff whose duty ended (``duty.ended``)."""
    with db.read_session() as session:
        ids = repo.orphaned_ticket_ids(session, now)

    def still_due(session: Session, ticket: Ticket) -> bool:
        if ticket.status not in OPEN_STATUSES or ticket.assignee_id is None:
            return False
        holder = staff_repo.get_staff(session, ticket.assignee_id)
        return (
            holder is None
            or holder.disabled
            or not staff_repo.is_on_duty(session, ticket.assignee_id, now)
        )

    def act(session: Session, ticket: Ticket) -> bool:
        service.hand_over(session, ticket, now=now)
        return True

    done = _each_locked(db, ids, still_due, act)
    with db.read_session() as session:
        if not staff_repo.ended_shifts(session, now, limit=1):
            return done, []
    with db.unit_of_work() as session:
        # Bookkeeping: when each ended shift's cases were seen to. The conditional update
        # returns only the shifts this call stamped, so each end is announced once.
        ended = staff_repo.stamp_ended_shifts(session, now)
        off_duty = _announce(
            session,
            "duty.ended",
            [staff_id for staff_id, seen in ended if seen is not None],
            now=now,
            # A back-to-back shift keeps the person on duty: nothing ended for consoles.
            still_on=lambda staff_id: staff_repo.is_on_duty(session, staff_id, now),
        )
    return done, off_duty


def _duty_started(db: Database, now: datetime) -> list[int]:
    """Announce the shifts that have begun since the last tick (``duty.started``), once each:
    the conditional update returns only the shifts this call stamped. A shift that began and
    ended between two ticks is stamped without a word."""
    with db.read_session() as session:
        due = staff_repo.any_shift_started_unseen(session, now)
    if not due:
        return []
    with db.unit_of_work() as session:
        rows = staff_repo.stamp_started_shifts(session, now)
        return _announce(
            session,
            "duty.started",
            [staff_id for staff_id, ends_at in rows if ends_at > now],
            now=now,
        )


def _announce(
    session: Session,
    name: str,
    staff_ids: list[int],
    *,
    now: datetime,
    still_on: Callable[[int], bool] | None = None,
) -> list[int]:
    """Append ``name`` (``duty.started``/``duty.ended``) for each active account of
    ``staff_ids``, except those ``still_on`` says are on duty anyway; returns who got one."""
    announced = []
    for staff_id in sorted(set(staff_ids)):
        staff = staff_repo.get_staff(session, staff_id)
        if staff is None or staff.disabled or (still_on is not None and still_on(staff_id)):
            continue
        service_staff.duty_event(session, name, staff, on_duty=name == "duty.started", now=now)
        announced.append(staff_id)
    return announced


def _acceptance_timeouts(db: Database, now: datetime, policy: AssignmentPolicy) -> list[int]:
    timeouts = {lvl: policy.accept_timeout(lvl) for lvl in ktas.LEVELS}
    with db.read_session() as session:
        ids = repo.acceptance_overdue_ids(session, now, timeouts)  # type: ignore[arg-type]

    def still_due(_: Session, ticket: Ticket) -> bool:
        return (
            ticket.status in OPEN_STATUSES
            and ticket.assignee_id is not None
            and not ticket.assignment_accepted
            and ticket.assigned_at is not None
            and ticket.assigned_at <= now - policy.accept_timeout(ticket.priority)
        )

    def act(session: Session, ticket: Ticket) -> bool:
        service.time_out(session, ticket, now=now)
        return True

    return _each_locked(db, ids, still_due, act)


def _auto_assign(db: Database, now: datetime, policy: AssignmentPolicy) -> list[int]:
    since = now - policy.untriaged_wait
    with db.read_session() as session:
        ids = repo.unassigned_due_ids(session, now, since)
        if ids and staff_repo.pick_doctor(session, now=now) is None:
            return []  # nobody has room: the queue and the SLA alarms carry on

    def still_due(_: Session, ticket: Ticket) -> bool:
        return ticket.assignee_id is None and (
            ticket.status == Status.TRIAGED
            or (ticket.status == Status.NEW and ticket.created_at <= since)
        )

    def act(session: Session, ticket: Ticket) -> bool:
        return service.auto_assign(session, ticket, now=now) is not None

    return _each_locked(db, ids, still_due, act)


#: Per clock: its columns' prefix, the ticket's deadline attribute, and the alert of a breach.
_CLOCKS = (
    (sla.FIRST_RESPONSE, "sla", "sla_due_at", AlertKind.SLA_BREACHED),
    (sla.NEXT_RESPONSE, "next_response", "next_response_due_at", AlertKind.NEXT_RESPONSE_BREACHED),
)


def _sla(db: Database, now: datetime) -> tuple[list[int], list[int], list[int]]:
    """``sla.warning`` at 80 % of the target, ``sla.breached`` at 100 %, once each, for the
    first-response clock and the next-response clock (``kind`` says which); a breach raises
    ``sla_breached`` / ``next_response_breached``, and a first-response breach of an urgent
    case queues the traveller's emergency reminder (:mod:`.reminder`, once per case)."""
    fired: dict[str, list[int]] = {"sla.warning": [], "sla.breached": []}
    reminded: list[int] = []
    breached_levels: list[int] = []
    levels = list(ktas.LEVELS)
    with db.unit_of_work() as session:
        for kind, prefix, due_attr, alert_kind in _CLOCKS:
            for name, column, leads in (
                # Level 1's target is zero: there is no time to warn before the breach.
                (
                    "sla.warning",
                    f"{prefix}_warned_at",
                    {lvl: ktas.warning_lead(lvl) for lvl in levels if ktas.target(lvl)},
                ),
                (
                    "sla.breached",
                    f"{prefix}_breached_at",
                    {lvl: ktas.target(lvl) * 0 for lvl in levels},
                ),
            ):
                ids = repo.mark_sla(session, column=column, now=now, leads=leads, clock=kind)
                for ticket in repo.tickets_by_ids(session, ids):
                    due = getattr(ticket, due_attr)
                    assert due is not None
                    ticket_event(
                        session,
                        name,
                        ticket,
                        at=now,
                        level=ticket.priority,
                        due_at=due.isoformat(),
                        target_seconds=int(ktas.target(ticket.priority).total_seconds()),
                        assignee_id=ticket.assignee_id,
                        kind=kind,
                    )
                    if name == "sla.breached":
                        breached_levels.append(ticket.priority)
                        # The next-response clock's start names its cause: each wait once.
                        started = ticket.next_response_since if kind == sla.NEXT_RESPONSE else None
                        alerts.raise_for_ticket(
                            session,
                            alert_kind,
                            ticket,
                            kind if started is None else f"{kind}:{started.isoformat()}",
                            now=now,
                            due_at=due.isoformat(),
                        )
                        if kind == sla.FIRST_RESPONSE and reminder.remind(session, ticket, now=now):
                            reminded.append(ticket.id)  # type: ignore[arg-type]
                fired[name] += ids
    for level in breached_levels:  # committed: each breach is stamped once, in one process
        SLA_BREACHES.labels(level=str(level)).inc()
    return fired["sla.warning"], fired["sla.breached"], reminded


@dataclass
class SchedulerHandle:
    """Returned by :func:`start`; ``await handle.stop()`` ends the loop."""

    task: asyncio.Task[None]

    @property
    def running(self) -> bool:
        return not self.task.done()

    async def stop(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


def start(ctx: AppContext, *, policy: AssignmentPolicy | None = None) -> SchedulerHandle:
    """Run :func:`tick` every ``scheduler_interval_seconds`` in a worker thread until stopped.

    A failing tick is logged and the next one runs as usual: one bad row must not stop the
    clocks of every other case.
    """

    policy = policy or ctx.settings

    async def loop() -> None:
        while True:
            try:
                report = await run_in_threadpool(tick, ctx.db, now=ctx.now(), policy=policy)
                if report:
                    log.info("scheduler: %s", report)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the next tick tries again
                log_failure(log, "scheduler tick failed", exc)
            await asyncio.sleep(policy.scheduler_interval_seconds)

    runner: Awaitable[None] = loop()
    return SchedulerHandle(asyncio.get_running_loop().create_task(runner))  # type: ignore[arg-type]
