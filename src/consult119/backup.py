"""``consult119 backup PATH`` and ``consult119 restore PATH`` (docs/operations.md, "Backups").

A backup is a folder::

    PATH/consult119.db      the database, copied by SQLite's online backup API
    PATH/attachments/       the attachments folder, when there is one
    PATH/manifest.json      when, from which schema revision, how many pages and files

**Consistent while the server runs.** The copy reads the database inside one read transaction
of its own connection: in WAL mode that pins a snapshot, so every step of the backup copies
the same committed state while the server goes on writing (readers and the writer do not block
each other), and the backup never has to restart because another process wrote. Everything
committed — every case acknowledged — before the backup began is in the copy.

**Restore only with no server on the database.** ``serve`` holds a shared ``flock`` on
``<database>-server.lock`` for as long as it runs; ``restore`` takes the same lock exclusively,
without waiting, and refuses when it cannot. The kernel drops the lock when its process ends,
however it ends (``kill -9``, a crash), so there is no stale pid file to clear, and a server
started during a restore waits for it to finish. While it holds the lock, ``restore`` copies the
backup beside the database, checks it (``PRAGMA integrity_check``, and a schema revision this
code knows), checkpoints the current database (so no write-ahead log of the old file is left to
be applied to the new one), keeps the old file as ``<database>.pre-restore-<time>``, and puts
the copy in place with one ``rename``: at every moment the path holds either the old database
or the new one, whole.

PostgreSQL is backed up with its own tools: the commands print the ``pg_dump`` (or
``pg_restore``) line to run.
"""

from __future__ import annotations

import contextlib
import fcntl
import getpass
import hashlib
import json
import os
import shlex
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from sqlalchemy.engine import make_url

from consult119.audit import service as audit
from consult119.config import Settings
from consult119.db import Database
from consult119.migrate import MIGRATIONS

DB_FILE = "consult119.db"
ATTACHMENTS = "attachments"
MANIFEST = "manifest.json"
#: Pages copied per step of the online backup (the progress bar moves once per step).
PAGES_PER_STEP = 256

#: ``progress(done, total)`` in units the caller chose to show (pages, then files).
Progress = Callable[[str, int, int], None]


class BackupError(Exception):
    """A backup or restore that must not go on; the message says why (for the terminal)."""


@dataclass
class BackupResult:
    path: Path
    pages: int
    files: int
    revision: str | None


@dataclass
class RestoreResult:
    database: Path
    kept: Path | None
    files: int
    revision: str | None


# ---- the server's lock ------------------------------------------------------------------------


def lock_path(database: Path) -> Path:
    return database.with_name(database.name + "-server.lock")


@contextlib.contextmanager
def server_lock(
    settings: Settings, *, wait_message: Callable[[], None] | None = None
) -> Iterator[None]:
    """Held by ``serve`` while it runs on a SQLite file (shared: several may read the file,
    a restore may not replace it). Waits while a restore holds it."""
    database = settings.sqlite_path
    if database is None:
        yield
        return
    database.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path(database), "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            if wait_message is not None:
                wait_message()
            fcntl.flock(handle, fcntl.LOCK_SH)
        yield


def _take_exclusive(database: Path) -> IO[bytes]:
    handle = open(lock_path(database), "a+b")  # noqa: SIM115 - held until the restore ends
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise BackupError(
            f"a server is running on {database}; stop it first (restore replaces the file)"
        ) from None
    return handle


# ---- PostgreSQL -------------------------------------------------------------------------------


def _pg_args(settings: Settings) -> list[str]:
    url = make_url(settings.sqlalchemy_url)
    args = []
    if url.host:
        args += ["--host", url.host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    return [*args, "--dbname", url.database or ""]


def _quote(parts: list[str]) -> str:

    return " ".join(shlex.quote(p) for p in parts)


def pg_dump_line(settings: Settings, path: Path) -> str:
    """The ``pg_dump`` command for this database (the password is never printed: it comes
    from ``PGPASSWORD`` or ``~/.pgpass``)."""
    target = path / "consult119.dump"
    return _quote(["pg_dump", "--format=custom", *_pg_args(settings), "--file", str(target)])


def pg_restore_line(settings: Settings, path: Path) -> str:
    source = path / "consult119.dump" if path.is_dir() or path.suffix != ".dump" else path
    return _quote(
        ["pg_restore", "--clean", "--if-exists", "--no-owner", *_pg_args(settings), str(source)]
    )


# ---- the access log ---------------------------------------------------------------------------

BACKUP_ACTION = "backup"
RESTORE_ACTION = "restore"


def who() -> str:
    """The operating-system user running the command (it goes into the access log)."""

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in a bare container
        return "unknown"


def _record(settings: Settings, action: str, detail: dict[str, object]) -> int | None:
    """One access-log entry: a backup reads, a restore writes, every record there is."""

    db = Database(settings)
    try:
        with db.unit_of_work() as session:
            entry = audit.record(session, staff_id=None, action=action, detail=detail)
            session.flush()
            return entry.id
    finally:
        db.dispose()


# ---- SQLite -----------------------------------------------------------------------------------


def _require_sqlite(settings: Settings) -> Path:
    database = settings.sqlite_path
    if database is None:
        raise BackupError("not a SQLite database file")
    return database


def _revision(conn: sqlite3.Connection) -> str | None:
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError:
        return None
    return row[0] if row else None


def _integrity(conn: sqlite3.Connection) -> str:
    rows = conn.execute("PRAGMA integrity_check").fetchall()
    return "; ".join(str(r[0]) for r in rows[:5])


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []


def _copy_files(src: Path, dst: Path, progress: Progress | None) -> int:
    files = _files(src)
    for i, file in enumerate(files, 1):
        target = dst / file.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(file, target)
        if progress is not None:
            progress("files", i, len(files))
    return len(files)


def backup(settings: Settings, path: Path, *, progress: Progress | None = None) -> BackupResult:
    """Copy the running database (and its attachments folder) into the new folder ``path``."""
    database = _require_sqlite(settings)
    if not database.exists():
        raise BackupError(f"no database at {database}")
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise BackupError(f"{path} exists and is not an empty folder")
    path.mkdir(parents=True, exist_ok=True)
    # Recorded before the snapshot is taken, so the copy holds the record of its own making.
    _record(settings, BACKUP_ACTION, {"by": who(), "path": str(path.resolve())})
    part = path / (DB_FILE + ".part")
    source = sqlite3.connect(database, isolation_level=None, timeout=30)
    try:
        source.execute("PRAGMA busy_timeout=30000")
        # One read transaction for the whole copy: every step reads the same snapshot.
        source.execute("BEGIN")
        revision = _revision(source)
        target = sqlite3.connect(part)
        try:
            pages = 0

            def step(_status: int, remaining: int, total: int) -> None:
                nonlocal pages
                pages = total
                if progress is not None:
                    progress("pages", total - remaining, total)

            source.backup(target, pages=PAGES_PER_STEP, progress=step)
            problem = _integrity(target)
        finally:
            target.close()
        source.execute("COMMIT")
    finally:
        source.close()
    if problem != "ok":
        part.unlink(missing_ok=True)
        raise BackupError(f"the copy failed its integrity check: {problem}")
    _fsync(part)
    part.replace(path / DB_FILE)
    files = _copy_files(settings.attachments_path, path / ATTACHMENTS, progress)
    manifest = {
        "format": 1,
        "made_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "database": DB_FILE,
        "schema_revision": revision,
        "pages": pages,
        "sha256": _sha256(path / DB_FILE),
        "attachments": files,
    }
    (path / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    _fsync(path / MANIFEST)
    _fsync(path)
    return BackupResult(path=path, pages=pages, files=files, revision=revision)


def _known_revisions() -> set[str]:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return {rev.revision for rev in ScriptDirectory.from_config(cfg).walk_revisions()}


def _copy_with_progress(src: Path, dst: Path, progress: Progress | None) -> None:
    total = src.stat().st_size
    done = 0
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        for chunk in iter(lambda: fin.read(1 << 20), b""):
            fout.write(chunk)
            done += len(chunk)
            if progress is not None:
                progress("bytes", done, total)
        fout.flush()
        os.fsync(fout.fileno())


def restore(settings: Settings, path: Path, *, progress: Progress | None = None) -> RestoreResult:
    """Put the backup in ``path`` in place of the configured database (and attachments)."""
    database = _require_sqlite(settings)
    copy = path / DB_FILE
    if not copy.is_file():
        raise BackupError(f"no {DB_FILE} in {path}")
    database.parent.mkdir(parents=True, exist_ok=True)
    lock = _take_exclusive(database)
    try:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        staged = database.with_name(f".{database.name}.restore-{stamp}")
        try:
            _copy_with_progress(copy, staged, progress)
            try:
                check = sqlite3.connect(staged, isolation_level=None)
                try:
                    problem = _integrity(check)
                    revision = _revision(check)
                finally:
                    check.close()
            except sqlite3.DatabaseError as exc:  # too damaged to even check
                problem, revision = str(exc), None
            if problem != "ok":
                raise BackupError(f"the backup failed its integrity check: {problem}")
            if revision is not None and revision not in _known_revisions():
                raise BackupError(
                    f"the backup's schema ({revision}) is newer than this version knows"
                )
            kept = _set_aside(database, stamp)
            staged.replace(database)
            _fsync(database.parent)
        finally:
            staged.unlink(missing_ok=True)
            for suffix in ("-wal", "-shm"):
                staged.with_name(staged.name + suffix).unlink(missing_ok=True)
        files = _restore_attachments(path / ATTACHMENTS, settings.attachments_path, stamp, progress)
        made_at = None
        with contextlib.suppress(OSError, ValueError):
            made_at = json.loads((path / MANIFEST).read_text(encoding="utf-8")).get("made_at")
        # In the restored database (the access log's table is the same since the first
        # revision). The copy is in place by now: a failure here is reported, not undone.
        try:
            _record(
                settings,
                RESTORE_ACTION,
                {"by": who(), "path": str(path.resolve()), "made_at": made_at},
            )
        except Exception as exc:  # noqa: BLE001
            raise BackupError(
                f"restored, but the access-log entry could not be written ({type(exc).__name__})"
            ) from exc
        return RestoreResult(database=database, kept=kept, files=files, revision=revision)
    finally:
        lock.close()


def _set_aside(database: Path, stamp: str) -> Path | None:
    """Checkpoint the current database into its main file (no write-ahead log left to be
    replayed onto the restored file) and keep it, hard-linked, as ``.pre-restore-<time>``."""
    if not database.exists():
        return None
    conn = sqlite3.connect(database, isolation_level=None, timeout=30)
    try:
        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        conn.close()
    if busy:
        raise BackupError(f"{database} is in use by another process; stop it first")
    for suffix in ("-wal", "-shm"):
        database.with_name(database.name + suffix).unlink(missing_ok=True)
    kept = database.with_name(f"{database.name}.pre-restore-{stamp}")
    try:
        os.link(database, kept)
    except OSError:
        shutil.copy2(database, kept)
    return kept


def _restore_attachments(src: Path, dst: Path, stamp: str, progress: Progress | None) -> int:
    if not src.is_dir():
        return 0
    staged = dst.with_name(f".{dst.name}.restore-{stamp}")
    files = _copy_files(src, staged, progress)
    staged.mkdir(parents=True, exist_ok=True)
    if dst.exists():
        dst.replace(dst.with_name(f"{dst.name}.pre-restore-{stamp}"))
    staged.replace(dst)
    return files
