"""Tokens: only a fresh HS256 token signed with our key, for an active account, gets in."""

from __future__ import annotations

import base64
import json
import logging
import stat
from datetime import timedelta

import httpx
import pytest
from jose import jwt

from consult119.auth.security import KEY_FILE, decode_token, issue_token, signing_key
from consult119.config import Settings
from consult119.db import utcnow
from tests.conftest import TEST_SECRET
from tests.factories import make_staff


def _b64(obj) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def _me(server, token):
    return httpx.get(
        f"{server.url}/api/v1/staff/me", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )


def test_forged_tokens_of_every_kind_are_refused(module_server, db):
    doctor = make_staff(db, "doctor")
    admin = make_staff(db, "admin")
    good = doctor.token(module_server.url)
    assert _me(module_server, good).status_code == 200
    claims = jwt.get_unverified_claims(good)
    assert set(claims) >= {"sub", "role", "iat", "exp", "jti"}
    assert claims["role"] == "doctor"

    now = utcnow()
    head, body, sig = good.split(".")
    forged = {
        "expired": issue_token(
            TEST_SECRET, staff_id=doctor.id, role="doctor", now=now - timedelta(hours=2), ttl=60
        ),
        "tampered": ".".join([head, _b64({**claims, "sub": str(admin.id), "role": "admin"}), sig]),
        "alg_none": ".".join(
            [_b64({"alg": "none", "typ": "JWT"}), _b64({**claims, "role": "admin"}), ""]
        ),
        "wrong_key": issue_token(
            "another-key-" + "x" * 40, staff_id=doctor.id, role="doctor", now=now, ttl=600
        ),
        "other_alg": jwt.encode({**claims}, TEST_SECRET, algorithm="HS512"),
        "no_exp": jwt.encode(
            {k: v for k, v in claims.items() if k != "exp"}, TEST_SECRET, algorithm="HS256"
        ),
        "garbage": "not.a.token",
        "oversized": "a" * 5000,
    }
    for kind, token in forged.items():
        r = _me(module_server, token)
        assert r.status_code == 401, (kind, r.text)
        assert r.json()["detail"]["code"] == "invalid_token", kind
        assert r.headers["www-authenticate"] == "Bearer"


def test_a_disabled_account_loses_access_at_once(module_server, db):
    doctor = make_staff(db, "doctor")
    admin = make_staff(db, "admin")
    token = doctor.token(module_server.url)
    assert _me(module_server, token).status_code == 200
    r = httpx.post(
        f"{module_server.url}/api/v1/staff/{doctor.id}/disable",
        headers=admin.headers(module_server.url),
        timeout=10,
    )
    assert r.status_code == 200
    r = _me(module_server, token)  # the same, unexpired token
    assert r.status_code == 401 and r.json()["detail"]["code"] == "account_disabled"
    r = httpx.post(
        f"{module_server.url}/api/v1/auth/token",
        data={"username": doctor.email, "password": doctor.password},
        timeout=10,
    )
    assert r.status_code == 401 and r.json()["detail"]["code"] == "bad_credentials"


def test_wrong_password_and_unknown_account_look_the_same(module_server, db):
    doctor = make_staff(db, "doctor")
    for user, pw in ((doctor.email, "wrong-password"), ("nobody@example.org", "whatever-pw")):
        r = httpx.post(
            f"{module_server.url}/api/v1/auth/token",
            data={"username": user, "password": pw},
            timeout=10,
        )
        assert r.status_code == 401 and r.json()["detail"]["code"] == "bad_credentials"


def test_decode_rejects_wrong_key_and_expiry_directly():
    now = utcnow()
    token = issue_token(TEST_SECRET, staff_id=7, role="emt", now=now, ttl=60)
    assert decode_token(TEST_SECRET, token).staff_id == 7
    from consult119.auth.security import InvalidToken

    with pytest.raises(InvalidToken):
        decode_token("k" * 40, token)
    old = issue_token(TEST_SECRET, staff_id=7, role="emt", now=now - timedelta(minutes=5), ttl=60)
    with pytest.raises(InvalidToken):
        decode_token(TEST_SECRET, old)


def test_without_a_configured_key_a_private_random_one_is_made_once(tmp_path, caplog):
    settings = Settings(database_url=f"sqlite:///{tmp_path}/c.db", secret_key=None)
    with caplog.at_level(logging.WARNING):
        first = signing_key(settings)
    path = tmp_path / KEY_FILE
    assert path.exists() and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= 32 and "CONSULT119_SECRET_KEY is not set" in caplog.text
    assert first not in caplog.text  # the key itself never reaches the log
    assert signing_key(settings) == first
    other = Settings(database_url=f"sqlite:///{tmp_path}/other/c.db", secret_key=None)
    (tmp_path / "other").mkdir()
    assert signing_key(other) != first  # random, never a constant default
    with pytest.raises(ValueError):
        signing_key(Settings(database_url=f"sqlite:///{tmp_path}/c.db", secret_key="short"))
