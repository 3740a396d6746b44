"""Shared bench helpers: a live ``consult119 serve`` on a scratch database, loopback only."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

PG_ADMIN_URL = os.environ.get(
    "CONSULT119_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
SECRET = "bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pg_admin():
    return create_engine(
        "postgresql+psycopg://" + PG_ADMIN_URL.split("://", 1)[1], isolation_level="AUTOCOMMIT"
    )


@contextlib.contextmanager
def scratch_database(backend: str) -> Iterator[str]:
    """A new, empty database URL for ``backend`` (sqlite or postgresql), removed afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{Path(tmp) / 'bench.db'}"
        return
    name = f"c119_bench_{uuid.uuid4().hex[:8]}"
    admin = pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def spawn_server(
    database_url: str,
    *args: str,
    smtp_port: int = 0,
    stderr: Any = subprocess.DEVNULL,
    **env_extra: str,
) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``consult119 serve`` (plus ``args``) on a free loopback port and wait until
    ``/healthz`` answers; returns the process and its base URL. The caller stops it
    (:func:`stop_server`)."""
    port = free_port()
    env = {
        **os.environ,
        "CONSULT119_DATABASE_URL": database_url,
        "CONSULT119_SECRET_KEY": SECRET,
        # Benches measure intake, not signing: the gateway and Kakao take unsigned posts.
        "CONSULT119_ALLOW_UNSIGNED_CHANNELS": "true",
        **env_extra,
    }
    cmd = [
        sys.executable,
        "-m",
        "consult119.cli",
        "serve",
        "--port",
        str(port),
        "--smtp-port",
        str(smtp_port),
        "--log-level",
        "warning",
        *args,
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        if proc.poll() is not None:
            raise RuntimeError("server exited during start-up")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return proc, url
        if time.monotonic() > deadline:
            stop_server(proc)
            raise RuntimeError("server did not start")
        time.sleep(0.1)


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def live_server(database_url: str, *args: str, **env_extra: Any) -> Iterator[str]:
    """:func:`spawn_server` for the length of a ``with`` block; yields its base URL."""
    proc, url = spawn_server(database_url, *args, **env_extra)
    try:
        yield url
    finally:
        stop_server(proc)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]
