"""A running sandbox and a real browser (Debian's Chromium, driven by Playwright) for the end-to-end tests."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.sandbox.runner import RunningSandbox, start_sandbox
from bot.settings import Settings
from tests.support import IN_CI

CHROMIUM = os.environ.get("LIFTOFF_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def require_chromium() -> None:
    """Skip on a laptop without Chromium; fail under CI=true, where the end-to-end tests must run."""
    missing = []
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        missing.append(f"Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        import playwright  # noqa: F401
    except ImportError:
        missing.append("the playwright package (pip install -e '.[dev]')")
    if not missing:
        return
    message = "end-to-end tests need " + " and ".join(missing)
    if IN_CI:
        pytest.fail(message + " (CI=true: these tests must run)")
    pytest.skip(message)


@asynccontextmanager
async def running_sandbox(data_dir: Path, validator: Any = None) -> AsyncIterator[RunningSandbox]:
    settings = Settings(sandbox_dir=str(data_dir), log_level="WARNING")
    sandbox = await start_sandbox(settings, port=0)
    # The tests also hold every payload the app sends to the Block Kit schema and Slack's limits.
    sandbox.standin.validator = validator
    try:
        yield sandbox
    finally:
        await sandbox.stop()


@asynccontextmanager
async def chromium_browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()
