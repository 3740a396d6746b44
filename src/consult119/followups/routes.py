"""Follow-ups on a case, marking one done, and the holder's handoff note.

Doctors (on duty) and EMTs write them; managers and admins do not (403).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from consult119.auth.deps import require_roles
from consult119.context import ContextDep
from consult119.followups import service
from consult119.followups.schemas import (
    FollowupIn,
    FollowupPublic,
    HandoffIn,
    HandoffPublic,
    handoff_public,
)
from consult119.staff.models import Role, Staff
from consult119.types import PathId

router = APIRouter(tags=["followups"])

Clinician = Annotated[Staff, Depends(require_roles(Role.DOCTOR, Role.EMT))]


@router.post(
    "/api/v1/tickets/{ticket_id}/followups", response_model=FollowupPublic, status_code=201
)
def create_followup(
    ctx: ContextDep, staff: Clinician, ticket_id: PathId, body: FollowupIn
) -> FollowupPublic:
    """Something to do on the case at ``due_at``: ``followup_due`` is raised then."""
    with ctx.db.unit_of_work() as session:
        row = service.create(
            session, ticket_id, staff=staff, due_at=body.due_at, note=body.note, now=ctx.now()
        )
        return FollowupPublic.model_validate(row)


@router.post("/api/v1/followups/{followup_id}/done", response_model=FollowupPublic)
def followup_done(ctx: ContextDep, staff: Clinician, followup_id: PathId) -> FollowupPublic:
    """Mark it done (again: no change); resolves its ``followup_due`` alert."""
    with ctx.db.unit_of_work() as session:
        row = service.done(session, followup_id, staff=staff, now=ctx.now())
        return FollowupPublic.model_validate(row)


@router.post("/api/v1/tickets/{ticket_id}/handoff", response_model=HandoffPublic, status_code=201)
def handoff(ctx: ContextDep, staff: Clinician, ticket_id: PathId, body: HandoffIn) -> HandoffPublic:
    """The holder's note for the next doctor, shown at the top of the case's detail."""
    with ctx.db.unit_of_work() as session:
        row = service.write_handoff(session, ticket_id, staff=staff, note=body.note, now=ctx.now())
        return handoff_public(row)
