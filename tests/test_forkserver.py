"""The suite's fork server runs a command as a fresh ``python -m consult119.cli`` would: the same
output at the width the environment gives, the same refusals and exit statuses, its own working
folder and standard input, and a signal's end reported as ``subprocess`` reports it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
import pytest

from tests import forkserver
from tests.conftest import TEST_SECRET, free_port

pytestmark = pytest.mark.skipif(
    forkserver._fresh_processes(), reason="every command runs in a fresh interpreter here"
)

COMMANDS = [
    ["--help"],
    ["--lang", "en", "report", "--help"],
    ["--lang", "xx", "db", "upgrade"],
    ["--lang", "ko", "roster", "add", "nobody@example.org", "--start", "yesterday"],
    ["--lang", "en", "staff", "list"],
    ["--lang", "en", "staff", "add", "kim@example.org", "--name", "Kim", "--role", "emt"],
]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a))
def test_a_forked_command_says_and_ends_as_a_fresh_one(args, tmp_path):
    env = {
        **os.environ,
        "CONSULT119_DATABASE_URL": f"sqlite:///{tmp_path / 'nothing-here' / 'x.db'}",
        "COLUMNS": "71",
        "TZ": "Asia/Seoul",
    }
    command = [sys.executable, "-m", "consult119.cli", *args]
    given = "a-long-pass-1\n"
    fresh = subprocess.run(
        command, input=given, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60
    )
    forked = forkserver.run(
        command, input=given, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60
    )
    assert isinstance(forked, subprocess.CompletedProcess)
    assert (forked.returncode, forked.stdout, forked.stderr) == (
        fresh.returncode,
        fresh.stdout,
        fresh.stderr,
    )
    assert fresh.stdout or fresh.stderr


def test_a_forked_server_serves_and_reports_its_end(tmp_path):
    database = tmp_path / "forked.db"
    env = {**os.environ, "CONSULT119_DATABASE_URL": f"sqlite:///{database}"}
    upgraded = forkserver.run(
        [*forkserver.CLI, "db", "upgrade"], env=env, cwd=tmp_path, capture_output=True
    )
    assert upgraded.returncode == 0, upgraded.stderr
    env["CONSULT119_SECRET_KEY"] = TEST_SECRET
    ends = {}
    for how, sig in (
        ("fresh", signal.SIGTERM),
        ("forked", signal.SIGTERM),
        ("forked", signal.SIGKILL),
    ):
        port = free_port()
        log_path = tmp_path / f"server-{how}-{sig.name}.log"
        command = [*forkserver.CLI, "serve", "--port", str(port), "--smtp-port", "0"]
        start = subprocess.Popen if how == "fresh" else forkserver.popen
        with open(log_path, "wb") as log:
            proc = start(command, env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
        assert isinstance(proc, forkserver.Process) == (how == "forked")
        for _ in range(300):
            assert proc.poll() is None, log_path.read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            pytest.fail(f"the {how} server never answered /healthz: {log_path.read_text()}")
        with pytest.raises(subprocess.TimeoutExpired):
            proc.wait(0.2)
        proc.send_signal(sig)
        ends[how, sig] = proc.wait(30)
        assert proc.poll() == ends[how, sig]
    # A SIGTERM ends either the same way (uvicorn shuts down, then ends by the signal it caught);
    # a SIGKILL ends it where it stands: -9, as subprocess reports it.
    assert ends["forked", signal.SIGTERM] == ends["fresh", signal.SIGTERM]
    assert ends["forked", signal.SIGKILL] == -signal.SIGKILL
