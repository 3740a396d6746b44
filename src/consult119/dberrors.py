"""Telling a database outage from a bug: the checks every layer shares (the API's error
handler, background loops, the metrics, migrations), with no import of the database layer."""

from __future__ import annotations

import logging
import sqlite3

import psycopg
from sqlalchemy.exc import DBAPIError


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database is out of reach or lost a race for now, not that the
    request or the code is wrong: the connection failed or broke, SQLite stayed locked past its
    busy timeout, or a transaction lost to a concurrent one after its retries. Raised by
    SQLAlchemy or, for prepared statements, by the driver itself."""
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        exc = exc.orig  # type: ignore[assignment]
    return isinstance(exc, (sqlite3.OperationalError, psycopg.OperationalError))


def outage(exc: BaseException) -> str:
    """One log line's worth of a database outage: the error's type and SQLSTATE, never its text
    (a statement's text can quote what was being written, and that is personal data)."""
    orig = getattr(exc, "orig", None) or exc
    state = getattr(orig, "sqlstate", None)
    return f"database unavailable ({type(orig).__name__}{f' {state}' if state else ''})"


def log_failure(logger: logging.Logger, what: str, exc: BaseException) -> None:
    """Log a failed round of a background loop that will try again: one warning line while
    the database is out of reach, the whole traceback for anything else (a bug)."""
    if database_unavailable(exc):
        logger.warning("%s: %s; retrying", what, outage(exc))
    else:
        logger.error("%s", what, exc_info=exc)
