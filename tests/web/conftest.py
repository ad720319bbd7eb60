"""Fixtures of the dashboard tests: one database filled by a real embedded run of example
chains (shared by the session), a dashboard serving it, and headless Chromium."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from web_helpers import CHROMIUM_ARGS, OUTPUT, Dashboard, ensure_chromium, fill  # noqa: E402

from plato_eas.settings import Settings  # noqa: E402


@pytest.fixture(scope="session")
def filled(tmp_path_factory) -> Settings:
    """SQLite + SQL queue after `eas run` of the demo chain and a chain with a failure."""
    home = tmp_path_factory.mktemp("dashboard")
    settings = Settings(db_path=str(home / "eas.sqlite"), data_dir=str(home / "data"))
    fill(settings, ["demo", "failing"])
    return settings


@pytest.fixture(scope="session")
def dashboard(filled, tmp_path_factory):
    server = Dashboard(filled, tmp_path_factory.mktemp("web") / "web.log").wait()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    executable = ensure_chromium()
    OUTPUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
