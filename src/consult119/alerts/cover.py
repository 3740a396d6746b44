"""Alerts about the cover rather than about one case: nobody to answer now
(``no_doctor_available``) and nobody on the roster soon (``roster_gap``).

Both are checked by the scheduler on every tick, in its unit of work; nothing here commits.

- ``no_doctor_available`` stands for a *state*: cases wait for a doctor and no doctor on duty is
  at the console. One alert per episode for the whole service (not one per case: at 3 a.m. an
  EMT needs one clear "nobody can answer, N waiting, the most urgent is KTAS x", not a list
  growing with every case). Its cause is ``no_doctor_available`` while open; resolving it
  renames the cause (``…:resolved:<id>``), so the unique cause keeps at most one open across
  processes and the next episode raises a new one.
- ``roster_gap`` stands for a future period with no doctor on the roster, raised once per gap
  by the hour it starts in (``roster_gap:<hour>``), up to ``GAP_LEAD`` ahead.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from consult119.alerts import service as alerts
from consult119.alerts.models import AlertKind
from consult119.staff import repository as staff_repo
from consult119.staff import service as staff_service
from consult119.tickets import repository as tickets_repo

NO_DOCTOR_CAUSE = AlertKind.NO_DOCTOR_AVAILABLE.value
#: How far ahead a gap in the roster raises its alert.
GAP_LEAD = timedelta(hours=12)
#: A gap that began within this long is still raised (a server started inside it); one that
#: began earlier was raised when it was ahead, and is not raised again.
GAP_LOOKBACK = timedelta(hours=1)
#: How many waiting case numbers the alert names.
NAMED_CASES = 5


def check_no_doctor(
    session: Session, *, now: datetime, untriaged_since: datetime
) -> tuple[list[int], list[int]]:
    """Raise ``no_doctor_available`` when a case waits for a doctor (triaged and unheld, or
    untriaged past the auto-assignment wait) and no doctor on duty is available or busy;
    resolve it when one is (``doctor_available``) or no case waits any more
    (``no_case_waiting``). Returns the raised and the resolved alert ids."""
    open_now = [a for a in alerts.open_of_kind(session, AlertKind.NO_DOCTOR_AVAILABLE)]
    waiting = tickets_repo.unassigned_due_ids(session, now, untriaged_since)
    answerable = bool(waiting) and staff_repo.doctor_at_console(session, now)
    if open_now:
        if waiting and not answerable:
            return [], []
        reason = "doctor_available" if waiting else "no_case_waiting"
        resolved = [
            a.id
            for a in open_now
            if alerts.resolve_alert(
                session, a, now=now, reason=reason, new_cause=f"{NO_DOCTOR_CAUSE}:resolved:{a.id}"
            )
        ]
        return [], resolved  # type: ignore[return-value]
    if not waiting or answerable:
        return [], []
    cases = tickets_repo.tickets_by_ids(session, waiting[:NAMED_CASES])
    cases.sort(key=lambda t: waiting.index(t.id))  # type: ignore[arg-type]
    alert = alerts.raise_alert(
        session,
        AlertKind.NO_DOCTOR_AVAILABLE,
        cause=NO_DOCTOR_CAUSE,
        now=now,
        level=min(t.priority for t in cases),
        role="emt",
        data={
            "waiting": len(waiting),
            "case_numbers": [t.case_number for t in cases],
            "doctors_on_duty": staff_repo.count_doctors_on_duty(session, now),
        },
    )
    return ([alert.id] if alert is not None else []), []  # type: ignore[list-item]


def _hour(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def check_roster_gaps(session: Session, *, now: datetime) -> tuple[list[int], list[int]]:
    """Raise ``roster_gap`` for each gap with no doctor on the roster that begins in the next
    ``GAP_LEAD`` (once, by its start hour); resolve an open one when its hour is covered (a
    shift was added, or the gap is over). One scan of the doctors' shifts. Returns the raised
    and the resolved alert ids."""
    window_start, window_end = now - GAP_LOOKBACK, now + GAP_LEAD
    gaps = staff_service.roster_gaps(session, window_start, window_end)
    by_hour: dict[datetime, staff_service.CoverPeriod] = {}
    for gap in gaps:
        if gap.start > window_start:
            by_hour.setdefault(_hour(gap.start), gap)
    causes = {alerts.cause_key(AlertKind.ROSTER_GAP.value, h.isoformat()): h for h in by_hour}
    raised: list[int] = []
    for cause in sorted(set(causes) - alerts.existing_causes(session, list(causes))):
        gap = by_hour[causes[cause]]
        alert = alerts.raise_alert(
            session,
            AlertKind.ROSTER_GAP,
            cause=cause,
            now=now,
            role="admin",
            data={
                "hour": causes[cause].isoformat(),
                "start": gap.start.isoformat(),
                "end": gap.end.isoformat(),
                # The gap reaches past what the scheduler looks at: it may go on longer.
                "open_ended": gap.end >= window_end,
            },
        )
        if alert is not None:
            raised.append(alert.id)  # type: ignore[arg-type]
    resolved: list[int] = []
    for alert in alerts.open_of_kind(session, AlertKind.ROSTER_GAP):
        hour = datetime.fromisoformat(alert.data["hour"])
        lo = max(hour, window_start)
        hi = max(hour + timedelta(hours=1), now + timedelta(seconds=1))
        if any(g.start < hi and g.end > lo for g in gaps):
            continue
        if alerts.resolve_alert(session, alert, now=now, reason="covered") is not None:
            resolved.append(alert.id)  # type: ignore[arg-type]
    return raised, resolved
