"""Browser tests: Playwright for Python driving Debian's Chromium (``/usr/bin/chromium``).

Never a downloaded browser. Outside CI the tests skip, saying why, when that Chromium is missing;
under ``CI=true`` they fail instead. A failing test leaves a screenshot in ``test-artifacts/``.

The pages do not depend on the database engine (the API tests cover both), so each browser test
module runs on SQLite only: ``pytestmark = SQLITE_ONLY``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CONSULT119_CHROMIUM", "/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)


#: Put in ``pytestmark`` of every browser test module.
SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


# Module scope, not session: while Playwright's sync API runs, its event loop counts as running
# in the main thread, and the suite's other tests call asyncio.run().
@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        message = f"Chromium not found at {CHROMIUM} (install Debian's chromium package)"
        if IN_CI:
            pytest.fail(f"CI must run the browser tests: {message}")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-dev-shm-usage",
                "--autoplay-policy=no-user-gesture-required",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, request: pytest.FixtureRequest):
    """Open pages in fresh browser contexts; screenshots of each are saved if the test fails."""
    contexts = []

    def _new_page(**context_options):
        context = browser.new_context(**context_options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.console_messages = []
        page.on("console", lambda m: page.console_messages.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: page.console_messages.append(f"pageerror: {e}"))
        return page

    yield _new_page
    report = getattr(request.node, "rep_call", None)
    failed = report is not None and (report.failed or getattr(report, "wasxfail", None) is not None)
    if failed:
        ARTIFACTS.mkdir(exist_ok=True)
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)[-150:]
        for n, context in enumerate(contexts):
            for m, page in enumerate(context.pages):
                try:
                    page.screenshot(path=str(ARTIFACTS / f"{slug}-{n}-{m}.png"), full_page=True)
                    (ARTIFACTS / f"{slug}-{n}-{m}.console.txt").write_text(
                        "\n".join(getattr(page, "console_messages", []))
                    )
                except Exception:  # noqa: BLE001 - a screenshot must not hide the real failure
                    pass
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()
