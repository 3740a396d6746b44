"""``GET /api/v1/audit``: the access log, for admins only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from consult119.audit import service
from consult119.audit.schemas import AuditEntryPublic, AuditPage
from consult119.auth.deps import require_roles
from consult119.context import ContextDep
from consult119.staff.models import Role, Staff
from consult119.types import Moment, Offset, QueryId

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])
AdminOnly = Annotated[Staff, Depends(require_roles(Role.ADMIN))]


@router.get("", response_model=AuditPage)
def list_audit(
    ctx: ContextDep,
    _: AdminOnly,
    staff_id: QueryId = None,
    ticket_id: QueryId = None,
    action: Annotated[str | None, Query(max_length=40)] = None,
    since: Moment | None = None,
    until: Moment | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Offset = 0,
) -> AuditPage:
    """Who saw or exported which case's personal data, when and from where (newest first)."""
    with ctx.db.read_session() as session:
        rows, total = service.list_entries(
            session,
            staff_id=staff_id,
            ticket_id=ticket_id,
            action=action,
            since=since,
            until=until,
            limit=limit,
            offset=offset,
        )
        items = [AuditEntryPublic.model_validate(r) for r in rows]
    return AuditPage(items=items, total=total)
