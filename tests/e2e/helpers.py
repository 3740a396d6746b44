"""Small steps the browser tests share."""

from __future__ import annotations

import os
from pathlib import Path

import httpx

from tests.factories import PASSWORD, StaffLogin


def sign_in(page, server, staff: StaffLogin, page_path: str = "/console/") -> None:
    """Open a staff page and sign in through its form."""
    page.goto(f"{server.url}{page_path}")
    page.fill("#signin [name=username]", staff.email)
    page.fill("#signin [name=password]", PASSWORD)
    page.click("#signin button[type=submit]")


def post_chat(server, *, sender_id: str, message_id: str, text: str, **extra) -> dict:
    """A traveller writes in through the messenger gateway (from outside the browser)."""
    body = {"source": "kakao", "sender_id": sender_id, "message_id": message_id, "text": text}
    body.update(extra)
    response = httpx.post(f"{server.url}/api/v1/intake/chat", json=body, timeout=10)
    response.raise_for_status()
    return response.json()


def keep_screenshot(page, name: str, *, full_page: bool = False) -> None:
    """Keep a screenshot of a state for a person to look at, in ``$CONSULT119_SHOTS`` when it
    is set (a review of the pages); nothing otherwise."""
    folder = os.environ.get("CONSULT119_SHOTS")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=full_page)
