"""One ``Settings`` with sections, handed to ``create_app``: what a test passes is what runs.

Before, the console, the assignment policy and the pages each read the environment again on
their own, so a ``Settings`` given to ``create_app`` did not reach them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from fastapi.testclient import TestClient

from consult119.config import (
    AssignmentPolicy,
    ChannelSettings,
    ConsoleSettings,
    PageSettings,
    Settings,
)
from consult119.console.runtime import get_runtime
from consult119.db import build_engine
from consult119.main import create_app
from consult119.migrate import upgrade
from tests.conftest import TEST_SECRET

FRONTEND = Path(__file__).resolve().parents[2] / "frontend"


def test_one_settings_holds_every_section(monkeypatch) -> None:
    monkeypatch.setenv("CONSULT119_CONSOLE_QUEUE_SIZE", "33")
    monkeypatch.setenv("CONSULT119_SCHEDULER_INTERVAL_SECONDS", "7")
    monkeypatch.setenv("CONSULT119_KAKAO_DEDUPE_SECONDS", "11")
    settings = Settings()
    for section in (ConsoleSettings, AssignmentPolicy, PageSettings, ChannelSettings):
        assert isinstance(settings, section)
    assert settings.console_queue_size == 33
    assert settings.scheduler_interval_seconds == 7
    assert settings.kakao_dedupe_seconds == 11
    assert settings.accept_timeout(1).total_seconds() == 60


def test_create_app_runs_on_the_settings_it_is_given(monkeypatch, tmp_path: Path) -> None:
    # The environment says otherwise; the Settings passed in must win everywhere.
    monkeypatch.setenv("CONSULT119_CONSOLE_SNAPSHOT_LIMIT", "99")
    monkeypatch.setenv("CONSULT119_RELAY_POLL_INTERVAL", "9")
    pages = tmp_path / "pages"
    shutil.copytree(FRONTEND, pages)
    marker = "<!-- pages from the test's folder -->"
    index = pages / "console" / "index.html"
    index.write_text(index.read_text(encoding="utf-8") + marker, encoding="utf-8")

    url = f"sqlite:///{tmp_path / 'settings.db'}"
    settings = Settings(
        database_url=url,
        secret_key=TEST_SECRET,
        console_snapshot_limit=3,
        relay_poll_interval=0.5,
        frontend_dir=pages,
    )
    engine = build_engine(settings)
    upgrade(engine)
    engine.dispose()
    app = create_app(settings)
    with TestClient(app) as client:
        runtime = get_runtime(app.state.ctx)
        assert runtime is not None
        assert runtime.settings.console_snapshot_limit == 3
        assert runtime.relay.poll_interval == 0.5
        assert marker in client.get("/console/").text
