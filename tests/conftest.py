from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from tests.support import Stack, running_stack

BACKENDS = ["sqlite-inline", "postgres-rq"]


@pytest.fixture(scope="session")
def blockkit_validator() -> Callable[[str, dict[str, Any]], list[str]]:
    from tests.blockkit import load_validator

    return load_validator()


@pytest.fixture(scope="module", params=BACKENDS)
async def stack(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    blockkit_validator: Callable[[str, dict[str, Any]], list[str]],
) -> AsyncIterator[Stack]:
    """A whole running Liftoff per backend: SQLite with in-process jobs, PostgreSQL with an RQ worker."""
    async with running_stack(request.param, tmp_path_factory.mktemp(request.param), blockkit_validator) as s:
        yield s
