"""One writer per launch at a time within this process, queued in Python before any database lock.

Clicks on one launch (and its in-process recompute) take turns here, so a waiting click holds no pooled
connection in an idle transaction; the database locks still order writers across processes (RQ workers).
Never nest turns: a holder takes no second launch's turn.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from weakref import WeakKeyDictionary

from storage.db import Database


class LaunchTurns:
    """asyncio locks by (workspace, launch id), dropped again when nobody holds or awaits them."""

    def __init__(self) -> None:
        self._locks: dict[tuple[str, int], tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def turn(self, workspace_id: str, launch_id: int) -> AsyncIterator[None]:
        key = (workspace_id, launch_id)
        lock, users = self._locks.get(key) or (asyncio.Lock(), 0)
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def waiting(self, workspace_id: str, launch_id: int) -> int:
        """How many hold or await this launch's turn (for tests)."""
        return self._locks.get((workspace_id, launch_id), (None, 0))[1]


# One registry per Database: a process has one; tests run several stacks side by side.
_REGISTRIES: WeakKeyDictionary[Database, LaunchTurns] = WeakKeyDictionary()


def turns_of(db: Database) -> LaunchTurns:
    turns = _REGISTRIES.get(db)
    if turns is None:
        turns = _REGISTRIES[db] = LaunchTurns()
    return turns


def launch_turn(db: Database, workspace_id: str, launch_id: int) -> AbstractAsyncContextManager[None]:
    """`async with launch_turn(db, workspace, launch_id):` before opening the write session for that launch."""
    return turns_of(db).turn(workspace_id, launch_id)
