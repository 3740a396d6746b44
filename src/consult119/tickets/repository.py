"""Every query of the case domain. Services call these; routes never query directly."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import bindparam, case, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, class_mapper

from consult119.tickets.codes import OPEN_STATUSES, Status
from consult119.tickets.models import CaseCounter, ContactIdentity, Message, Ticket

M = TypeVar("M")


def lock_sender(session: Session, source: str, sender_id: str) -> None:
    """Serialise intake per sender on PostgreSQL (SQLite already has one writer).

    Two messages from one new traveller arriving at once must open one case, not two.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"{source}\x1f{sender_id}"}
        )


_counters = CaseCounter.__table__  # type: ignore[attr-defined]
_messages = Message.__table__  # type: ignore[attr-defined]
_identities = ContactIdentity.__table__  # type: ignore[attr-defined]
_NEXT_SEQ: dict[str, Any] = {}
_FIND_MESSAGE = select(_messages.c.id, _messages.c.ticket_id).where(
    _messages.c.source == bindparam("source"), _messages.c.external_id == bindparam("ext")
)
_FIND_CONTACT = select(_identities.c.contact_id).where(
    _identities.c.source == bindparam("source"), _identities.c.external_id == bindparam("ext")
)


def next_case_seq(session: Session, year: int) -> int:
    """The next sequence number of ``year`` in one upsert; gap-free because a rollback undoes
    it, and unique because the counter row stays locked until commit."""
    dialect = session.get_bind().dialect.name
    stmt = _NEXT_SEQ.get(dialect)
    if stmt is None:
        ins = pg_insert(_counters) if dialect == "postgresql" else sqlite_insert(_counters)
        stmt = _NEXT_SEQ[dialect] = (
            ins.values(year=bindparam("year"), last_seq=1)
            .on_conflict_do_update(
                index_elements=[_counters.c.year], set_={"last_seq": _counters.c.last_seq + 1}
            )
            .returning(_counters.c.last_seq)
        )
    return session.execute(stmt, {"year": year}).scalar_one()


def find_message_ref(session: Session, source: str, external_id: str) -> tuple[int, int] | None:
    """(message id, ticket id) of an already received message, if any."""
    row = session.execute(_FIND_MESSAGE, {"source": source, "ext": external_id}).first()
    return (row[0], row[1]) if row else None


def find_contact_id(session: Session, source: str, external_id: str) -> int | None:
    return session.execute(_FIND_CONTACT, {"source": source, "ext": external_id}).scalar()


_INSERT_RETURNING_ID: dict[type, Any] = {}


def insert_returning_id(session: Session, model: type, values: dict[str, Any]) -> int:
    """A plain INSERT … RETURNING id: the intake hot path skips the ORM's flush machinery.

    The statement is built once per table and the values go as parameters, so SQLAlchemy's
    compiled cache serves every call.
    """
    stmt = _INSERT_RETURNING_ID.get(model)
    if stmt is None:
        table = model.__table__  # type: ignore[attr-defined]
        stmt = _INSERT_RETURNING_ID[model] = insert(table).returning(table.c.id)
    return session.execute(stmt, values).scalar_one()


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


def bump_version(session: Session, ticket: Ticket, now: datetime, **values: object) -> bool:
    """Conditional update on ``version``: True when this writer won, False when someone else
    changed the ticket first. Used wherever two people may act at once."""
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


def queue_order() -> tuple:
    """SPEC's queue order: priority (untriaged ranks as 2), then waiting time."""
    return (Ticket.priority.asc(), Ticket.created_at.asc(), Ticket.id.asc())


def list_tickets(
    session: Session,
    *,
    statuses: list[str] | None = None,
    channel: str | None = None,
    assignee_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Ticket], int]:
    """One page of tickets in queue order and the total matching. Open tickets by default."""
    from sqlalchemy import func

    conds = [Ticket.status.in_(statuses or [s.value for s in OPEN_STATUSES])]
    if channel is not None:
        conds.append(Ticket.channel == channel)
    if assignee_id is not None:
        conds.append(Ticket.assignee_id == assignee_id)
    total = session.scalar(select(func.count()).select_from(Ticket).where(*conds)) or 0
    rows = session.scalars(
        select(Ticket).where(*conds).order_by(*queue_order()).limit(limit).offset(offset)
    ).all()
    return list(rows), total


def messages_of(session: Session, ticket_id: int) -> list[Message]:
    return list(
        session.scalars(select(Message).where(Message.ticket_id == ticket_id).order_by(Message.id))
    )
