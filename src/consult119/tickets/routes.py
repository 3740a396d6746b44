"""The case endpoints staff use: the queue, one case, and the actions on it.

Routes are thin: they check the role, open one unit of work, call the service, and answer the
ticket as lists show it. Who may do what is the table in docs/security.md.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session

from consult119.attachments import service as attachments
from consult119.audit import service as audit
from consult119.auth.deps import client_ip, require_roles
from consult119.context import AppContext, ContextDep
from consult119.errors import Forbidden, Invalid, reader_locale
from consult119.followups import service as followups
from consult119.followups.schemas import handoff_public
from consult119.i18n import lazy_gettext as _l
from consult119.staff.models import Role, Staff
from consult119.tickets import repository as repo
from consult119.tickets import search, service
from consult119.tickets.codes import (
    OPEN_STATUSES,
    Channel,
    Status,
)
from consult119.tickets.models import Ticket
from consult119.tickets.schemas import (
    Actor,
    CaseSummary,
    MessageIn,
    MessagePublic,
    Page,
    QueuePage,
    QueueRow,
    RecordIn,
    StaffRef,
    StatusIn,
    TicketDetail,
    TicketPublic,
    TimelineItem,
    TriageIn,
)
from consult119.types import Offset, PathId

router = APIRouter(prefix="/api/v1/tickets", tags=["tickets"])

# Roles per action (docs/security.md). Managers see aggregates only: no route here admits them.
Reader = Annotated[Staff, Depends(require_roles(Role.DOCTOR, Role.EMT, Role.ADMIN))]
Clinician = Annotated[Staff, Depends(require_roles(Role.DOCTOR, Role.EMT))]
Doctor = Annotated[Staff, Depends(require_roles(Role.DOCTOR))]
Coordinator = Annotated[Staff, Depends(require_roles(Role.EMT, Role.ADMIN))]
Mover = Annotated[Staff, Depends(require_roles(Role.DOCTOR, Role.EMT, Role.ADMIN))]


#: A queue row's preview: the last inbound message's first line, at most this long.
PREVIEW_CHARS = 120
ELLIPSIS = "…"
#: ``?view=``: the console's tabs, each a filter on top of the others.
VIEWS = {
    "mine": lambda staff: Ticket.assignee_id == staff.id,
    "unassigned": lambda staff: Ticket.assignee_id.is_(None),
    "waiting": lambda staff: Ticket.status == Status.WAITING.value,
    "all_open": lambda staff: Ticket.status.in_([s.value for s in OPEN_STATUSES]),
}

#: Other cases of the traveller a detail lists, newest first.
CONTACT_HISTORY_LIMIT = 20

TicketId = PathId


def first_line(text: str | None) -> str | None:
    """The first non-blank line of ``text``, cut to ``PREVIEW_CHARS`` with an ellipsis."""
    if not text:
        return None
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    if len(line) > PREVIEW_CHARS:
        line = line[: PREVIEW_CHARS - len(ELLIPSIS)].rstrip() + ELLIPSIS
    return line or None


def _row(row: Any, *, personal: bool) -> QueueRow:
    out = QueueRow.model_validate(row.Ticket)
    out.unread = int(row.unread or 0)
    if personal:
        out.traveller_name = row.traveller_name
        out.preview = first_line(row.preview)
    else:
        out.patient_age = out.patient_sex = None
    return out


def _public(ticket: Ticket) -> TicketPublic:
    return TicketPublic.model_validate(ticket)


def _parse_statuses(value: str | None) -> list[str] | None:
    if value is None or value == "":
        return None
    known = {s.value for s in Status}
    if value == "all":
        return sorted(known)
    parts = [p.strip() for p in value.split(",") if p.strip()]
    for part in parts:
        if part not in known:
            raise Invalid(
                "unknown_status", _l("Unknown status: {status}.", status=part), field="status"
            )
    return parts


@router.get("", response_model=QueuePage)
def queue(
    ctx: ContextDep,
    staff: Reader,
    request: Request,
    status: Annotated[
        str | None,
        Query(description="comma-separated, or `all`; default: every open status", max_length=200),
    ] = None,
    q: Annotated[
        str | None,
        Query(description="search: case number, name, phone, e-mail, message text", max_length=200),
    ] = None,
    channel: Channel | None = None,
    view: Annotated[
        str | None, Query(description="mine, unassigned, waiting or all_open", max_length=20)
    ] = None,
    assignee: Annotated[
        str | None, Query(description="a staff id, `me`, or `none` for unassigned")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Offset = 0,
) -> QueuePage:
    """The queue: most urgent first (untriaged, red-flagged and KTAS 1–2), then by level, then
    longest waiting. No patient details or message text. With ``q``, the cases whose number,
    traveller or messages hold it (doctors and EMTs: a hit would tell an admin what a
    conversation says); each search writes one access-log row with its hit count, never the
    words. A search counts at most ``search.COUNT_CAP`` hits (``total_capped`` beyond).
    ``view`` is a console tab, applied on top of the other filters."""
    statuses = _parse_statuses(status)
    if view is not None and view not in VIEWS:
        raise Invalid(
            "unknown_view",
            _l("Unknown view: {view}. Use mine, unassigned, waiting or all_open.", view=view),
            field="view",
        )
    query = None
    if q is not None:
        if staff.role not in (Role.DOCTOR, Role.EMT):
            raise Forbidden("forbidden_role", _l("Your role may not do this."))
        query = search.clean_query(q)
    assignee_id: int | None = None
    unassigned = False
    if assignee == "me":
        assignee_id = staff.id
    elif assignee == "none":
        unassigned = True
    elif assignee is not None:
        if not assignee.isdigit() or len(assignee) > 18:
            raise Invalid(
                "invalid_field", _l("assignee is a staff id, me or none."), field="assignee"
            )
        assignee_id = int(assignee)
    capped = False
    with ctx.db.unit_of_work() if query else ctx.db.read_session() as session:
        conds = repo.queue_conditions(
            statuses=statuses,
            channel=channel.value if channel else None,
            assignee_id=assignee_id,
            unassigned=unassigned,
            with_status=not query,
        )
        if view is not None:
            conds.append(VIEWS[view](staff))
        if query:
            rows, total, capped = repo.search_rows(
                session,
                conds=conds,
                statuses=statuses or [s.value for s in OPEN_STATUSES],
                hits=search.hit_ids(session, query),
                row_match=search.row_match(query),
                cap=search.COUNT_CAP,
                limit=limit,
                offset=offset,
            )
        else:
            rows, total = repo.queue_rows(session, conds=conds, limit=limit, offset=offset)
        # Admins see the queue to coordinate, never a conversation or patient details
        # (docs/security.md): their rows carry no name, age, sex or message text.
        items = [_row(r, personal=staff.role != Role.ADMIN) for r in rows]
        if query:
            detail: dict[str, Any] = {"hits": total, "status": status or "open"}
            if capped:
                detail["capped"] = True
            audit.record(
                session,
                staff_id=staff.id,
                action=audit.SEARCH,
                client_ip=client_ip(request),
                detail=detail,
                at=ctx.now(),
            )
    return QueuePage(items=items, total=total, total_capped=capped)


@router.get("/{ticket_id}", response_model=TicketDetail)
def detail(
    ctx: ContextDep, staff: Clinician, ticket_id: TicketId, request: Request
) -> TicketDetail:
    """One case with its conversation and patient details. Every read is audited."""
    now = ctx.now()
    with ctx.db.unit_of_work() as session:
        ticket = service.ticket_or_not_found(session, ticket_id, lock=False)
        out = _detail(session, ticket, locale=reader_locale(request))
        audit.record(
            session,
            staff_id=staff.id,
            action=audit.VIEW_CASE,
            ticket_id=ticket_id,
            client_ip=client_ip(request),
            detail={"case_number": ticket.case_number, "messages": len(out.messages)},
            at=now,
        )
    return out


def _detail(session: Session, ticket: Ticket, *, locale: str | None = None) -> TicketDetail:
    """The case as its detail shows it: the ticket, the patient and every message with its
    files (all of them in one query)."""
    out = TicketDetail.model_validate(ticket)
    assert ticket.id is not None
    rows = repo.messages_of(session, ticket.id)
    files = attachments.files_of_messages(session, [m.id for m in rows if m.id is not None])
    out.messages = [
        attachments.with_files(MessagePublic.model_validate(m), m, files, locale=locale)
        for m in rows
    ]
    out.contact_history = [
        CaseSummary.model_validate(r)
        for r in repo.contact_history(session, ticket, limit=CONTACT_HISTORY_LIMIT)
    ]
    note = followups.latest_handoff(session, ticket.id)
    out.handoff = None if note is None else handoff_public(note)
    out.followups = followups.of_ticket(session, ticket.id, locale=locale)
    return out


@router.get("/{ticket_id}/timeline", response_model=Page[TimelineItem])
def timeline(
    ctx: ContextDep,
    staff: Clinician,
    ticket_id: TicketId,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
    offset: Offset = 0,
) -> Page[TimelineItem]:
    """The case's history from the event log, oldest first: triage, assignments, status,
    edits, messages, deliveries, SLA alarms, each with who did it. Audited (it carries message
    text and patient details)."""
    now = ctx.now()
    with ctx.db.unit_of_work() as session:
        ticket = service.ticket_or_not_found(session, ticket_id, lock=False)
        rows, total = repo.timeline(session, ticket_id, limit=limit, offset=offset)
        items = [
            TimelineItem(
                id=r.id,
                name=r.name,
                at=r.at,
                actor=Actor(id=r.actor_id, name=r.actor_name, role=r.actor_role)
                if r.actor_name is not None
                else None,
                data=r.data or {},
            )
            for r in rows
        ]
        audit.record(
            session,
            staff_id=staff.id,
            action=audit.VIEW_TIMELINE,
            ticket_id=ticket_id,
            client_ip=client_ip(request),
            detail={"case_number": ticket.case_number, "events": len(items), "offset": offset},
            at=now,
        )
    return Page[TimelineItem](items=items, total=total)


@router.patch("/{ticket_id}", response_model=TicketDetail)
def update_record(
    ctx: ContextDep, staff: Clinician, ticket_id: TicketId, body: RecordIn, request: Request
) -> TicketDetail:
    """Edit the case record (patient, location, clinical summary) at the ``version`` read.
    409 ``stale_version`` with the current values when someone saved first. The write and the
    detail it answers are audited: field names only, never values."""
    now = ctx.now()
    values = body.model_dump(mode="json", include=body.model_fields_set - {"version"})
    with ctx.db.unit_of_work() as session:
        ticket, fields = service.update_record(
            session, ticket_id, staff=staff, version=body.version, values=values, now=now
        )
        out = _detail(session, ticket, locale=reader_locale(request))
        audit.record(
            session,
            staff_id=staff.id,
            action=audit.UPDATE_CASE,
            ticket_id=ticket_id,
            client_ip=client_ip(request),
            detail={"case_number": ticket.case_number, "fields": fields},
            at=now,
        )
    return out


def _act(ctx: AppContext, fn: Callable[..., Ticket], ticket_id: int, **kwargs: Any) -> TicketPublic:
    with ctx.db.unit_of_work() as session:
        ticket = fn(session, ticket_id, now=ctx.now(), **kwargs)
        return _public(ticket)


@router.post("/{ticket_id}/triage", response_model=TicketPublic)
def triage(ctx: ContextDep, staff: Clinician, ticket_id: TicketId, body: TriageIn) -> TicketPublic:
    """Set KTAS level (1–5), category and disposition; an unheld case then goes to a doctor."""
    return _act(
        ctx,
        service.triage,
        ticket_id,
        staff=staff,
        acuity=body.acuity,
        category=body.category,
        disposition=body.disposition,
    )


@router.post("/{ticket_id}/claim", response_model=TicketPublic)
def claim(ctx: ContextDep, staff: Doctor, ticket_id: TicketId) -> TicketPublic:
    """Take the case (on-duty doctors). 409 ``ticket_taken`` when someone else holds it."""
    return _act(ctx, service.claim, ticket_id, staff=staff)


@router.post("/{ticket_id}/assign", response_model=TicketPublic)
def assign(
    ctx: ContextDep, staff: Coordinator, ticket_id: TicketId, body: StaffRef
) -> TicketPublic:
    """Give the case to an on-duty doctor (EMT, admin). 409 ``doctor_off_duty`` otherwise."""
    return _act(ctx, service.assign, ticket_id, staff_id=body.staff_id, by=staff)


@router.post("/{ticket_id}/transfer", response_model=TicketPublic)
def transfer(ctx: ContextDep, staff: Mover, ticket_id: TicketId, body: StaffRef) -> TicketPublic:
    """Hand a held case to another on-duty doctor (its doctor, an EMT or an admin)."""
    return _act(ctx, service.transfer, ticket_id, staff_id=body.staff_id, by=staff)


@router.post("/{ticket_id}/release", response_model=TicketPublic)
def release(ctx: ContextDep, staff: Mover, ticket_id: TicketId) -> TicketPublic:
    """Put a held case back in the queue (its doctor, an EMT or an admin)."""
    return _act(ctx, service.release, ticket_id, by=staff)


@router.post("/{ticket_id}/messages", response_model=MessagePublic, status_code=201)
def add_message(
    ctx: ContextDep, staff: Clinician, ticket_id: TicketId, body: MessageIn
) -> MessagePublic:
    """A reply (goes out on the case's channel) or, with ``"internal": true``, a note."""
    with ctx.db.unit_of_work() as session:
        message = service.add_message(
            session,
            ticket_id,
            staff=staff,
            text=body.text,
            internal=body.internal,
            now=ctx.now(),
            max_chars=ctx.settings.max_text_chars,
            attachment_ids=body.attachments,
        )
        files = attachments.files_of_messages(session, [message.id])  # type: ignore[list-item]
        return attachments.with_files(
            MessagePublic.model_validate(message), message, files, locale=staff.locale
        )


@router.post("/{ticket_id}/status", response_model=TicketPublic)
def change_status(
    ctx: ContextDep, staff: Clinician, ticket_id: TicketId, body: StatusIn
) -> TicketPublic:
    """Move the case to another status; 409 ``transition_forbidden`` when the table forbids it,
    ``no_response`` when resolving a case no reply reached without a ``reason``."""
    return _act(ctx, service.change_status, ticket_id, to=body.status, by=staff, reason=body.reason)
