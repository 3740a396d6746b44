"""``consult119 backup`` under load and ``consult119 restore``, as an operator runs them: every
case acknowledged before the backup began is in the restored database, which passes
``PRAGMA integrity_check``; a restore is refused while a server runs on the database."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from consult119.config import Settings
from consult119.db import build_engine
from consult119.migrate import upgrade
from tests import forkserver
from tests.conftest import LiveServer


def cli(database_url: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "CONSULT119_DATABASE_URL": database_url, "COLUMNS": "200", **env}
    return forkserver.run(
        [sys.executable, "-m", "consult119.cli", "--lang", "en", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
    )


@pytest.fixture
def sqlite_file(tmp_path: Path) -> tuple[str, Path]:
    path = tmp_path / "live" / "consult119.db"
    path.parent.mkdir()
    url = f"sqlite:///{path}"
    engine = build_engine(Settings(database_url=url))
    upgrade(engine)
    engine.dispose()
    return url, path


def case_numbers(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {row[0] for row in conn.execute("SELECT case_number FROM tickets")}
    finally:
        conn.close()


def test_backup_under_load_restores_every_acknowledged_case(sqlite_file, tmp_path):
    url, path = sqlite_file
    attachments = tmp_path / "files"
    (attachments / "2024").mkdir(parents=True)
    (attachments / "2024" / "scan.pdf").write_bytes(b"%PDF-1.4 test")
    env = {"CONSULT119_ATTACHMENT_DIR": str(attachments)}
    server = LiveServer(url, env_extra=env).start(tmp_path / "server.log")
    acknowledged: list[tuple[float, str]] = []  # (when the answer came, case number)
    lock = threading.Lock()
    stop = threading.Event()
    failures: list[str] = []  # a writer thread's failure, which pytest would not see

    def traveller(n: int) -> None:
        with httpx.Client() as client:
            i = 0
            while not stop.is_set():
                i += 1
                body = {
                    "source": "kakao",
                    "sender_id": f"backup-{n}-{i}",  # a new case every time
                    "message_id": f"m-{n}-{i}",
                    "text": "숨이 차요 " * 20,
                }
                try:
                    r = client.post(f"{server.url}/api/v1/intake/chat", json=body, timeout=30)
                except httpx.HTTPError as exc:
                    failures.append(f"writer {n}: {type(exc).__name__}")
                    return
                if r.status_code != 201:
                    failures.append(f"writer {n}: {r.status_code} {r.text}")
                    return
                with lock:
                    acknowledged.append((time.monotonic(), r.json()["case_number"]))

    writers = [threading.Thread(target=traveller, args=(n,)) for n in range(3)]
    backup_dir = tmp_path / "backup"
    try:
        for w in writers:
            w.start()
        deadline = time.monotonic() + 60
        while len(acknowledged) < 150:  # some data first, so the copy takes several steps
            assert not failures, failures
            assert time.monotonic() < deadline, f"only {len(acknowledged)} cases in 60 s"
            time.sleep(0.05)
        began = time.monotonic()
        made = cli(url, "backup", str(backup_dir), **env)
        ended = time.monotonic()
        assert made.returncode == 0, made.stderr
        assert "Backup written to" in made.stdout
        (attachments / "2024" / "scan.pdf").write_bytes(b"changed after the backup")
        (attachments / "later.txt").write_text("after the backup")
        # The server still runs: restoring over its database is refused, and changes nothing.
        before = path.stat().st_ino
        refused = cli(url, "restore", str(backup_dir), **env)
        assert refused.returncode == 1
        assert "a server is running" in refused.stderr
        assert path.stat().st_ino == before
    finally:
        stop.set()
        for w in writers:
            w.join()
        server.stop()
    assert not failures, failures

    before_backup = {case for at, case in acknowledged if at < began}
    during_backup = [case for at, case in acknowledged if began <= at <= ended]
    assert len(before_backup) >= 150
    assert during_backup, "no case was acknowledged while the backup ran: not under load"
    everything = {case for _, case in acknowledged}

    restored = cli(url, "restore", str(backup_dir), **env)
    assert restored.returncode == 0, restored.stderr
    assert "Restored" in restored.stdout
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        conn.close()
    conn = sqlite3.connect(path)
    try:
        logged = conn.execute("SELECT action, detail FROM audit_log ORDER BY id").fetchall()
    finally:
        conn.close()
    # The access log says who copied and who restored the data, in the restored database too.
    assert [action for action, _ in logged] == ["backup", "restore"]
    assert str(backup_dir) in logged[0][1] and str(backup_dir) in logged[1][1]
    in_copy = case_numbers(path)
    assert before_backup <= in_copy  # every case acknowledged before the backup began
    assert in_copy <= everything  # and nothing that never was
    assert len(in_copy) < len(everything)  # the cases after the backup are not in it
    assert (attachments / "2024" / "scan.pdf").read_bytes() == b"%PDF-1.4 test"
    assert not (attachments / "later.txt").exists()
    assert list(tmp_path.glob("files.pre-restore-*"))  # the folder it replaced is kept
    kept = list(path.parent.glob("consult119.db.pre-restore-*"))
    assert len(kept) == 1 and case_numbers(kept[0]) == everything  # the old file is kept

    # A server starts on the restored database and finds the cases.
    again = LiveServer(url, env_extra=env).start(tmp_path / "server-2.log")
    try:
        assert httpx.get(f"{again.url}/readyz", timeout=10).status_code == 200
    finally:
        again.stop()


def test_restore_refuses_a_damaged_copy(sqlite_file, tmp_path):
    url, path = sqlite_file
    backup_dir = tmp_path / "backup"
    made = cli(url, "backup", str(backup_dir))
    assert made.returncode == 0, made.stderr
    copy = backup_dir / "consult119.db"
    data = bytearray(copy.read_bytes())
    page = 4096
    for end in range(2 * page, len(data) + 1, page):  # scribble over every page's cells
        data[end - 512 : end] = b"\xff" * 512
    copy.write_bytes(bytes(data))
    before = path.read_bytes()
    refused = cli(url, "restore", str(backup_dir))
    assert refused.returncode == 1
    assert "integrity" in refused.stderr or "malformed" in refused.stderr
    assert path.read_bytes() == before
    assert not list(path.parent.glob(".consult119.db.restore-*"))  # the staged copy is gone


def test_backup_refuses_a_folder_in_use(sqlite_file, tmp_path):
    url, _ = sqlite_file
    target = tmp_path / "used"
    target.mkdir()
    (target / "something").write_text("x")
    refused = cli(url, "backup", str(target))
    assert refused.returncode == 1
    assert "not an empty folder" in refused.stderr


def test_postgresql_prints_the_pg_dump_line(tmp_path):
    url = "postgresql://backup_user:PGSECRET@db.example:5433/consult"
    made = cli(url, "backup", str(tmp_path / "b"))
    assert made.returncode == 2
    assert "pg_dump" in made.stdout
    assert (
        "pg_dump --format=custom --host db.example --port 5433 --username backup_user "
        f"--dbname consult --file {tmp_path / 'b' / 'consult119.dump'}"
    ) in made.stdout
    assert "PGSECRET" not in made.stdout + made.stderr
    back = cli(url, "restore", str(tmp_path / "b"))
    assert back.returncode == 2
    assert "pg_restore" in back.stdout and "PGSECRET" not in back.stdout
    assert not (tmp_path / "b").exists()
