"""Canned replies: staff read them (filled in for a case with ``ticket_id``); admins keep them.

Routes are thin: they check the role, open one unit of work, call the service and answer the
reply as the API shows it. A read for a case and every write go to the access log.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from consult119.audit import service as audit
from consult119.auth.deps import client_ip, require_roles
from consult119.context import ContextDep
from consult119.errors import Forbidden
from consult119.i18n import lazy_gettext as _l
from consult119.replies import service
from consult119.replies.models import CannedReply
from consult119.replies.schemas import ReplyCreate, ReplyPublic, ReplyUpdate
from consult119.schemas import Page
from consult119.staff.models import Role, Staff
from consult119.types import PathId, QueryId

router = APIRouter(prefix="/api/v1/replies", tags=["replies"])

# Managers see aggregates only: no route here admits them.
Reader = Annotated[Staff, Depends(require_roles(Role.DOCTOR, Role.EMT, Role.ADMIN))]
AdminOnly = Annotated[Staff, Depends(require_roles(Role.ADMIN))]


def _public(reply: CannedReply, text: str | None = None) -> ReplyPublic:
    out = ReplyPublic.model_validate(reply)
    out.text = text
    return out


def _detail(reply: CannedReply, **extra: object) -> dict[str, object]:
    return {"reply_id": reply.id, "key": reply.key, "language": reply.language, **extra}


@router.get("", response_model=Page[ReplyPublic])
def list_replies(
    ctx: ContextDep,
    staff: Reader,
    request: Request,
    ticket_id: QueryId = None,
    include_inactive: Annotated[bool, Query(description="admins: the hidden ones too")] = False,
) -> Page[ReplyPublic]:
    """The active canned replies, Korean first, each language in its order. With
    ``ticket_id`` (doctors and EMTs, who read the case): the traveller's language first and each
    reply's ``text`` filled in for the case (its case number, its country's emergency number);
    audited like the case detail."""
    if include_inactive and staff.role != Role.ADMIN:
        raise Forbidden("forbidden_role", _l("Your role may not do this."))
    if ticket_id is not None and staff.role == Role.ADMIN:
        # Admins keep the replies; reading a case (its language, country, number) is clinical.
        raise Forbidden("forbidden_role", _l("Your role may not do this."))
    if ticket_id is None:
        with ctx.db.read_session() as session:
            rows = service.list_replies(session, include_inactive=include_inactive)
            items = [_public(r) for r in rows]
        return Page[ReplyPublic](items=items, total=len(items))
    with ctx.db.unit_of_work() as session:
        facts = service.case_facts(session, ticket_id)
        rows = service.list_replies(
            session, include_inactive=include_inactive, first_language=facts.language
        )
        items = [_public(r, service.render(r.body, language=r.language, facts=facts)) for r in rows]
        audit.record(
            session,
            staff_id=staff.id,
            action=audit.RENDER_REPLIES,
            ticket_id=ticket_id,
            client_ip=client_ip(request),
            detail={"case_number": facts.case_number, "replies": len(items)},
            at=ctx.now(),
        )
    return Page[ReplyPublic](items=items, total=len(items))


@router.post("", response_model=ReplyPublic, status_code=201)
def create_reply(
    ctx: ContextDep, staff: AdminOnly, body: ReplyCreate, request: Request
) -> ReplyPublic:
    """Add a canned reply (admin). ``409 reply_exists`` when its key is taken in its language."""
    now = ctx.now()
    with ctx.db.unit_of_work() as session:
        reply = service.create_reply(session, values=body.model_dump(), by=staff.id, now=now)
        audit.record(
            session,
            staff_id=staff.id,
            action=audit.CREATE_REPLY,
            client_ip=client_ip(request),
            detail=_detail(reply),
            at=now,
        )
        return _public(reply)


@router.patch("/{reply_id}", response_model=ReplyPublic)
def update_reply(
    ctx: ContextDep, staff: AdminOnly, reply_id: PathId, body: ReplyUpdate, request: Request
) -> ReplyPublic:
    """Change a canned reply (admin) at the ``version`` read; ``409 stale_version`` with the
    reply as it is now when someone saved first."""
    now = ctx.now()
    values = body.model_dump(include=body.model_fields_set - {"version"})
    with ctx.db.unit_of_work() as session:
        reply, fields = service.update_reply(
            session, reply_id, version=body.version, values=values, by=staff.id, now=now
        )
        if fields:
            audit.record(
                session,
                staff_id=staff.id,
                action=audit.UPDATE_REPLY,
                client_ip=client_ip(request),
                detail=_detail(reply, fields=fields),
                at=now,
            )
        return _public(reply)


@router.delete("/{reply_id}", status_code=204)
def delete_reply(ctx: ContextDep, staff: AdminOnly, reply_id: PathId, request: Request) -> Response:
    """Remove a canned reply for good (admin); ``active: false`` only hides it."""
    now = ctx.now()
    with ctx.db.unit_of_work() as session:
        reply = service.delete_reply(session, reply_id, by=staff.id, now=now)
        audit.record(
            session,
            staff_id=staff.id,
            action=audit.DELETE_REPLY,
            client_ip=client_ip(request),
            detail=_detail(reply),
            at=now,
        )
    return Response(status_code=204)
