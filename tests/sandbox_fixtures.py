"""The end-to-end modules' shared `sandbox` and `browser`: one of each for the whole run.

Loaded as a plugin (`pytest_plugins = ["tests.sandbox_fixtures"]` in each end-to-end module, never imported), so
every module gets the same instances: starting a sandbox and Chromium costs seconds; each module opens its own pages.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from bot.sandbox.runner import RunningSandbox
from tests.sandbox_browser import chromium_browser, require_chromium, running_sandbox


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
