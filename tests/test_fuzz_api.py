"""Property-based fuzzing of every operation in the OpenAPI schema against a live server:
whatever schemathesis makes of the schema (valid and invalid bodies, queries, paths and
headers), no answer is a 5xx.

SQLite only: what is fuzzed here is the edge (parsing, validation, the error handlers, the
shared limits of docs/security.md "Input limits"), which is the same code on both backends;
the one backend-specific failure such input caused (ids past PostgreSQL's 32-bit columns) is
covered on both by tests/test_input_limits.py. One backend keeps this test inside its time
budget on two cores.

Bounded and deterministic: ``derandomize`` makes the examples the same on every run, and
``MAX_EXAMPLES`` per operation and mode keeps the whole test under a minute (about 35 s
on two quiet cores, server start included). Marked ``fuzz`` so a
quick run can leave it out (``-m "not fuzz"``).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from consult119.config import Settings
from consult119.db import Database
from tests.conftest import TEST_SECRET, LiveServer
from tests.factories import make_staff, make_ticket

pytestmark = pytest.mark.fuzz

MAX_EXAMPLES = 12


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory):
    """A live server on its own SQLite database, with a few cases and one account per role.

    Throwaway accounts come first, so the small ids a fuzzer likes to try (``/staff/1/disable``)
    hit them rather than the accounts the test signs in with.
    """
    folder = tmp_path_factory.mktemp("fuzz")
    url = f"sqlite:///{folder / 'fuzz.db'}"
    live = LiveServer(url, env_extra={"CONSULT119_ALLOW_UNSIGNED_CHANNELS": "true"})
    live.start(folder / "server.log")  # serve creates the schema
    db = Database(Settings(database_url=url, secret_key=TEST_SECRET))
    for _ in range(10):
        make_staff(db, "emt")
    accounts = {role: make_staff(db, role, on_duty=True) for role in ("admin", "emt", "doctor")}
    for _ in range(3):
        make_ticket(db)
    db.dispose()
    live.tokens = {role: login.token(live.url) for role, login in accounts.items()}  # type: ignore[attr-defined]
    yield live
    live.stop()


#: Path parts that only an admin may use; ``claim`` is a doctor's; the rest an EMT's.
ADMIN_PATHS = ("/api/v1/staff", "/api/v1/roster", "/api/v1/audit", "/api/v1/reports")


def role_for(method: str, path: str) -> str:
    """The role that gets furthest into an operation (past its permission check)."""
    if path.endswith("/claim"):
        return "doctor"
    if path.startswith(ADMIN_PATHS) and path != "/api/v1/staff/me":
        return "admin"
    return "emt"


#: 503s the contract gives on purpose: a channel whose secret is unset is off, and a
#: database out of reach asks the caller to send again.
DELIBERATE_503 = ("channel_not_configured", "database_unavailable")


def server_error(response: Any) -> bool:
    """A 5xx other than a deliberate 503."""
    if response.status_code < 500:
        return False
    if response.status_code == 503:
        try:
            return response.json()["detail"]["code"] not in DELIBERATE_503
        except (ValueError, KeyError, TypeError):
            return True
    return True


def operations(server: LiveServer) -> list[schemathesis.APIOperation]:
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    return [result.ok() for result in schema.get_all_operations()]


def test_no_operation_answers_a_server_error(fuzz_server):
    """Every operation, with valid and with invalid input (schemathesis's two generation
    modes); the failures of all operations are reported together."""
    failures: dict[str, str] = {}
    ops = operations(fuzz_server)
    assert len(ops) > 30, [op.label for op in ops]
    for operation in ops:
        token = fuzz_server.tokens[role_for(operation.method.upper(), operation.path)]
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(
                max_examples=MAX_EXAMPLES,
                derandomize=True,
                deadline=None,
                database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def call(case: schemathesis.Case) -> None:
                headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
                response = case.call(base_url=fuzz_server.url, headers=headers, timeout=15)
                assert not server_error(response), (
                    f"{response.status_code} {response.text[:500]}\n{case.as_curl_command()}"
                )

            try:
                call()
            except Unsatisfiable:
                pass  # nothing in this operation can be made invalid (no parameters, no body)
            except (Exception, BaseExceptionGroup) as exc:  # a 5xx, or a case that failed to build
                failures[f"{operation.label} ({mode.value})"] = str(exc)[:2000]
    assert not failures, "\n\n".join(f"{k}:\n{v}" for k, v in failures.items())


def test_the_server_is_still_healthy(fuzz_server):
    assert httpx.get(f"{fuzz_server.url}/healthz", timeout=5).status_code == 200
