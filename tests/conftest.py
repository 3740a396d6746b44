"""Test fixtures: a fresh database per session built by the real migrations, on SQLite and on
PostgreSQL; tables emptied between tests; a live ``consult119 serve`` on a free port.

PostgreSQL comes from ``CONSULT119_TEST_POSTGRES_URL`` (default: the local server). Outside CI
the PostgreSQL half is skipped, with the reason, when no server answers; under ``CI=true`` it
fails instead, so CI can never pass without it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST
from sqlalchemy import create_engine, text

from consult119.auth import security
from consult119.config import Settings
from consult119.db import Database, build_engine
from consult119.migrate import upgrade
from consult119.models import metadata
from tests import forkserver

# The test process hashes the passwords of the accounts its factories make with argon2's
# cheapest parameters (the practice of Django's test settings): a full-cost hash is some 80 ms
# of CPU, paid again by the server on each sign-in, for a suite that makes thousands. The
# parameters travel in the hash, so servers verify these through the real code, and every
# account a server or a command creates is hashed at full cost as in service.
security._hasher = PasswordHasher.from_parameters(CHEAPEST)

# httpx makes a new SSL context for every top-level call (``httpx.get``) and every client,
# loading certifi's whole CA bundle each time (some 15 ms of CPU), even for an http:// URL. The
# suite makes tens of thousands of calls to its loopback servers, and that loading was 40 % of
# the test processes' CPU. Here the default context is made once and shared (an SSLContext is
# meant to be); a call that asks for other verification still gets its own.
_DEFAULT_TLS = httpx.create_ssl_context()
_create_ssl_context = httpx._transports.default.create_ssl_context


def _shared_default_tls(verify=True, cert=None, trust_env=True):  # type: ignore[no-untyped-def]
    if verify is True and cert is None and trust_env:  # what _DEFAULT_TLS was made for
        return _DEFAULT_TLS
    return _create_ssl_context(verify=verify, cert=cert, trust_env=trust_env)


httpx._transports.default.create_ssl_context = _shared_default_tls

PG_ADMIN_URL = os.environ.get(
    "CONSULT119_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
TEST_SECRET = "test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"


def _pg_admin_engine():
    url = "postgresql+psycopg://" + PG_ADMIN_URL.split("://", 1)[1]
    return create_engine(url, isolation_level="AUTOCOMMIT")


def _pg_available() -> str | None:
    try:
        eng = _pg_admin_engine()
        with eng.connect() as conn:
            conn.execute(text("SELECT 1"))
        eng.dispose()
        return None
    except Exception as exc:  # noqa: BLE001
        return f"PostgreSQL at {PG_ADMIN_URL} is not reachable ({type(exc).__name__})"


#: The databases the suite runs on: both by default; ``CONSULT119_TEST_BACKENDS=sqlite`` for the
#: quick inner loop (``make test-fast``). CI always runs both, whatever the variable says.
BACKENDS = [
    b
    for b in ("sqlite", "postgresql")
    if IN_CI or b in os.environ.get("CONSULT119_TEST_BACKENDS", "sqlite,postgresql").split(",")
] or ["sqlite", "postgresql"]


def require_postgres() -> None:
    """Go on only if this run takes PostgreSQL: skip (with the reason) when the server does not
    answer or ``CONSULT119_TEST_BACKENDS`` leaves it out; under CI, fail instead of skipping."""
    if "postgresql" not in BACKENDS:
        pytest.skip("CONSULT119_TEST_BACKENDS leaves PostgreSQL out of this run")
    reason = _pg_available()
    if reason:
        if IN_CI:
            pytest.fail(f"CI must run the PostgreSQL suite: {reason}")
        pytest.skip(reason)


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql":
        require_postgres()
    return request.param


@pytest.fixture(scope="session")
def database_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh database for this test session, built by the real migrations."""
    if backend == "sqlite":
        path = tmp_path_factory.mktemp("db") / "consult119.db"
        url = f"sqlite:///{path}"
        engine = build_engine(Settings(database_url=url))
        upgrade(engine)
        engine.dispose()
        yield url
        return
    name = f"c119_test_{uuid.uuid4().hex[:10]}"
    admin = _pg_admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    url = f"{base}/{name}"
    engine = build_engine(Settings(database_url=url))
    upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate(db: Database) -> None:
    tables = [t.name for t in reversed(metadata.sorted_tables) if t.name != "event_counter"]
    with db.engine.begin() as conn:
        if db.is_sqlite:
            for name in tables:
                conn.exec_driver_sql(f'DELETE FROM "{name}"')
        else:
            # DELETE, children first, then every sequence back to 1: a test leaves a few rows,
            # and this is some 8 ms where a TRUNCATE of every table is 50–90 ms.
            conn.exec_driver_sql("; ".join(f'DELETE FROM "{name}"' for name in tables))
            conn.exec_driver_sql(
                "SELECT setval(c.oid, 1, false) FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE c.relkind = 'S' AND n.nspname = current_schema()"
            )
        conn.exec_driver_sql("UPDATE event_counter SET last_id = 0")


#: Tests that do not test signing post to every channel unsigned; those that do turn it off
#: (``CONSULT119_ALLOW_UNSIGNED_CHANNELS="false"`` for a live server).
ALLOW_UNSIGNED = {"CONSULT119_ALLOW_UNSIGNED_CHANNELS": "true"}


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key=TEST_SECRET,
        allow_unsigned_channels=True,
        attachment_dir=str(tmp_path / "attachments"),
    )


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    """The test session's database, emptied before each test."""
    database = Database(settings)
    _truncate(database)
    yield database
    database.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    """A real ``consult119 serve`` process on a free loopback port."""

    database_url: str
    env_extra: dict[str, str] = field(default_factory=dict)
    port: int = 0
    smtp_port: int = 0
    proc: forkserver.Process | subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    log_level: str = "warning"
    #: More ``serve`` options (``--log-format json``).
    args: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self, log_path: Path) -> LiveServer:
        self.port = free_port()
        self.smtp_port = free_port()
        self.log_path = log_path
        env = {
            **os.environ,
            "CONSULT119_DATABASE_URL": self.database_url,
            "CONSULT119_SECRET_KEY": TEST_SECRET,
            # Each server its own attachment store (never the working folder, with PostgreSQL).
            "CONSULT119_ATTACHMENT_DIR": str(log_path.parent / "attachments"),
            # A LINE photo is never fetched from the internet in a test: a loopback address is
            # refused before any connection (tests that fetch point this at a stand-in).
            "CONSULT119_LINE_API_BASE": "https://127.0.0.1:9",
            **ALLOW_UNSIGNED,
            **self.env_extra,
        }
        with open(log_path, "ab") as log:
            self.proc = forkserver.popen(
                [
                    sys.executable,
                    "-m",
                    "consult119.cli",
                    "serve",
                    "--port",
                    str(self.port),
                    "--smtp-port",
                    str(self.smtp_port),
                    "--log-level",
                    self.log_level,
                    *self.args,
                ],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {log_path.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server did not start: {log_path.read_text()[-3000:]}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush; what was acknowledged must survive."""
        self.stop(signal.SIGKILL)


@pytest.fixture
def start_server(db: Database, database_url: str, tmp_path: Path):
    """Start live servers (with extra environment) for this test; all are stopped after it."""
    servers: list[LiveServer] = []

    def _start(
        *, args: tuple[str, ...] = (), log_level: str = "warning", **env_extra: str
    ) -> LiveServer:
        server = LiveServer(database_url, env_extra=env_extra, args=args, log_level=log_level)
        servers.append(server)
        return server.start(tmp_path / f"server-{len(servers)}.log")

    yield _start
    for server in servers:
        server.stop()


@pytest.fixture
def live_server(start_server) -> LiveServer:
    return start_server()


@pytest.fixture(scope="module")
def module_server(database_url: str, tmp_path_factory: pytest.TempPathFactory):
    """One live server for every test of a module that asks for it (started once, not once per
    test: a start costs seconds). Each test still gets ``db`` emptied before it, underneath the
    running server.

    Only for tests that reach the server over plain HTTP, and whose server keeps nothing in
    memory that the emptied tables contradict: its rate limits are per sender (give each test
    its own senders), and its event relay remembers the last event id it published, so a test
    that reads the event stream (console, webchat sockets) needs a server of its own, or a
    module server with no emptying between tests (see tests/tickets/live.py). The same holds
    for tests that queue replies: the outbound worker may still hold a claimed outbox row when
    the tables are emptied, and on PostgreSQL the ids start again at 1.
    """
    database = Database(Settings(database_url=database_url, secret_key=TEST_SECRET))
    _truncate(database)
    database.dispose()
    server = LiveServer(database_url)
    server.start(tmp_path_factory.mktemp("module-server") / "server.log")
    yield server
    server.stop()
