"""Every query of the reports: SQL aggregates over the tickets table, nothing loaded row by row.

Periods arrive as UTC instants (computed from local dates in the reporting timezone by the
service) and filter ``created_at`` directly, so the covering index ``ix_tickets_report``
(created_at, channel, source, status) answers the channel counts without touching the table.
Monthly buckets compare ``created_at`` with the month boundaries in a CASE, which works the same
on SQLite and PostgreSQL; percentiles use window functions (nearest rank), also portable.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, literal, or_, select
from sqlalchemy.orm import Session

from consult119.staff.models import Staff
from consult119.tickets.codes import OPEN_STATUSES, Status
from consult119.tickets.models import Ticket

UNKNOWN = "unknown"

#: Columns a breakdown may group by (``age_band`` is computed).
DIMENSIONS = ("location_type", "country", "category", "acuity", "age_band", "sex")


def counted(start: datetime, end: datetime) -> ColumnElement[bool]:
    """The cases a report counts: created in [start, end), not merged away into another case."""
    return and_(
        Ticket.created_at >= start, Ticket.created_at < end, Ticket.status != Status.MERGED.value
    )


def count_by(
    session: Session, key: str, start: datetime, end: datetime, known: Sequence[str]
) -> dict[str, int]:
    """Cases per ``channel`` or ``source`` in [start, end); keys with no case are left out.

    One pass over the covering index with ``count(*) FILTER (WHERE key = …)`` per known code:
    on SQLite a GROUP BY here would feed every row through a temporary B-tree, which costs
    about twice as much over a million cases (docs/performance.md). A code outside ``known``
    (say, data from a newer version) is still counted, by a second query that only runs then.
    """
    column = getattr(Ticket, key)
    row = session.execute(
        select(*(func.count().filter(column == k) for k in known), func.count()).where(
            counted(start, end)
        )
    ).one()
    counts = {k: int(n) for k, n in zip(known, row[:-1], strict=True) if n}
    if sum(counts.values()) != row[-1]:
        others = (
            select(column, func.count())
            .where(counted(start, end), column.not_in(list(known)))
            .group_by(column)
        )
        counts.update({str(k): int(n) for k, n in session.execute(others)})
    return counts


def monthly_counts(
    session: Session, key: str, boundaries: Sequence[datetime]
) -> list[tuple[int, str, int]]:
    """(month index 1..n, key, count) with months given by ``n + 1`` increasing boundaries."""
    column = getattr(Ticket, key)
    month = case(
        *[
            (Ticket.created_at < bound, literal(i))
            for i, bound in enumerate(boundaries[1:], start=1)
        ],
        else_=literal(0),
    ).label("month")
    stmt = (
        select(month, column, func.count())
        .where(counted(boundaries[0], boundaries[-1]))
        .group_by(month, column)
        .order_by(month, column)
    )
    return [(int(m), str(k), int(n)) for m, k, n in session.execute(stmt)]


def seconds_between(session: Session, earlier: Any, later: Any) -> ColumnElement[float]:
    """``later - earlier`` in seconds, in the dialect's own date arithmetic."""
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def _group_column(by: str) -> ColumnElement[Any]:
    if by == "channel":
        return Ticket.channel
    if by == "acuity":
        return Ticket.acuity
    raise ValueError(by)


def duration_percentiles(
    session: Session, metric: str, by: Sequence[str], start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """Median, p90 and mean of time to first response or to resolution, in seconds, per group.

    Nearest-rank percentiles from ``row_number()`` over each group: one query, no rows in Python.
    """
    end_column = (
        Ticket.first_response_at
        if metric == "first_response"
        else func.coalesce(Ticket.resolved_at, Ticket.closed_at)
    )
    duration = seconds_between(session, Ticket.created_at, end_column)
    groups = [_group_column(b).label(b) for b in by]
    partition = [_group_column(b) for b in by] or [literal(1)]
    ranked = (
        select(
            *groups,
            duration.label("d"),
            func.row_number().over(partition_by=partition, order_by=duration).label("rn"),
            func.count().over(partition_by=partition).label("n"),
        )
        .where(counted(start, end), end_column.is_not(None))
        .subquery()
    )
    cols = [ranked.c[b] for b in by]
    n = ranked.c.n
    stmt = select(
        *cols,
        func.max(n).label("n"),
        func.max(case((ranked.c.rn == (n + 1) // 2, ranked.c.d))).label("p50"),
        func.max(case((ranked.c.rn == (n * 9 + 9) // 10, ranked.c.d))).label("p90"),
        func.avg(ranked.c.d).label("mean"),
    )
    if cols:
        stmt = stmt.group_by(*cols).order_by(*cols)
    return [dict(row._mapping) for row in session.execute(stmt)]


def sla_by_acuity(
    session: Session, start: datetime, end: datetime, now: datetime
) -> list[dict[str, Any]]:
    """Per KTAS level: cases with a due time, met (a doctor answered by then), missed, pending."""
    met = and_(Ticket.first_response_at.is_not(None), Ticket.first_response_at <= Ticket.sla_due_at)
    missed = or_(
        Ticket.first_response_at > Ticket.sla_due_at,
        and_(Ticket.first_response_at.is_(None), Ticket.sla_due_at <= now),
    )
    stmt = (
        select(
            Ticket.acuity.label("acuity"),
            func.count().label("cases"),
            func.sum(case((met, 1), else_=0)).label("met"),
            func.sum(case((missed, 1), else_=0)).label("missed"),
        )
        .where(counted(start, end), Ticket.acuity.is_not(None), Ticket.sla_due_at.is_not(None))
        .group_by(Ticket.acuity)
        .order_by(Ticket.acuity)
    )
    return [dict(row._mapping) for row in session.execute(stmt)]


def age_band() -> ColumnElement[str]:
    """Ten-year bands (0-9 … 70+), the granularity statistics may show."""
    age = Ticket.patient_age
    whens = [(age < (i + 1) * 10, literal(f"{i * 10}-{i * 10 + 9}")) for i in range(7)]
    return case((age.is_(None), literal(UNKNOWN)), *whens, else_=literal("70+"))


def _dimension(name: str) -> ColumnElement[Any]:
    if name == "age_band":
        return age_band()
    if name == "sex":
        return Ticket.patient_sex
    return getattr(Ticket, name)


def breakdown(session: Session, dimension: str, start: datetime, end: datetime) -> dict[str, int]:
    """Cases per value of ``dimension`` (one of :data:`DIMENSIONS`); missing values as unknown."""
    column = _dimension(dimension).label("k")
    stmt = select(column, func.count()).where(counted(start, end)).group_by(column)
    return {UNKNOWN if k is None else str(k): int(n) for k, n in session.execute(stmt)}


def doctor_workload(session: Session, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Per doctor: cases assigned, resolved, still open, and mean time to first response."""
    response = seconds_between(session, Ticket.created_at, Ticket.first_response_at)
    open_codes = [s.value for s in OPEN_STATUSES]
    stmt = (
        select(
            Staff.id.label("staff_id"),
            Staff.name.label("name"),
            func.count(Ticket.id).label("cases"),
            func.sum(
                case(
                    (or_(Ticket.resolved_at.is_not(None), Ticket.closed_at.is_not(None)), 1),
                    else_=0,
                )
            ).label("resolved"),
            func.sum(case((Ticket.status.in_(open_codes), 1), else_=0)).label("open"),
            func.avg(response).label("mean_first_response"),
        )
        .join(Ticket, and_(Ticket.assignee_id == Staff.id, counted(start, end)), isouter=True)
        .where(Staff.role == "doctor")
        .group_by(Staff.id, Staff.name)
        .order_by(func.count(Ticket.id).desc(), Staff.name)
    )
    return [dict(row._mapping) for row in session.execute(stmt)]


def cases_for_export(start: datetime, end: datetime) -> Select[Any]:
    """The pseudonymisable columns of each counted case: no names, contacts or message text."""
    return (
        select(
            Ticket.id,
            Ticket.case_number,
            Ticket.created_at,
            Ticket.channel,
            Ticket.source,
            Ticket.status,
            Ticket.acuity,
            Ticket.category,
            Ticket.disposition,
            Ticket.location_type,
            Ticket.country,
            age_band().label("age_band"),
            Ticket.patient_sex,
            Ticket.reopen_count,
            Ticket.first_response_at,
            func.coalesce(Ticket.resolved_at, Ticket.closed_at).label("resolved_at"),
        )
        .where(counted(start, end))
        .order_by(Ticket.created_at, Ticket.id)
    )


def stream(session: Session, stmt: Select[Any], batch: int = 2000) -> Iterator[Any]:
    """Rows of ``stmt`` fetched in batches (for exports that write one line per case)."""
    yield from session.execute(stmt.execution_options(yield_per=batch))


#: The annual report's tables whose values are a short fixed list, and those values: each is
#: counted with ``count(*) FILTER (WHERE …)`` in one pass (None: nothing recorded).
FIXED_VALUES: dict[str, list[str | None]] = {
    "location_type": ["land", "sea", "air", None],
    "category": [
        "medical_consultation",
        "first_aid",
        "medication",
        "hospital_info",
        "transfer",
        "other",
        None,
    ],
    "age_band": [f"{i * 10}-{i * 10 + 9}" for i in range(7)] + ["70+", None],
    "patient_sex": ["F", "M", "O", "U", None],
}


def _matches(dimension: str, value: str | None) -> ColumnElement[bool]:
    if dimension == "age_band":
        age = Ticket.patient_age
        if value is None:
            return age.is_(None)
        if value == "70+":
            return age >= 70
        low = int(value.split("-")[0])
        return and_(age >= low, age <= low + 9)
    column = getattr(Ticket, dimension)
    return column.is_(None) if value is None else column == value


def annual_counts(
    session: Session, start: datetime, end: datetime
) -> dict[str, dict[str | None, int]]:
    """Counted cases of [start, end) per value of location, type, age band, sex and country.

    The fixed lists are counted in one pass with a FILTER per value (as :func:`count_by`
    does: one scan, no temporary B-tree per table); countries, an open list, in one GROUP BY.
    A value outside a fixed list (data from a newer version, an age below 0) is still found,
    by a GROUP BY of that table that only runs then.
    """
    filters = [
        func.count().filter(_matches(d, v)) for d, values in FIXED_VALUES.items() for v in values
    ]
    row = session.execute(select(func.count(), *filters).where(counted(start, end))).one()
    total, found = int(row[0]), iter(row[1:])
    out: dict[str, dict[str | None, int]] = {}
    for dimension, values in FIXED_VALUES.items():
        counts = {v: int(n) for v, n in zip(values, found, strict=False) if n}
        if sum(counts.values()) != total:
            column = (age_band() if dimension == "age_band" else getattr(Ticket, dimension)).label(
                "k"
            )
            stmt = select(column, func.count()).where(counted(start, end)).group_by(column)
            counts = {
                (None if k in (None, UNKNOWN) and dimension == "age_band" else k): int(n)
                for k, n in session.execute(stmt)
            }
        out[dimension] = counts
    countries = (
        select(Ticket.country, func.count()).where(counted(start, end)).group_by(Ticket.country)
    )
    out["country"] = {k: int(n) for k, n in session.execute(countries)}
    return out


def case_time_span(session: Session) -> tuple[datetime | None, datetime | None]:
    """The first and last creation time of a counted case (both None without cases)."""
    row = session.execute(
        select(func.min(Ticket.created_at), func.max(Ticket.created_at)).where(
            Ticket.status != Status.MERGED.value
        )
    ).one()
    return row[0], row[1]


def count_cases(session: Session, start: datetime, end: datetime) -> int:
    """Counted cases created in [start, end) (the covering index answers it)."""
    return int(session.scalar(select(func.count()).where(counted(start, end))) or 0)
