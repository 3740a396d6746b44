"""Engine, sessions and the unit of work: the one place that commits.

Why a synchronous engine: measured on this project's intake path (docs/performance.md), the
sync SQLite driver in FastAPI's thread pool beats aiosqlite, whose every call hops to a helper
thread, and psycopg 3's sync driver matches its async one for short transactions. The
WebSocket side stays async and never holds a session: it reads the event log in short,
separate transactions.

SQLite: WAL, foreign keys on, a busy timeout, and writers serialised in-process by a lock taken
before ``BEGIN IMMEDIATE`` — SQLite has one writer at a time anyway, and a Python lock queues
writers fairly where SQLite's busy handler would sleep and retry.
PostgreSQL: psycopg 3 from a plain ``postgresql://`` URL.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Engine, create_engine, event, literal_column, text
from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

from consult119.config import Settings
from consult119.groupcommit import GroupCommitWriter
from consult119.metrics import count_database_error

CommitHook = Callable[[list[Any]], None]


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in Python; ``timestamptz`` on PostgreSQL, UTC text on SQLite."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; store times as aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # raw SQLite text (e.g. from an aggregate)
            value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


#: Run by every unit of work just before its commit, in its transaction; each returns what it
#: wrote for the commit hooks. The event log registers itself here when it is imported
#: (``consult119.realtime.events``: no event can be pending before that), so the database layer
#: needs no import of the layers above it.
BEFORE_COMMIT: list[Callable[[Session], list[Any]]] = []


def before_commit(flush: Callable[[Session], list[Any]]) -> Callable[[Session], list[Any]]:
    """Register ``flush`` in :data:`BEFORE_COMMIT` (once)."""
    if flush not in BEFORE_COMMIT:
        BEFORE_COMMIT.append(flush)
    return flush


def utcnow() -> datetime:
    return datetime.now(UTC)


def _count_error(context: Any) -> None:
    """The engine's ``handle_error`` hook: every error a statement raised, for the metrics."""
    count_database_error(context.sqlalchemy_exception or context.original_exception)


def build_engine(settings: Settings) -> Engine:
    """An engine for the configured database, with the per-connection set-up it needs."""
    engine = _build_engine(settings)
    event.listen(engine, "handle_error", _count_error)
    return engine


def _build_engine(settings: Settings) -> Engine:
    url = settings.sqlalchemy_url
    if settings.is_sqlite:
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=8,
            max_overflow=8,
            hide_parameters=True,  # an error's text reaches logs; its parameters are personal data
        )
        synchronous = settings.sqlite_synchronous.upper()
        if synchronous not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
            raise ValueError(f"bad sqlite_synchronous {synchronous!r}")

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
            # Take transaction control from the driver so BEGIN is ours.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA synchronous={synchronous}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            immediate = conn.get_execution_options().get("sqlite_immediate", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    return create_engine(
        url,
        pool_size=settings.pg_pool_size,
        max_overflow=settings.pg_pool_size,
        pool_pre_ping=True,
        hide_parameters=True,
    )


class Database:
    """Owns the engine and hands out sessions. Only :meth:`unit_of_work` commits."""

    def __init__(self, settings: Settings, engine: Engine | None = None) -> None:
        self.settings = settings
        self.engine = engine or build_engine(settings)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._write_engine = (
            self.engine.execution_options(sqlite_immediate=True) if self.is_sqlite else self.engine
        )
        self._write_lock = threading.Lock() if self.is_sqlite else None
        self._commit_hooks: list[CommitHook] = []
        #: Batched units of work (:mod:`consult119.groupcommit`); its thread starts on first use.
        self.writer = GroupCommitWriter(self, max_batch=settings.group_commit_max)

    def advisory_locks(self, session: Session, names: Iterable[str]) -> None:
        """:func:`advisory_locks` on this database (what the group-commit writer takes)."""
        advisory_locks(session, names)

    def add_commit_hook(self, hook: CommitHook) -> None:
        """Call ``hook(events)`` after each commit that appended events (e.g. wake the hub)."""
        self._commit_hooks.append(hook)

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A session for reads; it never commits."""
        session = Session(self.engine, expire_on_commit=False, autoflush=False)
        try:
            yield session
        finally:
            session.close()

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """A write transaction: commits on success (events first), rolls back on any error.

        On SQLite the in-process write lock is held for the whole transaction.
        """
        lock = self._write_lock
        if lock is not None:
            lock.acquire()
        session = Session(self._write_engine, expire_on_commit=False, autoflush=False)
        try:
            yield session
            events = self._commit(session)
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
            if lock is not None:
                lock.release()
        if events:
            for hook in self._commit_hooks:
                hook(events)

    def _commit(self, session: Session) -> list[Any]:
        events = [e for flush in BEFORE_COMMIT for e in flush(session)]
        session.commit()
        return events

    def dispose(self) -> None:
        self.writer.stop()
        self.engine.dispose()


class Prepared:
    """A Core statement compiled once per dialect and run straight on the DB-API cursor of the
    session's connection (inside its transaction).

    For the intake hot path only: there SQLAlchemy's per-execution work (execution context,
    events, result wrapping) cost several times what SQLite takes to run the statement
    (docs/performance.md). Bound values go through the same type processors SQLAlchemy applies;
    rows come back as plain DB-API tuples, *unprocessed* — select only integers and text.
    Write ``IN`` lists as literals (:func:`literal_in`): expanding parameters need SQLAlchemy's
    per-execution rendering.
    """

    def __init__(self, statement: Any) -> None:
        self.statement = statement
        self._plans: dict[str, tuple[str, tuple[str, ...] | None, dict[str, Any], tuple]] = {}

    def _plan(self, dialect: Dialect) -> tuple[str, tuple[str, ...] | None, dict[str, Any], tuple]:
        compiled = self.statement.compile(dialect=dialect)
        if compiled.post_compile_params:
            raise ValueError("expanding parameters cannot be prepared; use literal_in()")
        names = compiled.bind_names  # BindParameter -> the name it has in the SQL
        defaults = {name: bp.value for bp, name in names.items() if not bp.required}
        processors = tuple(
            (name, proc)
            for bp, name in names.items()
            if (proc := bp.type.dialect_impl(dialect).bind_processor(dialect)) is not None
        )
        order = tuple(compiled.positiontup) if dialect.positional else None  # type: ignore[arg-type]
        plan = (compiled.string, order, defaults, processors)
        self._plans[dialect.name] = plan
        return plan

    def cursor(self, session: Session, params: dict[str, Any]) -> Any:
        """Run the statement with ``params``; returns the DB-API cursor to fetch from."""
        conn = session.connection()
        dialect = conn.dialect
        sql, order, defaults, processors = self._plans.get(dialect.name) or self._plan(dialect)
        values = {**defaults, **params}
        for name, proc in processors:
            if name in values:
                values[name] = proc(values[name])
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(sql, [values[n] for n in order] if order is not None else values)
        except Exception as exc:
            count_database_error(exc)  # the engine's hook never sees the driver's own cursor
            cursor.close()
            raise
        return cursor

    def first(self, session: Session, params: dict[str, Any]) -> tuple | None:
        """The first row (a plain tuple), or None."""
        cursor = self.cursor(session, params)
        try:
            row = cursor.fetchone()
        finally:
            cursor.close()
        return tuple(row) if row is not None else None

    def scalar(self, session: Session, params: dict[str, Any]) -> Any:
        """The first column of the first row, or None."""
        row = self.first(session, params)
        return row[0] if row is not None else None


_HELD_LOCKS = "consult119.advisory_locks"
_TAKE_LOCKS = Prepared(
    text("SELECT count(pg_advisory_xact_lock(k)) FROM unnest(CAST(:keys AS bigint[])) AS k")
)


def lock_key(name: str) -> int:
    """The 64-bit advisory-lock key of ``name`` (stable across processes and versions)."""
    digest = hashlib.blake2b(name.encode(), digest_size=8, person=b"consult119").digest()
    return int.from_bytes(digest, "big", signed=True)


def advisory_locks(session: Session, names: Iterable[str]) -> None:
    """Hold the named locks until the transaction ends (PostgreSQL; SQLite has one writer).

    Locks are taken in key order, so transactions that each take theirs through this function
    never deadlock on them; a name this transaction already holds costs nothing.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    held: set[int] = session.info.setdefault(_HELD_LOCKS, set())
    keys = sorted({lock_key(n) for n in names} - held)
    if keys:
        _TAKE_LOCKS.first(session, {"keys": keys})
        held.update(keys)


def literal_in(column: Any, values: Iterable[str]) -> Any:
    """``column IN ('a', 'b')`` with the values in the SQL text: for fixed code lists (statuses,
    roles), never for user input."""
    for v in values:
        if not v.replace("_", "").isalnum():
            raise ValueError(f"not a plain code: {v!r}")
    return column.in_([literal_column(f"'{v}'") for v in values])


def ping(session: Session) -> None:
    """One ``SELECT 1``: raises when the database does not answer (the health check)."""
    session.execute(text("SELECT 1"))


def empty_tables(
    db: Database, tables: Sequence[str], *, zero: Sequence[tuple[str, str]] = ()
) -> None:
    """Delete every row of ``tables`` (children before parents) and set each ``(table, column)``
    of ``zero`` to 0, in one transaction: the schema and its version stay.

    SQLite checks each deleted row's foreign keys, and a self-reference without an index
    (``tickets.merged_into_id``) makes emptying a large table quadratic; every row goes, so the
    checks are off for this one transaction (the pragma only works outside one). PostgreSQL
    truncates and restarts the id sequences."""
    resets = [f'UPDATE "{t}" SET "{c}" = 0' for t, c in zero]  # noqa: S608 - schema names
    if not db.is_sqlite:
        with db.unit_of_work() as session:
            conn = session.connection()
            conn.exec_driver_sql(
                "TRUNCATE " + ", ".join(f'"{n}"' for n in tables) + " RESTART IDENTITY CASCADE"
            )
            for statement in resets:
                conn.exec_driver_sql(statement)
        return
    raw = db.engine.raw_connection()
    cur = raw.cursor()
    try:
        cur.execute("PRAGMA foreign_keys=OFF")
        cur.execute("BEGIN IMMEDIATE")
        try:
            for name in tables:
                cur.execute(f'DELETE FROM "{name}"')  # noqa: S608 - the schema's own table names
            for statement in resets:
                cur.execute(statement)
        except BaseException:
            cur.execute("ROLLBACK")  # all or nothing
            raise
        cur.execute("COMMIT")
    finally:
        # The connection goes back to the pool: never with its foreign keys unchecked.
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()
        raw.close()
