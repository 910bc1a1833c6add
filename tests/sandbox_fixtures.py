"""The end-to-end modules' shared fixtures: one `sandbox` and one `browser` for the whole run, and per module the
pages of Maya (U100) and Omar (U101), opened on the module's `conversation`.

Loaded as a plugin (`pytest_plugins = ["tests.sandbox_fixtures"]` in each end-to-end module, never imported), so
every module gets the same instances: starting a sandbox and Chromium costs seconds; each module opens its own pages.
A module whose pages start elsewhere than #launch-smart-search overrides the `conversation` fixture.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from bot.sandbox.runner import RunningSandbox
from bot.sandbox.workspace import LAUNCH_CHANNEL
from tests.sandbox_browser import chromium_browser, person_page, require_chromium, running_sandbox

MAYA, OMAR = "U100", "U101"


@pytest.fixture(scope="session")
async def sandbox(
    tmp_path_factory: pytest.TempPathFactory, blockkit_validator: Callable[[str, dict[str, Any]], list[str]]
) -> AsyncIterator[RunningSandbox]:
    require_chromium()
    async with running_sandbox(tmp_path_factory.mktemp("sandbox"), blockkit_validator) as running:
        yield running


@pytest.fixture(scope="session")
async def browser(sandbox: RunningSandbox) -> AsyncIterator[Any]:
    async with chromium_browser() as chromium:
        yield chromium


@pytest.fixture(scope="module")
def conversation() -> str:
    """Where this module's pages open."""
    return LAUNCH_CHANNEL


@pytest.fixture(scope="module")
async def maya(browser: Any, sandbox: RunningSandbox, conversation: str) -> AsyncIterator[Any]:
    async with person_page(browser, sandbox, MAYA, conversation) as page:
        yield page


@pytest.fixture(scope="module")
async def omar(browser: Any, sandbox: RunningSandbox, conversation: str) -> AsyncIterator[Any]:
    async with person_page(browser, sandbox, OMAR, conversation) as page:
        yield page
