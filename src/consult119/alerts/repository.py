"""Every query of the alerts. The service calls these; routes never query directly."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Update, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from consult119.alerts.models import Alert, AlertState

_alerts = Alert.__table__  # type: ignore[attr-defined]


def insert_once(session: Session, values: dict[str, Any]) -> Alert | None:
    """Insert the alert unless its ``cause`` exists: ``INSERT … ON CONFLICT (cause) DO
    NOTHING RETURNING``. The new row, or None when the cause was raised already (by this
    transaction, an earlier one, or another process's concurrent one: PostgreSQL makes the
    second insert wait on the unique index until the first commits, then do nothing)."""
    dialect = session.get_bind().dialect.name
    ins = pg_insert(_alerts) if dialect == "postgresql" else sqlite_insert(_alerts)
    new_id = session.scalar(
        ins.values(**values)
        .on_conflict_do_nothing(index_elements=["cause"])
        .returning(_alerts.c.id)
    )
    if new_id is None:
        return None
    return session.get(Alert, new_id)


def escalate_due(session: Session, *, raised_before: datetime, now: datetime) -> list[Alert]:
    """Stamp ``escalated_at`` on every open, unacknowledged, not yet escalated alert about a
    KTAS 1–2 case or a red flag raised at or before ``raised_before``: one conditional update,
    so of several processes' schedulers exactly one escalates each alert. Returns those."""
    return _updated(
        session,
        update(Alert)
        .where(
            Alert.state == AlertState.OPEN.value,
            Alert.acknowledged_at.is_(None),  # type: ignore[union-attr]
            Alert.escalated_at.is_(None),  # type: ignore[union-attr]
            Alert.raised_at <= raised_before,
            or_(Alert.level <= 2, Alert.kind == "red_flag"),  # type: ignore[operator]
        )
        .values(escalated_at=now),
    )


def _updated(session: Session, statement: Update) -> list[Alert]:
    """Run a conditional ``UPDATE`` of alerts and return the rows it changed, fresh, in id
    order: of several processes running the same update, each row goes to exactly one."""
    ids = list(
        session.scalars(statement.returning(Alert.id).execution_options(synchronize_session=False))
    )
    if not ids:
        return []
    return list(
        session.scalars(
            select(Alert)
            .where(Alert.id.in_(ids))  # type: ignore[union-attr]
            .order_by(Alert.id)
            .execution_options(populate_existing=True)
        )
    )


def get_alert(session: Session, alert_id: int) -> Alert | None:
    return session.get(Alert, alert_id)


def acknowledge(session: Session, alert_id: int, *, by: int, now: datetime) -> Alert | None:
    """Stamp the acknowledgement of an open alert nobody acknowledged yet; the alert when this
    call did it (one of two at once wins), None otherwise."""
    done = session.scalar(
        update(Alert)
        .where(
            Alert.id == alert_id,
            Alert.state == AlertState.OPEN.value,
            Alert.acknowledged_at.is_(None),  # type: ignore[union-attr]
        )
        .values(acknowledged_at=now, acknowledged_by=by)
        .returning(Alert.id)
        .execution_options(synchronize_session=False)
    )
    if done is None:
        return None
    return reload(session, alert_id)


def reload(session: Session, alert_id: int) -> Alert | None:
    return session.scalars(
        select(Alert).where(Alert.id == alert_id).execution_options(populate_existing=True)
    ).one_or_none()


def resolve(
    session: Session,
    *,
    ticket_id: int,
    kinds: Iterable[str] | None,
    by: int | None,
    now: datetime,
) -> list[Alert]:
    """Resolve the open alerts of ``ticket_id`` (of ``kinds``, or all); returns those this
    call resolved, so each resolution is announced once."""
    conds = [Alert.ticket_id == ticket_id, Alert.state == AlertState.OPEN.value]
    if kinds is not None:
        conds.append(Alert.kind.in_(list(kinds)))  # type: ignore[attr-defined]
    # Cheap read first: most replies answer a case without alerts.
    return _resolve_where(session, conds, by=by, now=now)


def resolve_causes(
    session: Session, causes: list[str], *, by: int | None, now: datetime
) -> list[Alert]:
    """Resolve the open alerts of ``causes`` (a cheap read on the unique cause index first);
    returns those this call resolved."""
    conds = [Alert.cause.in_(causes), Alert.state == AlertState.OPEN.value]  # type: ignore[attr-defined]
    return _resolve_where(session, conds, by=by, now=now)


def _resolve_where(
    session: Session, conds: list[Any], *, by: int | None, now: datetime
) -> list[Alert]:
    """Resolve the open alerts matching ``conds``, after a cheap read (on an index) that most
    calls stop at; returns those this call resolved, so each is announced once."""
    if session.scalar(select(Alert.id).where(*conds).limit(1)) is None:
        return []
    return _updated(
        session,
        update(Alert)
        .where(*conds)
        .values(state=AlertState.RESOLVED.value, resolved_at=now, resolved_by=by),
    )


def by_causes(session: Session, causes: list[str]) -> list[Alert]:
    """The alerts of ``causes``, open or resolved."""
    return list(
        session.scalars(
            select(Alert).where(Alert.cause.in_(causes)).order_by(Alert.id)  # type: ignore[attr-defined]
        )
    )


def list_alerts(
    session: Session,
    *,
    state: str | None,
    acknowledged: bool | None = None,
    kind: str | None = None,
    ticket_id: int | None = None,
    limit: int = 200,
    offset: int = 0,
) -> tuple[list[Alert], int]:
    """Alerts, the most urgent first (level, then the oldest), and how many match."""
    conds: list[Any] = []
    if state is not None:
        conds.append(Alert.state == state)
    if acknowledged is not None:
        conds.append(
            Alert.acknowledged_at.is_not(None)  # type: ignore[union-attr]
            if acknowledged
            else Alert.acknowledged_at.is_(None)  # type: ignore[union-attr]
        )
    if kind is not None:
        conds.append(Alert.kind == kind)
    if ticket_id is not None:
        conds.append(Alert.ticket_id == ticket_id)
    total = session.scalar(select(func.count()).select_from(Alert).where(*conds)) or 0
    rows = session.scalars(
        select(Alert)
        .where(*conds)
        .order_by(
            Alert.level.is_(None),  # type: ignore[union-attr]
            Alert.level,
            Alert.raised_at,
            Alert.id,
        )
        .limit(limit)
        .offset(offset)
    )
    return list(rows), total


def open_alerts(session: Session) -> list[Alert]:
    """Every open alert, for the console's snapshot."""
    rows, _ = list_alerts(session, state=AlertState.OPEN.value, limit=10_000)
    return rows


def open_of_kind(session: Session, kind: str) -> list[Alert]:
    """The open alerts of ``kind``, oldest first."""
    return list(
        session.scalars(
            select(Alert)
            .where(Alert.kind == kind, Alert.state == AlertState.OPEN.value)
            .order_by(Alert.raised_at, Alert.id)
        )
    )


def resolve_one(
    session: Session, alert_id: int, *, now: datetime, new_cause: str | None = None
) -> Alert | None:
    """Resolve one open alert; the alert when this call did it (of several processes, one
    wins), None otherwise. ``new_cause`` replaces its cause, freeing the old one for the next
    episode of an alert that stands for a state rather than an event."""
    values: dict[str, Any] = {"state": AlertState.RESOLVED.value, "resolved_at": now}
    if new_cause is not None:
        values["cause"] = new_cause
    done = session.scalar(
        update(Alert)
        .where(Alert.id == alert_id, Alert.state == AlertState.OPEN.value)
        .values(**values)
        .returning(Alert.id)
        .execution_options(synchronize_session=False)
    )
    if done is None:
        return None
    return reload(session, alert_id)


def existing_causes(session: Session, causes: list[str]) -> set[str]:
    """Which of ``causes`` were raised already (open or resolved)."""
    if not causes:
        return set()
    return set(session.scalars(select(Alert.cause).where(Alert.cause.in_(causes))))  # type: ignore[attr-defined]
