"""The pages as the server serves them: paths, security headers, and no way for text to run."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from consult119.config import Settings
from consult119.db import build_engine
from consult119.main import create_app
from consult119.migrate import upgrade
from consult119.pages import CONTENT_SECURITY_POLICY, PageSettings, frontend_dir, install_pages
from tests.conftest import TEST_SECRET

FRONTEND = Path(__file__).resolve().parents[2] / "frontend"
PAGES = ["console", "reports", "chat"]


@pytest.fixture(scope="module")
def client(tmp_path_factory) -> TestClient:
    url = f"sqlite:///{tmp_path_factory.mktemp('pages') / 'pages.db'}"
    settings = Settings(database_url=url, secret_key=TEST_SECRET)
    engine = build_engine(settings)
    upgrade(engine)
    engine.dispose()
    app = create_app(settings)
    with TestClient(app) as c:
        yield c


@pytest.mark.parametrize("page", PAGES)
def test_each_page_is_served_with_its_security_headers(client, page):
    response = client.get(f"/{page}/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    csp = response.headers["content-security-policy"]
    assert csp == CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-cache"
    assert '<script type="module" src="app.js">' in response.text


def test_modules_are_served_as_javascript_and_revalidated(client):
    response = client.get("/console/app.js")
    assert response.status_code == 200
    assert "javascript" in response.headers["content-type"]
    etag = response.headers["etag"]
    again = client.get("/console/app.js", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert client.get("/shared/i18n.js").status_code == 200


@pytest.mark.parametrize("page", PAGES)
def test_a_page_without_its_slash_redirects(client, page):
    response = client.get(f"/{page}", follow_redirects=False)
    assert response.status_code == 308
    assert response.headers["location"] == f"/{page}/"


def test_the_root_links_the_three_pages(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    for page in PAGES:
        assert f'href="/{page}/"' in response.text


@pytest.mark.parametrize(
    "path",
    ["/console/../../pyproject.toml", "/shared/%2e%2e/%2e%2e/pyproject.toml", "/chat/nope.js"],
)
def test_nothing_outside_the_frontend_is_served(client, path):
    assert client.get(path).status_code == 404


def test_api_answers_get_the_common_headers_and_docs_load_nothing_from_elsewhere(client):
    response = client.get("/healthz")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    for path in ("/docs", "/redoc"):
        docs = client.get(path)
        assert docs.status_code == 200
        csp = docs.headers["content-security-policy"]
        assert "script-src 'self';" in csp and "frame-ancestors 'none'" in csp
        sources = re.findall(r'(?:src|href)="([^"]+)"', docs.text)
        assert sources and all(s.startswith("/") for s in sources), sources
        assert "<script>" not in docs.text  # no inline script: the policy would refuse it
        for source in sources:
            asset = client.get(source)
            assert asset.status_code == 200, source
            assert asset.headers["x-content-type-options"] == "nosniff"


def test_the_frontend_folder_can_be_overridden(tmp_path):
    (tmp_path / "console").mkdir()
    (tmp_path / "console" / "index.html").write_text("<!doctype html><title>other</title>")
    assert frontend_dir(tmp_path) == tmp_path
    assert frontend_dir(tmp_path / "missing") == FRONTEND  # falls back to the repository's
    assert frontend_dir() == FRONTEND
    assert PageSettings(frontend_dir=str(tmp_path)).frontend_dir == tmp_path


def test_no_pages_no_crash(tmp_path, monkeypatch):
    """A folder without pages: the API still runs; the pages answer 404."""
    from fastapi import FastAPI

    monkeypatch.setattr("consult119.pages.frontend_dir", lambda override=None: None)
    app = FastAPI()
    assert install_pages(app, PageSettings(frontend_dir=tmp_path)) is None
    with TestClient(app) as c:
        assert c.get("/console/").status_code == 404


class _Inline(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = {k for k, _ in attrs}
        if tag == "script" and "src" not in names:
            self.problems.append("inline <script>")
        if tag == "style":
            self.problems.append("inline <style>")
        for name in names:
            if name.startswith("on") or name == "style":
                self.problems.append(f"<{tag} {name}=…>")


@pytest.mark.parametrize("page", [*PAGES, "."])
def test_pages_have_no_inline_script_or_style(page):
    parser = _Inline()
    parser.feed((FRONTEND / page / "index.html").read_text(encoding="utf-8"))
    assert parser.problems == []


def test_no_module_parses_text_as_html():
    """Traveller text must only ever reach the page as text."""
    forbidden = re.compile(
        r"\.innerHTML|\.outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function"
    )
    offenders = [
        f"{path.relative_to(FRONTEND)}:{n}"
        for path in FRONTEND.rglob("*.js")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if forbidden.search(line)
    ]
    assert offenders == []


def test_tokens_never_go_to_local_storage():
    offenders = [
        str(path.relative_to(FRONTEND))
        for path in FRONTEND.rglob("*.js")
        if re.search(r"localStorage\.setItem\([^)]*token", path.read_text(encoding="utf-8"), re.I)
    ]
    assert offenders == []


def test_every_red_flag_has_a_label_in_both_languages():
    from pathlib import Path

    from consult119.triage.redflags import RED_FLAGS

    messages = (Path(__file__).resolve().parents[2] / "frontend/console/messages.js").read_text()
    for flag in RED_FLAGS:
        assert messages.count(f'"flag.{flag.code}":') == 2, flag.code
