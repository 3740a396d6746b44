"""Tokens stay dead after a security change, and odd but validly signed claims are refused.

Every token here is signed with the server's real key (``TEST_SECRET``), so only the claim
checks in ``decode_token`` stand between it and the API.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from jose import jwt

from tests.conftest import TEST_SECRET, LiveServer
from tests.factories import make_staff


@pytest.fixture(scope="module")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = LiveServer(database_url).start(tmp_path_factory.mktemp("tokens") / "server.log")
    yield live
    live.stop()


def _me(server: LiveServer, token: str) -> httpx.Response:
    return httpx.get(
        f"{server.url}/api/v1/staff/me", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )


def _set_role(server: LiveServer, admin_headers: dict[str, str], staff_id: int, role: str):
    r = httpx.post(
        f"{server.url}/api/v1/staff/{staff_id}/role",
        json={"role": role},
        headers=admin_headers,
        timeout=10,
    )
    assert r.status_code == 200, r.text


def test_a_token_does_not_come_back_when_the_role_is_changed_back(server, db):
    manager = make_staff(db, "manager")
    admin = make_staff(db, "admin").headers(server.url)
    old = manager.token(server.url)
    assert _me(server, old).status_code == 200
    _set_role(server, admin, manager.id, "doctor")
    assert _me(server, old).status_code == 401
    _set_role(server, admin, manager.id, "manager")
    r = _me(server, old)  # same role as when it was issued, but issued before two changes
    assert r.status_code == 401 and r.json()["detail"]["code"] == "invalid_token"
    fresh = manager.token(server.url)
    assert _me(server, fresh).status_code == 200


def test_a_token_issued_in_the_same_second_as_a_change_is_judged_by_order_not_clock(server, db):
    """``iat`` has whole seconds: the token from just before a change and the one from just
    after it can carry the same ``iat`` (here: exactly the same claims but the version). The
    first is dead, the second works."""
    doctor = make_staff(db, "doctor")
    admin = make_staff(db, "admin").headers(server.url)
    now = int(time.time())
    claims = {"sub": str(doctor.id), "role": "doctor", "iat": now, "exp": now + 600, "jti": "x"}
    before = _forge(**claims, ver=0)
    assert _me(server, before).status_code == 200
    _set_role(server, admin, doctor.id, "emt")
    _set_role(server, admin, doctor.id, "doctor")
    after = _forge(**claims, ver=2)  # what a sign-in in the same second hands out
    assert _me(server, before).status_code == 401
    assert _me(server, after).status_code == 200
    # And through a real sign-in right after the change.
    real = doctor.token(server.url)
    assert jwt.get_unverified_claims(real)["ver"] == 2
    assert _me(server, real).status_code == 200


def test_disabling_ends_tokens_through_the_version_too(server, db):
    from consult119.staff.models import Staff

    doctor = make_staff(db, "doctor")
    token = doctor.token(server.url)
    admin = make_staff(db, "admin").headers(server.url)
    r = httpx.post(f"{server.url}/api/v1/staff/{doctor.id}/disable", headers=admin, timeout=10)
    assert r.status_code == 200
    with db.read_session() as s:
        row = s.get(Staff, doctor.id)
        assert row.security_version == 1 and row.security_changed_at is not None
    # Were the account enabled again (in the database, as no route does it yet), the token
    # issued before the disable stays dead.
    with db.unit_of_work() as s:
        s.get(Staff, doctor.id).disabled = False
    r = _me(server, token)
    assert r.status_code == 401 and r.json()["detail"]["code"] == "invalid_token"


def _forge(**claims) -> str:
    return jwt.encode(claims, TEST_SECRET, algorithm="HS256")


def test_odd_claims_signed_with_the_real_key_are_invalid_tokens_never_a_500(server, db):
    doctor = make_staff(db, "doctor")
    good = jwt.get_unverified_claims(doctor.token(server.url))
    now = int(time.time())
    sub = str(doctor.id)
    base = {"sub": sub, "role": "doctor", "ver": 0, "iat": now, "exp": now + 600, "jti": "j1"}
    assert good.keys() <= base.keys()
    assert _me(server, _forge(**base)).status_code == 200  # the forgery works when sane
    # A few seconds ahead is another process's clock, not a forgery.
    assert _me(server, _forge(**{**base, "iat": now + 10})).status_code == 200
    odd = {
        "iat_in_the_future": {"iat": now + 3600, "exp": now + 7200},
        "iat_float": {"iat": now + 0.5},
        "iat_text": {"iat": str(now)},
        "iat_bool": {"iat": True},
        "iat_missing": {"iat": None},
        "exp_float": {"exp": now + 600.5},
        "exp_text": {"exp": str(now + 600)},
        "exp_not_a_number": {"exp": "soon"},
        "exp_huge": {"exp": 10**30},
        "exp_huge_but_fits_a_long": {"exp": 2**62},
        "exp_past_the_longest_lifetime": {"exp": now + 32 * 24 * 3600},
        "exp_before_iat": {"iat": now, "exp": now - 1},
        "exp_negative": {"exp": -(10**20)},
        "sub_huge": {"sub": "9" * 40},
        "sub_past_63_bits": {"sub": str(2**63)},
        "sub_zero": {"sub": "0"},
        "sub_negative": {"sub": "-1"},
        "sub_leading_zero": {"sub": "0" + sub},
        "sub_number": {"sub": doctor.id},
        "sub_not_digits": {"sub": "1e3"},
        "role_number": {"role": 1},
        "ver_text": {"ver": "0"},
        "ver_huge": {"ver": 10**30},
        "ver_negative": {"ver": -1},
        "ver_other": {"ver": 7},
        "jti_number": {"jti": 5},
    }
    let_through = {}
    for kind, change in odd.items():
        claims = {**base, **change}
        claims = {k: v for k, v in claims.items() if v is not None}
        r = _me(server, _forge(**claims))
        is_json = r.headers.get("content-type", "").startswith("application/json")
        code = r.json().get("detail", {}).get("code") if is_json else r.text[:40]
        if (r.status_code, code) != (401, "invalid_token"):
            let_through[kind] = (r.status_code, code)
    assert let_through == {}


def test_a_token_from_before_security_versions_still_works(server, db):
    """Tokens issued before the upgrade carry no ``ver``; the account's version is still 0."""
    doctor = make_staff(db, "doctor")
    now = int(time.time())
    legacy = _forge(sub=str(doctor.id), role="doctor", iat=now, exp=now + 600, jti="legacy")
    assert _me(server, legacy).status_code == 200
