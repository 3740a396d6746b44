"""Alerts for the people who must act: the open list, and acknowledging one.

Routes are thin: they check the role, open one unit of work and call the service. Managers see
the operation in aggregate only: no route here admits them.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from consult119.alerts import service
from consult119.alerts.models import AlertKind, AlertState
from consult119.alerts.schemas import AlertPublic, FallbackRequest
from consult119.auth.deps import require_roles
from consult119.context import ContextDep
from consult119.outbound import fallback, watchdog
from consult119.schemas import Page
from consult119.staff.models import Role, Staff
from consult119.types import Offset, PathId, QueryId

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])

Responder = Annotated[Staff, Depends(require_roles(Role.DOCTOR, Role.EMT, Role.ADMIN))]
Clinician = Annotated[Staff, Depends(require_roles(Role.DOCTOR, Role.EMT))]
#: A page of alerts; the open ones of a whole service fit many times over.
MAX_LIMIT = 500


@router.get("", response_model=Page[AlertPublic])
def list_alerts(
    ctx: ContextDep,
    staff: Responder,
    state: Annotated[Literal["open", "resolved", "all"], Query()] = "open",
    acknowledged: bool | None = None,
    kind: AlertKind | None = None,
    ticket_id: QueryId = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 200,
    offset: Offset = 0,
) -> Page[AlertPublic]:
    """Alerts in ``state`` (``open`` by default: not yet answered, acknowledged or not), the
    most urgent first: by level, then the oldest."""
    with ctx.db.read_session() as session:
        rows, total = service.list_alerts(
            session,
            state=None if state == "all" else AlertState(state).value,
            acknowledged=acknowledged,
            kind=kind.value if kind is not None else None,
            ticket_id=ticket_id,
            limit=limit,
            offset=offset,
        )
        items = [AlertPublic.model_validate(a) for a in rows]
    return Page[AlertPublic](items=items, total=total)


@router.post("/{alert_id}/ack", response_model=AlertPublic)
def acknowledge(ctx: ContextDep, staff: Responder, alert_id: PathId) -> AlertPublic:
    """Say you have seen the alert and are on it: it stops escalating and stays in the list
    until the action that answers it. ``404 alert_not_found``; acknowledging again is a no-op."""
    assert staff.id is not None
    with ctx.db.unit_of_work() as session:
        alert = service.acknowledge(session, alert_id, by=staff.id, now=ctx.now())
        return AlertPublic.model_validate(alert)


@router.post("/{alert_id}/fallback", response_model=AlertPublic)
def take_fallback(
    ctx: ContextDep, staff: Clinician, alert_id: PathId, body: FallbackRequest
) -> AlertPublic:
    """Take one of a delivery alert's ``data.fallbacks`` (doctor, EMT): ``channel`` queues the
    reply again on that channel, ``sms`` sends it by the SMS provider, ``callback`` makes a
    follow-up due now; each resolves the alert. 404 ``alert_not_found``, 409
    ``alert_resolved``, 409 ``fallback_unavailable``, 422 ``channel_required``."""
    assert staff.id is not None
    with ctx.db.unit_of_work() as session:
        alert = fallback.take_fallback(
            session,
            alert_id,
            action=body.action,
            channel=body.channel,
            staff=staff,
            now=ctx.now(),
            pushable=watchdog.pushable_sources(ctx.settings),
        )
        return AlertPublic.model_validate(alert)
