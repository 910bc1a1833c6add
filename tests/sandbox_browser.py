"""A running sandbox and a real browser (Debian's Chromium, driven by Playwright) for the end-to-end tests,
and the helpers the tests use on a page. The shared fixtures are in tests/sandbox_fixtures.py."""

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
# LIFTOFF_SCREENSHOTS=1 re-takes the README's screenshots (docs/*.png); a plain test run leaves docs/ alone.
SCREENSHOTS = Path(__file__).resolve().parents[1] / "docs" if os.environ.get("LIFTOFF_SCREENSHOTS") == "1" else None
TIMEOUT_MS = 20_000
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



@asynccontextmanager
async def person_page(browser: Any, sandbox: RunningSandbox, user: str, conversation: str) -> AsyncIterator[Any]:
    """open_page for the length of a block; closing it checks the page raised no JavaScript error."""
    page = await open_page(browser, sandbox, user, conversation)
    try:
        yield page
        assert page.js_errors == []
    finally:
        await page.close()


async def open_page(browser: Any, sandbox: RunningSandbox, user: str, conversation: str) -> Any:
    """A tab showing the sandbox as `user`, with `conversation` open; it collects the page's JavaScript errors."""
    from playwright.async_api import expect

    # A loaded machine (the whole suite on two cores) can take seconds to answer; expect's 5 s default is tight.
    expect.set_options(timeout=TIMEOUT_MS)
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("dialog", lambda dialog: dialog.accept())  # confirm dialogs on buttons: the person says yes
    page.js_errors = errors
    await page.goto(f"{sandbox.url}?as={user}&c={conversation}")
    await page.locator("#conversation-title").wait_for()
    return page


async def send(page: Any, text: str) -> None:
    """Type into the composer and press Enter, as a person sends a slash command."""
    composer = page.get_by_label("Message", exact=True)
    await composer.fill(text)
    await composer.press("Enter")


def articles(page: Any, text: str) -> Any:
    """The messages in the open conversation (not in the thread pane) that contain `text`."""
    return page.locator("#messages article.message").filter(has_text=text)


def thread_articles(page: Any, text: str) -> Any:
    """The messages in the open thread pane that contain `text`."""
    return page.get_by_role("complementary", name="Thread").locator("article.message").filter(has_text=text)


async def screenshot(page: Any, locator: Any, name: str) -> None:
    """Save `locator` as docs/NAME when LIFTOFF_SCREENSHOTS=1, with the window made tall enough that the whole
    message fits under the conversation header (a taller message would be cut and overlapped)."""
    if SCREENSHOTS is None:
        return
    viewport = page.viewport_size
    box = await locator.bounding_box()
    height = int(box["height"]) if box else 0
    await page.set_viewport_size({"width": viewport["width"], "height": max(viewport["height"], height + 260)})
    try:
        await locator.scroll_into_view_if_needed()
        await locator.screenshot(path=str(SCREENSHOTS / name), animations="disabled")
    finally:
        await page.set_viewport_size(viewport)
