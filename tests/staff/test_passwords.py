"""New passwords: common and trivial ones are refused with a reason, by the API and the CLI."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from consult119.staff.models import Staff
from tests.factories import make_staff
from tests.staff.test_cli import cli

#: (password, a word of the English reason)
REFUSED = [
    ("12345678", "common"),
    ("password", "common"),
    ("PassWord1", "common"),
    ("        ", "spaces"),
    ("\x00" * 8, "control"),
    ("pass\tword-long", "control"),
    ("zzzzzzzzzz", "repeated"),
    ("short", "8 characters"),
]


def test_the_api_refuses_common_and_trivial_passwords_with_a_translated_reason(live_server, db):
    admin = make_staff(db, "admin").headers(live_server.url)
    for n, (password, reason) in enumerate(REFUSED):
        body = {"email": f"p{n}@example.org", "name": "P", "role": "emt", "password": password}
        replies = {
            lang: httpx.post(
                f"{live_server.url}/api/v1/staff",
                json=body,
                headers={**admin, "Accept-Language": lang},
                timeout=10,
            )
            for lang in ("en", "ko")
        }
        for lang, r in replies.items():
            assert r.status_code == 422, (password, lang, r.text)
            detail = r.json()["detail"]
            assert detail["code"] == "weak_password" and detail["field"] == "password"
        en, ko = (replies[lang].json()["detail"]["message"] for lang in ("en", "ko"))
        assert reason in en, (password, en)
        assert ko and ko != en, (password, ko)  # a Korean sentence, not the English one
    with db.read_session() as s:
        assert s.scalar(select(func.count()).select_from(Staff)) == 1  # the admin alone
    good = {"email": "ok@example.org", "name": "Ok", "role": "emt", "password": "lantern-9-ferry"}
    r = httpx.post(f"{live_server.url}/api/v1/staff", json=good, headers=admin, timeout=10)
    assert r.status_code == 201, r.text


@pytest.mark.parametrize("password", ["12345678", "password", " " * 8, "\x00" * 8, "aaaaaaaa"])
def test_staff_add_refuses_them_too(db, database_url, password):
    r = cli(
        database_url,
        "staff",
        "add",
        "weak@example.org",
        "--name",
        "Weak",
        "--role",
        "doctor",
        stdin=password + "\n",
    )
    assert r.returncode == 1 and "weak_password" in r.stderr, r.stdout + r.stderr
    with db.read_session() as s:
        assert s.scalar(select(func.count()).select_from(Staff)) == 0
