"""Suggested links and merging: one traveller on several channels, joined by a person's decision.

The intake suggests links (``ticket_links``, event ``ticket.link_suggested``) when a new case's
contact shares a phone number or e-mail address with a recent case's contact; it never merges.
A member of staff merges with ``POST /api/v1/tickets/{id}/merge {"into_ticket_id"}``: the messages
(and their outbox items) move to the other case, and this one becomes ``merged`` with
``merged_into_id``, so reports count the consultation once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from consult119.alerts import service as alerts
from consult119.auth.deps import require_roles
from consult119.context import ContextDep
from consult119.errors import Conflict, Invalid, NotFound
from consult119.i18n import lazy_gettext as _l
from consult119.staff.models import Role, Staff
from consult119.tickets import repository as repo
from consult119.tickets.codes import TRANSITIONS, Status, status_label
from consult119.tickets.events import ticket_event
from consult119.tickets.models import Ticket
from consult119.tickets.schemas import LinkOut, MergeIn, MergeOut, Page, TicketPublic
from consult119.tickets.service import require_on_duty_if_doctor
from consult119.types import PathId

router = APIRouter(prefix="/api/v1/tickets", tags=["tickets"])

CaseStaff = Annotated[Staff, Depends(require_roles(Role.EMT, Role.DOCTOR, Role.ADMIN))]


def suggested_links(session: Session, ticket_id: int) -> list[LinkOut]:
    """The cases suggested as the same traveller's, newest first (merged-away ones left out)."""
    rows = repo.suggested_link_rows(session, ticket_id)
    return [
        LinkOut(
            reason=link.reason,
            created_at=link.created_at,
            ticket=TicketPublic.model_validate(other),
        )
        for link, other in rows
    ]


def merge_tickets(
    session: Session, ticket_id: int, into_id: int, *, actor_id: int, now: datetime
) -> tuple[Ticket, int]:
    """Move ``ticket_id``'s messages into ``into_id`` and mark it merged. Returns the target
    and the number of messages moved."""
    if ticket_id == into_id:
        raise Invalid(
            "merge_into_self", _l("A case cannot be merged into itself."), field="into_ticket_id"
        )
    # Lock in id order, so two opposite merges at once cannot deadlock.
    locked = {t: repo.get_ticket(session, t, for_update=True) for t in sorted((ticket_id, into_id))}
    source, target = locked[ticket_id], locked[into_id]
    if source is None:
        raise NotFound("ticket_not_found", _l("No such case."))
    if target is None:
        raise NotFound(
            "ticket_not_found", _l("No such case to merge into."), field="into_ticket_id"
        )
    if Status.MERGED not in TRANSITIONS[Status(source.status)]:
        raise Conflict(
            "transition_forbidden",
            _l("A case that is {status} cannot be merged.", status=status_label(source.status)),
            status=source.status,
        )
    if target.status in (Status.MERGED.value, Status.CLOSED.value):
        raise Conflict(
            "merge_target_closed",
            _l("Cannot merge into a case that is {status}.", status=status_label(target.status)),
            status=target.status,
        )
    moved_ids = repo.move_messages(session, source, target)
    old_status = source.status
    if not repo.bump_version(
        session, source, now, status=Status.MERGED.value, merged_into_id=target.id, merged_at=now
    ):
        raise Conflict("version_conflict", _l("The case changed meanwhile; try again."))
    last = max((t for t in (source.last_message_at, target.last_message_at) if t), default=None)
    if not repo.bump_version(session, target, now, last_message_at=last):
        raise Conflict("version_conflict", _l("The case changed meanwhile; try again."))
    # The merged-away case waits for nobody now; what still waits is on the target. Its
    # alerts are resolved first, so the merge's own two events end the story.
    alerts.resolve_for_ticket(session, source.id, None, now=now, by=actor_id, reason="merged")
    ticket_event(
        session,
        "ticket.status_changed",
        source,
        at=now,
        actor_id=actor_id,
        **{
            "from": old_status,
            "to": Status.MERGED.value,
            "reason": "merged",
            "into_ticket_id": target.id,
        },
    )
    ticket_event(
        session,
        "ticket.merged",
        target,
        at=now,
        actor_id=actor_id,
        merged_ticket_id=source.id,
        moved_message_ids=moved_ids,
    )
    return target, len(moved_ids)


@router.get("/{ticket_id}/links", response_model=Page[LinkOut])
async def list_links(ticket_id: PathId, ctx: ContextDep, staff: CaseStaff) -> Page[LinkOut]:
    """Cases that may be the same traveller's (same phone or e-mail), for a person to judge."""

    def _read() -> list[LinkOut]:
        with ctx.db.read_session() as session:
            if not repo.ticket_exists(session, ticket_id):
                raise NotFound("ticket_not_found", _l("No such case."))
            return suggested_links(session, ticket_id)

    items = await run_in_threadpool(_read)
    return Page[LinkOut](items=items, total=len(items))


@router.post("/{ticket_id}/merge", response_model=MergeOut)
async def merge(ticket_id: PathId, body: MergeIn, ctx: ContextDep, staff: CaseStaff) -> MergeOut:
    """Merge this case into ``into_ticket_id`` (EMT, doctor, admin). Never done automatically."""

    def _merge() -> MergeOut:
        with ctx.db.unit_of_work() as session:
            require_on_duty_if_doctor(session, staff, ctx.now())
            target, moved = merge_tickets(
                session,
                ticket_id,
                body.into_ticket_id,
                actor_id=staff.id,
                now=ctx.now(),  # type: ignore[arg-type]
            )
            public = TicketPublic.model_validate(target).model_dump()
            return MergeOut(**public, merged_ticket_id=ticket_id, moved_messages=moved)

    return await run_in_threadpool(_merge)
