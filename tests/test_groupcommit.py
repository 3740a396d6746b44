"""The group-commit writer: batched units of work, results only after commit, failures alone."""

from __future__ import annotations

import sqlite3
import threading
from concurrent.futures import Future
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from consult119.db import Database, advisory_locks, lock_key, utcnow
from consult119.groupcommit import ATTEMPTS, GroupCommitWriter, WriterStopped, retryable
from consult119.intake.service import InboundMessage
from consult119.tickets.models import Contact, ContactIdentity, Message, Ticket


def _contact(name: str):
    def work(session: Session) -> int:
        contact = Contact(display_name=name, created_at=utcnow(), updated_at=utcnow())
        session.add(contact)
        session.flush()
        assert contact.id is not None
        return contact.id

    return work


def _names(db: Database) -> set[str]:
    with db.read_session() as session:
        return set(session.scalars(select(Contact.display_name)))


def _blocked_writer(db: Database) -> tuple[GroupCommitWriter, threading.Event, Future[None]]:
    """A writer busy with a first piece that waits for the returned event."""
    writer = GroupCommitWriter(db)
    started, release = threading.Event(), threading.Event()

    def hold(session: Session) -> None:
        started.set()
        assert release.wait(10)

    first = writer.submit(hold)
    assert started.wait(10)
    return writer, release, first


def test_work_queued_while_the_writer_is_busy_commits_as_one_batch(db):
    writer, release, first = _blocked_writer(db)
    futures = [writer.submit(_contact(f"c{i}")) for i in range(10)]
    assert not any(f.done() for f in futures)
    release.set()
    ids = [f.result(10) for f in futures]
    first.result(10)
    writer.stop()

    assert len(set(ids)) == 10
    assert _names(db) == {f"c{i}" for i in range(10)}
    # The blocking piece alone, then the ten together: two transactions for eleven pieces.
    assert (writer.batches, writer.pieces) == (2, 11)


def test_a_result_is_handed_out_only_after_its_commit(db):
    seen_by_other_connection: list[set[str]] = []

    def work(session: Session) -> str:
        _contact("inside")(session)
        seen_by_other_connection.append(_names(db))  # another connection: uncommitted is unseen
        return "done"

    writer = GroupCommitWriter(db)
    future = writer.submit(work)
    assert future.result(10) == "done"
    writer.stop()
    assert seen_by_other_connection == [set()]
    assert _names(db) == {"inside"}


def test_a_failing_piece_fails_alone_and_leaves_nothing_behind(db):
    def bad(session: Session) -> None:
        _contact("half-written")(session)
        raise ValueError("refused")

    writer, release, first = _blocked_writer(db)
    good1 = writer.submit(_contact("good1"))
    failing = writer.submit(bad)
    good2 = writer.submit(_contact("good2"))
    release.set()
    first.result(10)
    assert good1.result(10) and good2.result(10)
    with pytest.raises(ValueError, match="refused"):
        failing.result(10)
    writer.stop()
    assert _names(db) == {"good1", "good2"}


def test_integrity_errors_are_retried_then_handed_to_the_caller(db):
    runs = []

    def duplicate_identity(session: Session) -> None:
        runs.append(1)
        contact_id = _contact("twin")(session)
        for _ in range(2):
            session.add(
                ContactIdentity(
                    contact_id=contact_id, source="kakao", external_id="same", created_at=utcnow()
                )
            )
            session.flush()

    writer = GroupCommitWriter(db)
    with pytest.raises(IntegrityError):
        writer.run(duplicate_identity)
    writer.stop()
    assert len(runs) == ATTEMPTS
    assert _names(db) == set()


def test_stop_finishes_queued_work_then_refuses_more(db):
    writer, release, first = _blocked_writer(db)
    queued = writer.submit(_contact("queued"))
    stopper = threading.Thread(target=writer.stop)
    stopper.start()
    release.set()
    stopper.join(10)
    assert queued.result(10)
    assert first.done()
    with pytest.raises(WriterStopped):
        writer.submit(_contact("late"))
    assert _names(db) == {"queued"}


def test_one_new_traveller_writing_twice_in_one_batch_opens_one_case(db):
    """A batch runs its pieces in order in one transaction: the second message sees the case
    the first opened, as if they had committed one after the other."""
    from consult119.intake.service import IntakeService

    intake = IntakeService(report_zone=db.settings.report_zone, reopen_window=timedelta(hours=72))

    def message(n: int):
        inbound = InboundMessage(
            source="kakao", sender_id="new-traveller", external_id=f"m{n}", text=f"help {n}"
        )
        return lambda session: intake.receive(session, inbound, now=utcnow())

    writer, release, first = _blocked_writer(db)
    futures = [writer.submit(message(n)) for n in range(3)]
    release.set()
    results = [f.result(10) for f in futures]
    writer.stop()
    assert [r.created for r in results] == [True, False, False]
    assert len({r.ticket_id for r in results}) == 1
    with db.read_session() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == 1
        assert session.scalar(select(func.count()).select_from(Message)) == 3


def test_work_that_waits_for_the_writer_fails_instead_of_hanging(db):
    writer = GroupCommitWriter(db)
    nested = writer.submit(lambda session: writer.run(_contact("inner")))
    with pytest.raises(RuntimeError, match="cannot wait for the writer"):
        nested.result(10)
    writer.stop()
    assert _names(db) == set()


def _pg_only(db: Database) -> None:
    if db.is_sqlite:
        pytest.skip("advisory locks and deadlocks are PostgreSQL's; SQLite has one writer")


def test_batches_of_two_processes_holding_the_same_senders_do_not_deadlock(db):
    """Two writers (two server processes) each batch two pieces that take the same two locks in
    opposite order, the first piece lingering with its lock held. Taking the locks of the whole
    batch first, in key order, makes the second batch wait for the first instead of deadlocking
    with it — so each batch commits whole."""
    _pg_only(db)
    other = Database(db.settings)

    def piece(name: str, lock: str, linger: float):
        def work(session: Session) -> int:
            advisory_locks(session, (lock,))
            session.execute(text("SELECT pg_sleep(:s)"), {"s": linger})
            return _contact(name)(session)

        return work

    writers = []
    futures = []
    for database, order in ((db, ("x", "y")), (other, ("y", "x"))):
        writer, release, first = _blocked_writer(database)
        writers.append((writer, release, first))
        futures += [
            writer.submit(piece(f"{order[0]}-{lock}", lock, 0.3 if i == 0 else 0), locks=(lock,))
            for i, lock in enumerate(order)
        ]
    for _, release, _ in writers:
        release.set()
    ids = [f.result(20) for f in futures]
    for writer, _, first in writers:
        first.result(10)
        writer.stop()
        # The blocking piece, then the two together: a deadlock would have split the batch.
        assert (writer.batches, writer.pieces) == (2, 3)
    other.dispose()
    assert len(set(ids)) == 4


def test_a_deadlock_victim_is_run_again(db):
    """A piece that another transaction deadlocks with is the victim (it waits first, so
    PostgreSQL's check fires in its session first); it runs again and commits instead of
    handing the caller a deadlock error."""
    _pg_only(db)
    runs = []
    holding_a = threading.Event()

    def piece(session: Session) -> int:
        runs.append(1)
        advisory_locks(session, ("a",))
        holding_a.set()
        advisory_locks(session, ("b",))  # held by the other transaction, which waits for "a"
        return _contact(f"run{len(runs)}")(session)

    def other_transaction() -> None:
        with db.engine.connect() as conn:
            conn.execute(text("SET deadlock_timeout = '10s'"))  # the piece detects it first
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_key("b")})
            assert holding_a.wait(10)
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_key("a")})
            conn.commit()

    other = threading.Thread(target=other_transaction)
    other.start()
    writer = GroupCommitWriter(db)
    contact_id = writer.run(piece)
    other.join(10)
    writer.stop()
    assert contact_id
    assert len(runs) == 2
    assert _names(db) == {"run2"}


def test_only_lost_races_are_retried():
    from sqlalchemy.exc import DBAPIError, OperationalError

    class Orig(Exception):
        def __init__(self, sqlstate: str) -> None:
            self.sqlstate = sqlstate

    assert retryable(IntegrityError("insert", {}, Orig("23505")))
    assert retryable(Orig("23505"))  # a prepared statement's error comes from the driver
    assert retryable(Orig("40P01"))
    assert retryable(sqlite3.IntegrityError("UNIQUE constraint failed"))
    assert retryable(OperationalError("select", {}, Orig("40P01")))
    assert retryable(DBAPIError("update", {}, Orig("40001")))
    assert not retryable(OperationalError("select", {}, Orig("57014")))  # statement timeout
    assert not retryable(ValueError("bad input"))
