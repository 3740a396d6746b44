"""Group commit: one writer thread runs submitted units of work, several to a transaction.

Intake is write-heavy and every acknowledged message must be committed first. Committing each
message alone pays, per message, for a transaction's BEGIN, the fsync of COMMIT and a session's
set-up — and on SQLite, with one writer at a time, every request thread queues on the write lock
anyway. Here one thread takes whatever work has queued up (at most ``max_batch``), runs it in
order in one unit of work and commits once; only then does each caller get its result. At a
trickle a batch is one piece of work, so latency is what it was; under load the commit's cost is
shared.

The rules for submitted work, ``work(session) -> T``:

- it writes only through ``session`` and never commits (the unit of work does);
- it may run more than once: when the shared transaction fails, the batch is rolled back and
  every piece re-runs alone in its own transaction, so one bad piece fails alone and the rest
  still commit. Alone, a piece is retried after errors another process's writes can cause and a
  new attempt can clear (:func:`retryable`): an ``IntegrityError`` (it inserted the same row
  first), a deadlock or a serialization failure;
- the advisory locks it will take are named when it is submitted (``locks``): a batch takes all
  of them first, in key order (:func:`consult119.db.advisory_locks`), so batches of several
  processes that hold the same senders do not deadlock on them;
- it sees the writes of the work before it in the batch, exactly as if they had committed one
  after the other.

A result is handed out only after the commit that made it durable: a caller never acknowledges
what a crash could still undo.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from consult119.metrics import GROUP_COMMIT_BATCH

if TYPE_CHECKING:
    from consult119.db import Database

log = logging.getLogger(__name__)

T = TypeVar("T")
Work = Callable[[Session], T]

#: Pieces of work in one transaction at most: bounds how long the first of them waits.
MAX_BATCH = 64
#: Runs of a piece that keeps failing with a retryable error before the error is the caller's.
ATTEMPTS = 5
#: SQLSTATEs of a transaction that lost to a concurrent one: deadlock victim, serialization
#: failure (class 23, integrity violations, counts too).
_LOST_RACE = frozenset({"40P01", "40001"})
_STOP = object()


def retryable(exc: BaseException) -> bool:
    """Whether ``exc`` is a transaction that lost a race with another writer, so running the
    same work again in a new transaction can succeed: an integrity violation, a deadlock or a
    serialization failure — wrapped by SQLAlchemy or straight from the driver (statements
    prepared by :class:`consult119.db.Prepared` run on the driver's cursor)."""
    if isinstance(exc, IntegrityError):
        return True
    if isinstance(exc, DBAPIError):
        exc = exc.orig  # type: ignore[assignment]
    if isinstance(exc, sqlite3.IntegrityError):
        return True
    state = getattr(exc, "sqlstate", None)  # psycopg's errors carry their SQLSTATE
    return isinstance(state, str) and (state in _LOST_RACE or state.startswith("23"))


class WriterStopped(RuntimeError):
    """Work was submitted after the writer was stopped (the app is shutting down)."""


class GroupCommitWriter:
    """The writer thread of one :class:`~consult119.db.Database` (started on first use)."""

    def __init__(self, db: Database, *, max_batch: int = MAX_BATCH) -> None:
        self.db = db
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._stopped = False
        #: Batches committed and pieces of work in them (read by the benchmark and tests).
        self.batches = 0
        self.pieces = 0

    def submit(self, work: Work[T], *, locks: Iterable[str] = ()) -> Future[T]:
        """Queue ``work``, which will take the advisory locks named in ``locks``; the future
        completes after the commit that holds it."""
        if self._thread is None:
            self._start()
        if self._stopped:
            raise WriterStopped("the database writer has stopped")
        future: Future[T] = Future()
        self._queue.put((work, future, tuple(locks)))
        return future

    def run(self, work: Work[T], *, locks: Iterable[str] = ()) -> T:
        """:meth:`submit` and wait: for callers in threads (SMTP, CLI, the thread pool)."""
        if threading.current_thread() is self._thread:
            # Waiting here for work queued behind this very piece would wait forever.
            raise RuntimeError("work running in the writer cannot wait for the writer")
        return self.submit(work, locks=locks).result()

    async def run_async(self, work: Work[T], *, locks: Iterable[str] = ()) -> T:
        """:meth:`submit` and await, without tying up a thread of the pool."""
        return await asyncio.wrap_future(self.submit(work, locks=locks))

    def stop(self, timeout: float = 10.0) -> None:
        """Finish what is queued, then end the thread."""
        with self._start_lock:
            self._stopped = True
            thread = self._thread
        if thread is not None:
            self._queue.put(_STOP)
            thread.join(timeout)

    def start(self) -> None:
        """Start the thread now rather than on the first submission (the server does, so
        ``/readyz`` can tell whether it runs)."""
        self._start()

    @property
    def running(self) -> bool:
        """Whether the writer thread is alive and takes work."""
        thread = self._thread
        return not self._stopped and thread is not None and thread.is_alive()

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None and not self._stopped:
                self._thread = threading.Thread(
                    target=self._loop, name="consult119-writer", daemon=True
                )
                self._thread.start()

    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            batch = [item]
            stop = False
            while len(batch) < self.max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is _STOP:
                    stop = True
                    break
                batch.append(more)
            self._run_batch(batch)
            if stop:
                return

    def _run_batch(self, batch: list[tuple[Work[Any], Future[Any], tuple[str, ...]]]) -> None:
        live = [item for item in batch if item[1].set_running_or_notify_cancel()]
        if not live:
            return
        if len(live) > 1:
            try:
                with self.db.unit_of_work() as session:
                    self.db.advisory_locks(
                        session, (name for _, _, locks in live for name in locks)
                    )
                    results = [work(session) for work, _, _ in live]
            except BaseException:  # noqa: BLE001 - each piece re-runs alone below
                log.debug("group commit of %d failed; running each alone", len(live), exc_info=True)
            else:
                self.batches += 1
                self.pieces += len(live)
                GROUP_COMMIT_BATCH.observe(len(live))
                for (_, fut, _), result in zip(live, results, strict=True):
                    fut.set_result(result)
                return
        for work, fut, locks in live:
            self._run_alone(work, fut, locks)

    def _run_alone(self, work: Work[Any], fut: Future[Any], locks: tuple[str, ...]) -> None:
        for attempt in range(ATTEMPTS):
            try:
                with self.db.unit_of_work() as session:
                    self.db.advisory_locks(session, locks)
                    result = work(session)
            except BaseException as exc:  # noqa: BLE001 - the caller's error, not the thread's
                if attempt < ATTEMPTS - 1 and retryable(exc):
                    log.debug("retrying after %s", type(exc).__name__, exc_info=True)
                    # Let the writer that won finish; jitter so two losers do not meet again.
                    time.sleep(random.uniform(0, 0.005 * 2**attempt))
                    continue
                fut.set_exception(exc)
                return
            else:
                self.batches += 1
                self.pieces += 1
                GROUP_COMMIT_BATCH.observe(1)
                fut.set_result(result)
                return
