"""Helpers for the case API over a real socket."""

from __future__ import annotations

import itertools

import httpx

_ids = itertools.count(1)


def open_case(server, text="여행 중 배가 아파요", sender=None) -> int:
    n = next(_ids)
    r = httpx.post(
        f"{server.url}/api/v1/intake/chat",
        json={
            "source": "kakao",
            "sender_id": sender or f"t-{n}",
            "message_id": f"m-{n}",
            "text": text,
        },
        timeout=10,
    )
    assert r.status_code in (200, 201), r.text
    return r.json()["ticket_id"]


class Client:
    """A signed-in staff member's HTTP client (one token, reused)."""

    def __init__(self, server, login):
        self.login = login
        self.id = login.id
        self.http = httpx.Client(base_url=server.url, headers=login.headers(server.url), timeout=20)

    def get(self, path, **kw):
        return self.http.get(path, **kw)

    def post(self, path, json=None, **kw):
        return self.http.post(path, json=json, **kw)
