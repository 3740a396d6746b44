"""Every query of the case domain. Services call these; routes never query directly."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import (
    Integer,
    String,
    and_,
    bindparam,
    case,
    cast,
    column,
    func,
    insert,
    literal_column,
    or_,
    select,
    table,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, class_mapper
from sqlalchemy.orm.attributes import set_committed_value

from consult119.alerts.models import Alert
from consult119.db import Prepared
from consult119.outbound.models import OutboxItem
from consult119.realtime.models import Event
from consult119.staff.models import Presence, Staff
from consult119.staff.repository import on_duty_clause
from consult119.tickets.codes import OPEN_STATUSES, Delivery, Direction, Status
from consult119.tickets.models import (
    CaseCounter,
    Contact,
    ContactIdentity,
    Message,
    Ticket,
    TicketLink,
)

M = TypeVar("M")


def sender_lock(source: str, sender_id: str) -> str:
    """The name of the advisory lock that serialises intake per sender on PostgreSQL (SQLite
    has one writer): two messages from one new traveller arriving at once must open one case,
    not two. The group-commit writer takes the locks of a whole batch up front, in key order,
    so batches of two processes that hold the same senders do not deadlock on them."""
    return f"sender\x1f{source}\x1f{sender_id}"


_counters = CaseCounter.__table__  # type: ignore[attr-defined]
_messages = Message.__table__  # type: ignore[attr-defined]
_identities = ContactIdentity.__table__  # type: ignore[attr-defined]
_NEXT_SEQ: dict[str, Prepared] = {}
_FIND_MESSAGE = Prepared(
    select(_messages.c.id, _messages.c.ticket_id).where(
        _messages.c.source == bindparam("source"), _messages.c.external_id == bindparam("ext")
    )
)
_FIND_CONTACT = Prepared(
    select(_identities.c.contact_id).where(
        _identities.c.source == bindparam("source"), _identities.c.external_id == bindparam("ext")
    )
)


def allocate_case_seqs(session: Session, year: int, n: int = 1) -> int:
    """Reserve the next ``n`` sequence numbers of ``year`` in one upsert; returns the first.

    The one place case numbers are allocated (intake, the importer, the demo). Gap-free because
    a rollback undoes it, and unique because the counter row stays locked until commit.
    """
    dialect = session.get_bind().dialect.name
    stmt = _NEXT_SEQ.get(dialect)
    if stmt is None:
        ins = pg_insert(_counters) if dialect == "postgresql" else sqlite_insert(_counters)
        stmt = _NEXT_SEQ[dialect] = Prepared(
            ins.values(year=bindparam("year"), last_seq=bindparam("n"))
            .on_conflict_do_update(
                index_elements=[_counters.c.year],
                set_={"last_seq": _counters.c.last_seq + ins.excluded.last_seq},
            )
            .returning(_counters.c.last_seq)
        )
    return int(stmt.scalar(session, {"year": year, "n": n})) - n + 1


def next_case_seq(session: Session, year: int) -> int:
    """The next sequence number of ``year`` (see :func:`allocate_case_seqs`)."""
    return allocate_case_seqs(session, year, 1)


def find_message_ref(session: Session, source: str, external_id: str) -> tuple[int, int] | None:
    """(message id, ticket id) of an already received message, if any."""
    row = _FIND_MESSAGE.first(session, {"source": source, "ext": external_id})
    return (row[0], row[1]) if row else None


def find_contact_id(session: Session, source: str, external_id: str) -> int | None:
    return _FIND_CONTACT.scalar(session, {"source": source, "ext": external_id})  # type: ignore[no-any-return]


_INSERT_RETURNING_ID: dict[tuple[type, frozenset[str]], tuple[Prepared, dict[str, Any]]] = {}


def insert_returning_id(session: Session, model: type, values: dict[str, Any]) -> int:
    """A plain INSERT … RETURNING id: the intake hot path skips the ORM's flush machinery.

    Prepared once per table and set of columns (:class:`~consult119.db.Prepared`). Columns left
    out get their scalar Python-side default, as SQLAlchemy would give them; a column whose
    default is computed must be given.
    """
    key = (model, frozenset(values))
    entry = _INSERT_RETURNING_ID.get(key)
    if entry is None:
        table = model.__table__  # type: ignore[attr-defined]
        defaults: dict[str, Any] = {}
        for column in table.columns:
            if column.key in values or column.default is None:
                continue
            if not column.default.is_scalar:
                raise ValueError(f"{table.name}.{column.key} has a computed default: give it")
            defaults[column.key] = column.default.arg
        names = [*values, *defaults]
        stmt = (
            insert(table)
            .values({n: bindparam(n, type_=table.c[n].type) for n in names})
            .returning(table.c.id)
        )
        entry = _INSERT_RETURNING_ID[key] = (Prepared(stmt), defaults)
    prepared, defaults = entry
    return int(prepared.scalar(session, {**defaults, **values}))


def transient(model: type[M], values: dict[str, Any]) -> M:
    """A detached, read-only object for a row just inserted with :func:`insert_returning_id`.

    SQLModel's constructor validates every field (about 0.2 ms per object); this skips it — the
    values were just written, and the object is only read (events, acknowledgements).
    """
    obj = class_mapper(model).class_manager.new_instance()
    obj.__dict__.update(values)
    return obj  # type: ignore[no-any-return]


def latest_ticket_of_contact(session: Session, contact_id: int) -> Ticket | None:
    """The contact's open ticket if any, else their most recently resolved one (one query)."""
    resolved_last = case((Ticket.status == Status.RESOLVED.value, 1), else_=0)
    return session.scalars(
        select(Ticket)
        .where(
            Ticket.contact_id == contact_id,
            Ticket.status.in_([*(s.value for s in OPEN_STATUSES), Status.RESOLVED.value]),
        )
        .order_by(resolved_last, Ticket.id.desc())
        .limit(1)
    ).first()


def get_ticket(session: Session, ticket_id: int, *, for_update: bool = False) -> Ticket | None:
    stmt = select(Ticket).where(Ticket.id == ticket_id)
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()


def bump_version(
    session: Session, ticket: Ticket, now: datetime, *, if_unchanged: bool = True, **values: object
) -> bool:
    """The one place a case's ``version`` moves on (with ``updated_at`` and any ``values``).

    By default a conditional update on ``version``: True when this writer won, False when
    someone else changed the ticket first. Used wherever two people may act at once.

    ``if_unchanged=False`` is for a caller that holds the row (:func:`lock_ticket`) or writes
    alone: the new version goes onto the object and is written with its other changes when
    the session flushes, without a statement of its own; always True.
    """
    if not if_unchanged:
        for name, value in values.items():
            setattr(ticket, name, value)
        ticket.version += 1
        ticket.updated_at = now
        return True
    result = session.execute(
        update(Ticket)
        .where(Ticket.id == ticket.id, Ticket.version == ticket.version)
        .values(version=Ticket.version + 1, updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    session.refresh(ticket)
    return True


def fill_fields(session: Session, ticket: Ticket, now: datetime, **values: object) -> bool:
    """:func:`bump_version` for a ticket that may be a :func:`transient` (a case this unit of
    work just inserted): the object is updated in place rather than refreshed."""
    result = session.execute(
        update(Ticket)
        .where(Ticket.id == ticket.id, Ticket.version == ticket.version)
        .values(version=Ticket.version + 1, updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    for name, value in {**values, "version": ticket.version + 1, "updated_at": now}.items():
        set_committed_value(ticket, name, value)
    return True


#: The columns the queue order reads (a subquery that sorts the same way selects them all).
QUEUE_COLUMNS = ("id", "priority", "red_flags", "sla_due_at", "acuity", "created_at")


def queue_order(cols: Any = Ticket) -> tuple:
    """The queue order (docs/triage.md#queue-order): rank (the KTAS level, raised by red flags;
    untriaged ranks as 2, so a suspected KTAS 1 is always first), then red-flagged before not,
    then the earliest SLA deadline (none last), then untriaged before triaged, then the longest
    waiting, then the id. ``cols``: ``Ticket`` or a subquery's ``.c`` with QUEUE_COLUMNS.
    The console sorts its copy the same way (frontend/console/state.js ``queue``)."""
    flags = cast(cols.red_flags, String)
    unflagged = case((or_(cols.red_flags.is_(None), flags == "null", flags == "[]"), 1), else_=0)
    return (
        cols.priority.asc(),
        unflagged.asc(),
        cols.sla_due_at.is_(None).asc(),
        cols.sla_due_at.asc(),
        case((cols.acuity.is_(None), 0), else_=1).asc(),
        cols.created_at.asc(),
        cols.id.asc(),
    )


def list_tickets(
    session: Session,
    *,
    statuses: list[str] | None = None,
    channel: str | None = None,
    assignee_id: int | None = None,
    unassigned: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Ticket], int]:
    """One page of tickets in queue order and the total matching. Open tickets by default
    (a search takes its page through :func:`search_rows`)."""

    conds = queue_conditions(
        statuses=statuses,
        channel=channel,
        assignee_id=assignee_id,
        unassigned=unassigned,
    )
    total = session.scalar(select(func.count()).select_from(Ticket).where(*conds)) or 0
    rows = session.scalars(
        select(Ticket).where(*conds).order_by(*queue_order()).limit(limit).offset(offset)
    ).all()
    return list(rows), total


#: Characters of the last inbound message read for a queue row's preview (its first line is
#: cut shorter; this only bounds what the database sends).
PREVIEW_READ = 400


def queue_rows(
    session: Session, *, conds: list[Any], limit: int, offset: int
) -> tuple[list[Any], int]:
    """A queue page with what a row shows beyond the ticket, in the same query: the contact's
    name, the start of the last inbound message, and the unread count (inbound messages after
    the last message a staff member wrote). Correlated subqueries on ``ix_messages_ticket``,
    never a query per row."""

    total = session.scalar(select(func.count()).select_from(Ticket).where(*conds)) or 0
    rows = session.execute(
        _row_select().where(*conds).order_by(*queue_order()).limit(limit).offset(offset)
    ).all()
    return list(rows), total


def _row_select() -> Any:
    """A queue row: the ticket, the contact's name, the last inbound message's start and the
    unread count (see :func:`queue_rows`)."""

    inbound = Message.direction == Direction.INBOUND.value
    preview = (
        select(func.substr(Message.text, 1, PREVIEW_READ))
        .where(Message.ticket_id == Ticket.id, inbound)
        .order_by(Message.id.desc())
        .limit(1)
        .correlate(Ticket)
        .scalar_subquery()
    )
    last_staff = (
        select(func.max(Message.id))
        .where(Message.ticket_id == Ticket.id, Message.author_staff_id.is_not(None))
        .correlate(Ticket)
        .scalar_subquery()
    )
    unread = (
        select(func.count())
        .select_from(Message)
        .where(Message.ticket_id == Ticket.id, inbound, Message.id > func.coalesce(last_staff, 0))
        .correlate(Ticket)
        .scalar_subquery()
    )
    return select(
        Ticket,
        Contact.display_name.label("traveller_name"),
        preview.label("preview"),
        unread.label("unread"),
    ).join(Contact, Contact.id == Ticket.contact_id)


def search_rows(
    session: Session,
    *,
    conds: list[Any],
    statuses: list[str],
    hits: Any,
    row_match: Any,
    cap: int,
    limit: int,
    offset: int,
) -> tuple[list[Any], int, bool]:
    """A searched queue page (rows as :func:`queue_rows`), the hits counted up to ``cap``, and
    whether the cap was reached. ``conds`` are the other filters, without the status (see
    :func:`search_page`)."""
    ids, total, capped = search_page(
        session,
        conds=conds,
        statuses=statuses,
        hits=hits,
        row_match=row_match,
        cap=cap,
        limit=limit,
        offset=offset,
    )
    if not ids:
        return [], total, capped
    rows = session.execute(_row_select().where(Ticket.id.in_(ids)).order_by(*queue_order())).all()
    return list(rows), total, capped


def search_page(
    session: Session,
    *,
    conds: list[Any],
    statuses: list[str],
    hits: Any,
    row_match: Any,
    cap: int,
    limit: int,
    offset: int,
) -> tuple[list[int], int, bool]:
    """The ids of one page of a search in queue order, the number of matching cases counted up
    to ``cap``, and whether the cap was reached — without reading every hit of a broad term.

    ``hits`` is a subquery of matching case ids from the search indexes (``search.hit_ids``),
    ``row_match`` the same test as a condition on one case (``search.row_match``); ``conds``
    are the other filters, without the status, which is ``statuses``. The hits that pass them
    are streamed and counted until ``cap`` + 1; a search with at most
    ``cap`` of them has them all, exactly counted, and its page is those cases sorted. A
    broader one is dense enough to walk instead: each status of ``statuses`` is read in queue
    order through ``ix_tickets_queue``, checked case by case and stopped after ``offset`` +
    ``limit`` matches, and the page is the merge of those runs — the same cases in the same
    order as sorting every hit, for a few hundred rows read."""
    statuses = list(dict.fromkeys(statuses))
    found: set[int] = set()
    result = session.execute(
        select(hits.c.ticket_id)
        .select_from(hits)
        .join(Ticket, Ticket.id == hits.c.ticket_id)
        .where(Ticket.status.in_(statuses), *conds)
        .execution_options(yield_per=500)
    )
    try:
        for ticket_id in result.scalars():
            found.add(ticket_id)
            if len(found) > cap:
                break
    finally:
        result.close()
    if len(found) <= cap:
        if not found:
            return [], 0, False
        ids = session.scalars(
            select(Ticket.id)
            .where(Ticket.id.in_(sorted(found)))
            .order_by(*queue_order())
            .limit(limit)
            .offset(offset)
        ).all()
        return list(ids), len(found), False

    runs = [
        select(*(getattr(Ticket, name) for name in QUEUE_COLUMNS))
        .where(*conds, Ticket.status == status, row_match)
        .order_by(*queue_order())
        .limit(offset + limit)
        .subquery()
        for status in statuses
    ]
    walk = union_all(*(select(run) for run in runs)).subquery("walk")
    ids = session.scalars(
        select(walk.c.id).order_by(*queue_order(walk.c)).limit(limit).offset(offset)
    ).all()
    return list(ids), cap, True


def queue_conditions(
    *,
    statuses: list[str] | None = None,
    channel: str | None = None,
    assignee_id: int | None = None,
    unassigned: bool = False,
    with_status: bool = True,
) -> list[Any]:
    """The queue's filters as conditions on ``Ticket`` (open cases unless ``statuses``;
    ``with_status=False`` leaves the status out, for :func:`search_page`, which applies it)."""
    conds = [Ticket.status.in_(statuses or [s.value for s in OPEN_STATUSES])] if with_status else []
    if channel is not None:
        conds.append(Ticket.channel == channel)
    if assignee_id is not None:
        conds.append(Ticket.assignee_id == assignee_id)
    if unassigned:
        conds.append(Ticket.assignee_id.is_(None))
    return conds


def timeline(session: Session, ticket_id: int, *, limit: int, offset: int) -> tuple[list[Any], int]:
    """One page of the case's events, oldest first, each with its actor's id, name and role
    (an outer join to staff: one query for the page, whatever its length), and the total.
    Alerts are not in it: they have their own list (``GET /api/v1/alerts``), and the timeline
    tells what was done with the case."""

    case_events = (Event.ticket_id == ticket_id) & ~Event.name.startswith("alert.")
    total = session.scalar(select(func.count()).where(case_events)) or 0
    rows = session.execute(
        select(
            Event.id,
            Event.name,
            Event.at,
            Event.data,
            Event.actor_id,
            Staff.name.label("actor_name"),
            Staff.role.label("actor_role"),
        )
        .outerjoin(Staff, Staff.id == Event.actor_id)
        .where(case_events)
        .order_by(Event.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return list(rows), total


def contact_history(session: Session, ticket: Ticket, *, limit: int) -> list[Any]:
    """The same contact's other cases, newest first, at most ``limit`` (the contact index)."""
    return list(
        session.execute(
            select(
                Ticket.id,
                Ticket.case_number,
                Ticket.created_at,
                Ticket.status,
                Ticket.acuity,
                Ticket.category,
            )
            .where(Ticket.contact_id == ticket.contact_id, Ticket.id != ticket.id)
            .order_by(Ticket.created_at.desc(), Ticket.id.desc())
            .limit(limit)
        ).all()
    )


def has_reply(session: Session, ticket_id: int) -> bool:
    """True when staff sent the traveller at least one message (not a note) on the case."""

    return (
        session.scalar(
            select(Message.id)
            .where(Message.ticket_id == ticket_id, Message.direction == Direction.OUTBOUND.value)
            .limit(1)
        )
        is not None
    )


def messages_of(session: Session, ticket_id: int) -> list[Message]:
    return list(
        session.scalars(select(Message).where(Message.ticket_id == ticket_id).order_by(Message.id))
    )


_OPEN = [s.value for s in OPEN_STATUSES]


def claim_ticket(session: Session, ticket: Ticket, staff_id: int, now: datetime) -> bool:
    """The claim as one conditional update: it succeeds only while nobody holds the ticket (or
    it is already assigned to ``staff_id`` and waiting to be accepted). Of two claims at once,
    the database lets exactly one match; the other sees the new row and updates nothing."""

    own = ticket.assignee_id == staff_id
    holder = (
        (Ticket.assignee_id == staff_id) & Ticket.assignment_accepted.is_(False)
        if own
        else Ticket.assignee_id.is_(None)
    )
    values: dict[str, object] = {
        "assignee_id": staff_id,
        "assignment_accepted": True,
        "status": case(
            (Ticket.status.in_([Status.NEW.value, Status.TRIAGED.value]), Status.ASSIGNED.value),
            else_=Ticket.status,
        ),
        "version": Ticket.version + 1,
        "updated_at": now,
    }
    if not own:
        values["assigned_at"] = now
    result = session.execute(
        update(Ticket)
        .where(
            Ticket.id == ticket.id,
            Ticket.status.in_(_OPEN),
            holder,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    session.refresh(ticket)
    return result.rowcount == 1


def lock_ticket(session: Session, ticket_id: int, *, skip_locked: bool = False) -> Ticket | None:
    """The ticket, re-read and locked until commit on PostgreSQL (SQLite has one writer)."""
    stmt = (
        select(Ticket)
        .where(Ticket.id == ticket_id)
        .with_for_update(skip_locked=skip_locked)
        .execution_options(populate_existing=True)
    )
    return session.scalars(stmt).first()


def orphaned_ticket_ids(session: Session, now: datetime, limit: int = 100) -> list[int]:
    """Open tickets held by someone no longer on duty (shift over, or account disabled)."""

    return list(
        session.scalars(
            select(Ticket.id)
            .join(Staff, Staff.id == Ticket.assignee_id)
            .where(Ticket.status.in_(_OPEN), (Staff.disabled.is_(True)) | ~on_duty_clause(now))
            .order_by(*queue_order())
            .limit(limit)
        )
    )


def offline_held_ids(
    session: Session, now: datetime, offline_before: datetime, max_level: int, limit: int = 100
) -> list[int]:
    """Open tickets of rank ``max_level`` or more urgent held by an on-duty doctor who has been
    offline since ``offline_before`` or earlier (never stamped counts as long ago)."""

    return list(
        session.scalars(
            select(Ticket.id)
            .join(Staff, Staff.id == Ticket.assignee_id)
            .where(
                Ticket.status.in_(_OPEN),
                Ticket.priority <= max_level,
                Staff.presence == Presence.OFFLINE.value,
                or_(Staff.presence_at.is_(None), Staff.presence_at <= offline_before),
                on_duty_clause(now),
            )
            .order_by(*queue_order())
            .limit(limit)
        )
    )


def acceptance_overdue_ids(
    session: Session, now: datetime, timeouts: dict[int, object], limit: int = 100
) -> list[int]:
    """Assigned, not yet accepted, and past the acceptance time of their rank."""

    per_level = [
        and_(Ticket.priority == lvl, Ticket.assigned_at <= now - wait)  # type: ignore[operator]
        for lvl, wait in timeouts.items()
    ]
    return list(
        session.scalars(
            select(Ticket.id)
            .where(
                Ticket.status.in_(_OPEN),
                Ticket.assignee_id.is_not(None),
                Ticket.assignment_accepted.is_(False),
                or_(*per_level),
            )
            .order_by(*queue_order())
            .limit(limit)
        )
    )


def unassigned_due_ids(
    session: Session, now: datetime, untriaged_since: datetime, limit: int = 100
) -> list[int]:
    """Cases nobody holds that should go to a doctor: triaged ones at once, untriaged ones
    after they have waited since ``untriaged_since``."""

    return list(
        session.scalars(
            select(Ticket.id)
            .where(
                Ticket.assignee_id.is_(None),
                or_(
                    Ticket.status == Status.TRIAGED.value,
                    (Ticket.status == Status.NEW.value) & (Ticket.created_at <= untriaged_since),
                ),
            )
            .order_by(*queue_order())
            .limit(limit)
        )
    )


def unclaimed_critical_ids(
    session: Session, *, waiting_since: datetime, limit: int = 100
) -> list[int]:
    """Open cases nobody holds, KTAS 1–2 (triaged, or suspected while untriaged) or
    red-flagged, waiting since ``waiting_since`` or longer, without an ``unclaimed_critical``
    alert yet (raised once per case): the most urgent first. The scheduler re-checks each
    under its lock (``triage.scheduler._critical``)."""
    flags = cast(Ticket.red_flags, String)
    flagged = and_(Ticket.red_flags.is_not(None), flags != "null", flags != "[]")
    urgent = or_(
        Ticket.acuity <= 2,
        and_(Ticket.acuity.is_(None), Ticket.suspected_acuity <= 2),
        flagged,
    )
    raised = select(Alert.id).where(
        Alert.ticket_id == Ticket.id, Alert.kind == "unclaimed_critical"
    )
    return list(
        session.scalars(
            select(Ticket.id)
            .where(
                Ticket.status.in_([s.value for s in OPEN_STATUSES]),
                Ticket.assignee_id.is_(None),
                Ticket.merged_into_id.is_(None),
                Ticket.created_at <= waiting_since,
                urgent,
                ~raised.exists(),
            )
            .order_by(*queue_order())
            .limit(limit)
        )
    )


def mark_sla(
    session: Session,
    *,
    column: str,
    now: datetime,
    leads: dict[int, object],
    clock: str = "first_response",
) -> list[int]:
    """Stamp ``column`` (``sla_warned_at`` or ``sla_breached_at``; ``next_response_warned_at``
    or ``next_response_breached_at`` with ``clock="next_response"``) on every open ticket whose
    running clock's deadline minus its level's lead has passed, in one conditional update.

    Returns the ids this call stamped: a ticket another process stamped first is not returned,
    so each alarm fires once however many processes run the scheduler."""

    col = getattr(Ticket, column)
    if clock == "first_response":
        due, running = Ticket.sla_due_at, Ticket.first_response_at.is_(None)
    else:
        due, running = Ticket.next_response_due_at, Ticket.next_response_since.is_not(None)
    per_level = [
        and_(Ticket.priority == lvl, due <= now + lead)  # type: ignore[operator]
        for lvl, lead in leads.items()
    ]
    result = session.execute(
        update(Ticket)
        .where(
            Ticket.status.in_(_OPEN),
            running,
            due.is_not(None),
            col.is_(None),
            or_(*per_level),
        )
        .values({column: now})
        .returning(Ticket.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(result.scalars().all())


def tickets_by_ids(session: Session, ids: list[int]) -> list[Ticket]:
    if not ids:
        return []
    return list(
        session.scalars(
            select(Ticket)
            .where(Ticket.id.in_(ids))
            .order_by(Ticket.id)
            .execution_options(populate_existing=True)
        )
    )


def get_message(session: Session, message_id: int) -> Message | None:
    """A message by id (from the session's identity map when it is there)."""
    return session.get(Message, message_id)


def get_contact(session: Session, contact_id: int) -> Contact | None:
    """A contact by id (from the session's identity map when it is there)."""
    return session.get(Contact, contact_id)


def has_automatic_message(session: Session, ticket_id: int, kind: str) -> bool:
    """Whether the case has an automatic outbound message (no author) of ``kind``
    (``meta["kind"]``); read on the case's messages index."""
    return (
        session.scalar(
            select(Message.id)
            .where(
                Message.ticket_id == ticket_id,
                Message.direction == Direction.OUTBOUND.value,
                Message.author_staff_id.is_(None),  # type: ignore[union-attr]
                Message.meta["kind"].as_string() == kind,  # type: ignore[index]
            )
            .limit(1)
        )
        is not None
    )


def messages_by_ids(session: Session, ids: list[int]) -> list[Message]:
    """The messages of ``ids`` that exist, in no particular order."""
    return list(session.scalars(select(Message).where(Message.id.in_(ids))))


def add_message(
    session: Session,
    ticket: Ticket,
    *,
    text: str,
    now: datetime,
    direction: Direction = Direction.OUTBOUND,
    source: str | None = None,
    channel: str | None = None,
    author_staff_id: int | None = None,
    meta: dict[str, Any] | None = None,
) -> Message:
    """A new staff-side message on ``ticket`` (a reply, a note, an automatic message), flushed
    so it has its id: on the case's own channel unless ``source``/``channel`` say otherwise."""
    message = Message(
        ticket_id=ticket.id,  # type: ignore[arg-type]
        direction=direction.value,
        channel=channel or ticket.channel,
        source=source or ticket.source,
        text=text,
        author_staff_id=author_staff_id,
        created_at=now,
        meta=meta,
    )
    session.add(message)
    session.flush()
    return message


def set_message_meta(session: Session, message: Message, meta: dict[str, Any]) -> None:
    """Store ``meta`` on ``message`` (one UPDATE, no flush of anything else) and on the object."""
    session.execute(
        update(Message)
        .where(Message.id == message.id)
        .values(meta=meta)
        .execution_options(synchronize_session=False)
    )
    message.meta = meta


def _like(q: str) -> str:
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _phrase(q: str) -> str:
    # One FTS5 phrase: with the trigram tokenizer, a phrase matches as a substring.
    return '"' + q.replace('"', '""') + '"'


def search_hit_ids(session: Session, q: str, *, trigram: int) -> Any:
    """The ids of the cases holding ``q``, one row per hit (a case may come more than once),
    as a subquery with one column, ``ticket_id``: a ``UNION ALL`` of the three index lookups,
    which the database can stream and stop reading when the caller has enough."""
    like = _like(q)
    if session.get_bind().dialect.name == "sqlite" and len(q) >= trigram:
        phrase = _phrase(q)

        def fts(name: str) -> Any:
            return table(name, column("rowid", Integer))

        numbers, contacts, messages = fts("tickets_fts"), fts("contacts_fts"), fts("messages_fts")
        by_number = select(numbers.c.rowid).where(literal_column("tickets_fts").op("MATCH")(phrase))
        by_contact = (
            select(Ticket.id)
            .select_from(contacts)
            .join(Ticket, Ticket.contact_id == contacts.c.rowid)
            .where(literal_column("contacts_fts").op("MATCH")(phrase))
        )
        by_message = (
            select(Message.ticket_id.label("ticket_id"))
            .select_from(messages)
            .join(Message, Message.id == messages.c.rowid)
            .where(literal_column("messages_fts").op("MATCH")(phrase))
        )
    else:
        by_number = select(Ticket.id).where(Ticket.case_number.ilike(like, escape="\\"))
        by_contact = (
            select(Ticket.id)
            .join(Contact, Contact.id == Ticket.contact_id)
            .where(_contact_holds(like))
        )
        by_message = select(Message.ticket_id.label("ticket_id")).where(
            Message.text.ilike(like, escape="\\")
        )
    # Messages first: a broad term is most often in the messages, and the caller stops reading
    # there without running the other two (which, under three characters, scan).
    return union_all(by_message, by_contact, by_number).subquery("hits")


def _contact_holds(like: str) -> Any:
    return or_(
        Contact.display_name.ilike(like, escape="\\"),
        Contact.phone_e164.ilike(like, escape="\\"),
        Contact.email.ilike(like, escape="\\"),
    )


def search_row_match(q: str) -> Any:
    """:func:`search_hit_ids` as a check of one case (``Ticket`` correlated): its number, its contact
    or one of its messages (through ``ix_messages_ticket``) holds ``q``. What a walk of the
    cases in queue order filters on, so it can stop after a page.

    Scalar subqueries (``LIMIT 1 … IS NOT NULL``), not ``EXISTS``: PostgreSQL may answer an
    ``EXISTS`` under ``OR`` by hashing every hit up front, which is the cost the walk avoids."""
    like = _like(q)
    contact = (
        select(Contact.id)
        .where(Contact.id == Ticket.contact_id, _contact_holds(like))
        .limit(1)
        .correlate(Ticket)
        .scalar_subquery()
    )
    message = (
        select(Message.id)
        .where(Message.ticket_id == Ticket.id, Message.text.ilike(like, escape="\\"))
        .limit(1)
        .correlate(Ticket)
        .scalar_subquery()
    )
    return or_(
        Ticket.case_number.ilike(like, escape="\\"), contact.is_not(None), message.is_not(None)
    )


def suggested_link_rows(session: Session, ticket_id: int) -> list[Any]:
    """``(TicketLink, Ticket)`` of the cases suggested for ``ticket_id``, newest first
    (merged-away ones left out)."""
    return list(
        session.execute(
            select(TicketLink, Ticket)
            .join(Ticket, Ticket.id == TicketLink.other_ticket_id)
            .where(TicketLink.ticket_id == ticket_id, Ticket.status != Status.MERGED.value)
            .order_by(TicketLink.id.desc())
        ).all()
    )


def move_messages(session: Session, source: Ticket, target: Ticket) -> list[int]:
    """Move every message of ``source`` and its outbox items to ``target``; queued replies
    take the target's channel. Returns the moved message ids in id order."""
    moved_ids = list(
        session.scalars(
            select(Message.id).where(Message.ticket_id == source.id).order_by(Message.id)
        )
    )
    session.execute(
        update(Message)
        .where(Message.ticket_id == source.id)
        .values(ticket_id=target.id)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(OutboxItem)
        .where(OutboxItem.ticket_id == source.id)
        .values(ticket_id=target.id)
        .execution_options(synchronize_session=False)
    )
    # Replies not yet out now go where the merged case lives: the target's channel.
    session.execute(
        update(OutboxItem)
        .where(OutboxItem.ticket_id == target.id, OutboxItem.status == Delivery.QUEUED.value)
        .values(channel=target.channel, source=target.source)
        .execution_options(synchronize_session=False)
    )
    return moved_ids


def ticket_exists(session: Session, ticket_id: int) -> bool:
    """Whether a case with ``ticket_id`` exists (from the identity map when it is there)."""
    return session.get(Ticket, ticket_id) is not None


def any_ticket(session: Session) -> bool:
    """Whether the database holds any case at all."""
    return session.scalar(select(Ticket.id).limit(1)) is not None


# --- bulk writes (the importer's and the demo's history; one executemany per call) -----------


def external_ids_present(session: Session, source: str, external_ids: list[str]) -> list[str]:
    """Which of ``external_ids`` a message of ``source`` already carries."""
    return list(
        session.scalars(
            select(Message.external_id).where(
                Message.source == source, Message.external_id.in_(external_ids)
            )
        )
    )


def insert_returning_ids(session: Session, model: type, rows: list[dict[str, Any]]) -> list[int]:
    """Insert ``rows`` into ``model``'s table in one executemany; their ids, in row order.

    The ids are chosen first and the rows carry them: neither database does a many-row
    INSERT … RETURNING well. SQLite answers it one statement per row; through psycopg it goes as
    multi-row VALUES statements of some 20,000 parameters, re-parsed in Python each time."""
    if not rows:  # an empty executemany would insert one row of defaults
        return []
    table = model.__table__  # type: ignore[attr-defined]
    ids = _new_ids(session, table, len(rows))
    session.execute(insert(table), [{**row, "id": id_} for row, id_ in zip(rows, ids, strict=True)])
    return ids


def _new_ids(session: Session, table: Any, n: int) -> list[int]:
    """``n`` fresh ids for ``table``, ascending."""
    if session.get_bind().dialect.name == "sqlite":
        # A unit of work holds SQLite's write lock from its first statement: the ids SQLite
        # would give (the next after the highest) are free until it commits.
        first = (session.scalar(select(func.max(table.c.id))) or 0) + 1
        return list(range(first, first + n))
    # From the table's sequence, in one statement (unique however many write at once).
    sequence = func.pg_get_serial_sequence(table.name, "id")
    return sorted(
        session.scalars(select(func.nextval(sequence)).select_from(func.generate_series(1, n)))
    )


def insert_rows(session: Session, model: type, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` into ``model``'s table (an executemany, no RETURNING)."""
    session.execute(insert(model.__table__), rows)  # type: ignore[attr-defined]
