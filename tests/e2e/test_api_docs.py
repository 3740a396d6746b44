"""/docs and /redoc in Chromium: they render from this origin alone, under a policy that lets no
script or image from elsewhere in (a staff token lives on this origin)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import SQLITE_ONLY

pytestmark = SQLITE_ONLY


@pytest.mark.parametrize(
    ("path", "rendered"),
    [("/docs", ".opblock-tag"), ("/redoc", "[data-section-id]")],
)
def test_api_docs_render_with_nothing_from_another_origin(live_server, new_page, path, rendered):
    page = new_page()
    here = urlsplit(live_server.url).netloc
    elsewhere: set[str] = set()
    blocked: set[str] = set()

    def on_request(request) -> None:
        url = urlsplit(request.url)
        if url.scheme in ("http", "https") and url.netloc != here:
            elsewhere.add(request.url)

    page.on("request", on_request)
    page.on("requestfailed", lambda r: r.failure == "csp" and blocked.add(r.url))
    page.goto(live_server.url + path)
    page.wait_for_selector(rendered, timeout=20_000)
    assert "/api/v1/tickets" in page.content()
    # ReDoc's footer names a logo on its vendor's CDN: the policy refuses it before it leaves.
    assert elsewhere == blocked
    assert all(urlsplit(u).path.endswith(".svg") for u in blocked)
    assert not [m for m in page.console_messages if "script-src" in m]
