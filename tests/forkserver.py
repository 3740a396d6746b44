"""``python -m consult119.cli …`` for the suite, started from an interpreter that has already
imported the libraries.

A test that runs a command or a live server pays the interpreter's start and imports every time:
about 2 s of CPU, most of it importing FastAPI, SQLAlchemy, pydantic, Alembic, Rich and the
application's own models. The suite starts a few hundred of them. This module keeps one fork
server per test process: a Python process that imports all of that once, then forks a child
for each command. The child is a real, separate process: it gets its own standard input,
output and error (the test's pipes, files or terminal, passed over a Unix socket), its own
environment, working folder and arguments, and then runs ``consult119.cli`` as ``__main__``
exactly as ``python -m consult119.cli`` does, through the same code, to a real exit status or
signal. Only the imports are shared.

What the fork server does not import: the command modules (``*.cli``) and
``consult119.terminal``, whose Rich consoles read ``COLUMNS``, ``NO_COLOR`` and whether output
is a terminal when they are made. Each child imports those itself, under its own environment
and standard streams. A test about what importing does (``tests/test_imports.py``) starts a
fresh interpreter as before.

``run`` and ``popen`` take the arguments of ``subprocess.run`` and ``subprocess.Popen`` that the
suite uses; a command that is not ``[sys.executable, "-m", "consult119.cli", …]`` goes to
``subprocess`` unchanged, and so does every command when ``CONSULT119_TEST_FRESH_PROCESSES=1``
(or on a system without ``os.pidfd_open``).
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import importlib
import json
import locale
import os
import runpy
import select
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any, NoReturn

CLI = [sys.executable, "-m", "consult119.cli"]

#: Imported once by the fork server. Everything the application and its commands import, except
#: what reads the environment or the terminal at import (see the module's text).
PRELOAD = (
    "consult119.serving",
    "consult119.backup",
    "consult119.demo",
    "consult119.reports.importer",
    "consult119.reports.exports",
    "consult119.retention.service",
    "consult119.staff.service",
    "typer",
    "rich.console",
    "rich.progress",
    "rich.table",
    "openpyxl",
    # What a server imports only when it starts, an engine when it connects, a sender when it
    # sends (from a `-X importtime` of `consult119 serve`).
    "uvicorn.loops.uvloop",
    "uvicorn.protocols.http.httptools_impl",
    "uvicorn.middleware.proxy_headers",
    "uvicorn.supervisors",
    "websockets.server",
    "fastapi.staticfiles",
    "fastapi_offline",
    "httpx",
    "anyio.streams.memory",
    "anyio.streams.tls",
    "encodings.idna",
    "sqlalchemy.dialects.sqlite.pysqlite",
    "sqlalchemy.dialects.postgresql.psycopg",
    "alembic.runtime.environment",
    "alembic.script",
    "alembic.ddl.sqlite",
    "alembic.ddl.postgresql",
)

#: Imported by each child itself, never by the fork server.
NOT_PRELOADED = ("consult119.terminal", "consult119.cli")


def _fresh_processes() -> bool:
    return os.environ.get("CONSULT119_TEST_FRESH_PROCESSES") == "1" or not hasattr(os, "pidfd_open")


# --- the fork server (this file run as a program) -------------------------------------------


def _preload() -> None:
    for name in PRELOAD:
        importlib.import_module(name)
    loaded = [name for name in NOT_PRELOADED if name in sys.modules]
    if loaded:
        raise SystemExit(f"fork server: {loaded} must not be imported before a child starts")
    if threading.active_count() != 1:
        raise SystemExit("fork server: a preloaded module started a thread; forking is unsafe")


def _become(request: dict[str, Any], fds: list[int]) -> None:
    """In the child: take on the request's standard streams, folder and environment."""
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
    for fd in set(fds):
        if fd > 2:
            os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    time.tzset()
    with contextlib.suppress(locale.Error):  # a locale this machine lacks: as Python's start
        locale.setlocale(locale.LC_CTYPE, "")
    # As ``python -m``: the working folder first on the path, the arguments after the module.
    sys.path[0] = os.getcwd()
    sys.argv = ["-m", *request["args"]]


def _serve(path: str) -> dict[str, Any] | None:
    """Fork a child for each request; report its pid at once and its exit status when it ends.
    Returns only in a child, with its request; returns None when the test process is gone."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(path)
    listener.listen(64)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, "request")
    selector.register(sys.stdin, selectors.EVENT_READ, "parent")
    children: dict[int, tuple[int, socket.socket]] = {}  # pidfd -> (pid, connection)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True:
        for key, _ in selector.select():
            if key.data == "parent":  # the test process closed our standard input: it is done
                return None
            if key.data == "request":
                conn, _ = listener.accept()
                message, fds, _, _ = socket.recv_fds(conn, 1 << 20, 3)
                request = json.loads(message)
                pid = os.fork()
                if pid == 0:
                    selector.close()
                    listener.close()
                    for pidfd, (_, other) in children.items():
                        os.close(pidfd)
                        other.close()
                    conn.close()
                    _become(request, fds)
                    return request
                for fd in fds:
                    os.close(fd)
                pidfd = os.pidfd_open(pid)
                children[pidfd] = (pid, conn)
                selector.register(pidfd, selectors.EVENT_READ, "child")
                socket.send_fds(conn, [json.dumps({"pid": pid}).encode()], [pidfd])
            else:
                pidfd = key.fd
                pid, conn = children.pop(pidfd)
                selector.unregister(pidfd)
                os.close(pidfd)
                _, status = os.waitpid(pid, 0)
                code = os.waitstatus_to_exitcode(status)
                with contextlib.suppress(OSError):  # the test stopped waiting for it
                    conn.send(json.dumps({"returncode": code}).encode())
                conn.close()


# --- the test side ----------------------------------------------------------------------------


class _Server:
    """The fork server of this test process, started on first use."""

    def __init__(self) -> None:
        self.folder = tempfile.mkdtemp(prefix="consult119-forkserver-")
        self.path = str(Path(self.folder) / "socket")
        self.proc = subprocess.Popen(
            [sys.executable, __file__, self.path],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if line != b"ready\n":
            raise RuntimeError(f"fork server did not start (exit {self.proc.wait()})")
        atexit.register(self.close)

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        for name in os.listdir(self.folder):
            os.unlink(Path(self.folder) / name)
        os.rmdir(self.folder)


_server: _Server | None = None
_server_lock = threading.Lock()


def _fork_server() -> _Server:
    global _server
    with _server_lock:
        if _server is None or _server.proc.poll() is not None:
            _server = _Server()
        return _server


class Process:
    """A forked child, as much of ``subprocess.Popen`` as the suite uses."""

    def __init__(self, args: Sequence[str], conn: socket.socket, pid: int, pidfd: int) -> None:
        self.args = list(args)
        self.pid = pid
        self.returncode: int | None = None
        self._conn = conn
        self._pidfd = pidfd

    def _collect(self, timeout: float | None) -> int | None:
        if self.returncode is None:
            ready, _, _ = select.select([self._conn], [], [], timeout)
            if not ready:
                return None
            message = self._conn.recv(4096)
            if not message:
                raise RuntimeError(f"fork server went away while {self.args} ran")
            self.returncode = int(json.loads(message)["returncode"])
            self._conn.close()
            os.close(self._pidfd)
        return self.returncode

    def poll(self) -> int | None:
        return self._collect(0)

    def wait(self, timeout: float | None = None) -> int:
        code = self._collect(timeout)
        if code is None:
            raise subprocess.TimeoutExpired(self.args, timeout or 0)
        return code

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):  # it has just ended
                signal.pidfd_send_signal(self._pidfd, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


_Stream = int | IO[Any] | None


def _fd(stream: _Stream, default: int) -> int:
    if stream is None:
        return default
    if isinstance(stream, int):
        if stream < 0:
            raise ValueError("give a file or a descriptor (PIPE only to run(), DEVNULL not at all)")
        return stream
    return stream.fileno()


def _spawn(
    args: Sequence[str],
    env: dict[str, str] | None,
    cwd: str | os.PathLike[str] | None,
    fds: list[int],
) -> Process:
    server = _fork_server()
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    conn.connect(server.path)
    request = {
        "args": list(args[len(CLI) :]),
        "env": dict(os.environ if env is None else env),
        "cwd": os.fspath(cwd) if cwd is not None else os.getcwd(),
    }
    socket.send_fds(conn, [json.dumps(request).encode()], fds)
    message, received, _, _ = socket.recv_fds(conn, 4096, 1)
    if not message:
        raise RuntimeError(f"fork server did not start {list(args)}")
    return Process(args, conn, int(json.loads(message)["pid"]), received[0])


def _is_cli(args: Sequence[str]) -> bool:
    return list(args[: len(CLI)]) == CLI and not _fresh_processes()


def popen(
    args: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    stdin: _Stream = None,
    stdout: _Stream = None,
    stderr: _Stream = None,
) -> Process | subprocess.Popen[bytes]:
    """``subprocess.Popen(args, …)``; streams are files, descriptors, ``subprocess.STDOUT`` for
    standard error, or None for the test process's own."""
    if not _is_cli(args):
        return subprocess.Popen(args, env=env, cwd=cwd, stdin=stdin, stdout=stdout, stderr=stderr)
    out = _fd(stdout, 1)
    err = out if stderr == subprocess.STDOUT else _fd(stderr, 2)
    return _spawn(args, env, cwd, [_fd(stdin, 0), out, err])


def run(
    args: Sequence[str],
    *,
    input: str | bytes | None = None,
    capture_output: bool = False,
    text: bool = False,
    env: dict[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    timeout: float | None = None,
    check: bool = False,
    stdout: _Stream = None,
    stderr: _Stream = None,
) -> subprocess.CompletedProcess[Any]:
    """``subprocess.run(args, …)``, the same result; captured output goes through temporary
    files, so a command that writes a lot never blocks on a full pipe."""
    if not _is_cli(args):
        return subprocess.run(
            args,
            input=input,
            capture_output=capture_output,
            text=text,
            env=env,
            cwd=cwd,
            timeout=timeout,
            check=check,
            **({} if capture_output else {"stdout": stdout, "stderr": stderr}),
        )
    with (
        tempfile.TemporaryFile() as given,
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
    ):
        if input is not None:
            given.write(input.encode() if isinstance(input, str) else input)
            given.seek(0)
        piped_out = capture_output or stdout == subprocess.PIPE
        piped_err = capture_output or stderr == subprocess.PIPE
        fds = [
            given.fileno() if input is not None else 0,
            out.fileno() if piped_out else _fd(stdout, 1),
            err.fileno() if piped_err else _fd(stderr, 2),
        ]
        proc = _spawn(args, env, cwd, fds)
        try:
            code = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise

        def read(captured: bool, file: IO[bytes]) -> str | bytes | None:
            if not captured:
                return None
            file.seek(0)
            data = file.read()
            return data.decode() if text else data

        result = subprocess.CompletedProcess(
            list(args), code, read(piped_out, out), read(piped_err, err)
        )
    if check:
        result.check_returncode()
    return result


def _run_child() -> NoReturn:
    """Run the command as ``python -m consult119.cli`` does, and end as the interpreter would:
    wait for its threads, run its exit handlers, flush its output, exit with its status. The
    interpreter's own teardown is skipped: it would free every object the fork server imported,
    copying all of that memory into the child only to throw it away."""
    code = 0
    try:
        runpy.run_module("consult119.cli", run_name="__main__", alter_sys=True)
    except SystemExit as done:
        if done.code is None:
            code = 0
        elif isinstance(done.code, int):
            code = done.code
        else:
            print(done.code, file=sys.stderr)
            code = 1
    except BaseException:
        sys.excepthook(*sys.exc_info())
        code = 1
    threading._shutdown()  # type: ignore[attr-defined]  # what interpreter exit does first
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    sys.path[0] = os.getcwd()  # not this folder: as ``python -m`` from the test's folder
    _preload()
    gc.freeze()  # what was imported stays out of the children's collections: no copies made
    if _serve(sys.argv[1]) is not None:
        _run_child()
