"""Slack's requests waiting for their answer go before the work listeners do after answering.

An answer is due within 3 s and is what the person is looking at; what a listener does after its ack() (store a
request, enqueue a job, open a modal, post a reply) is not. On one event loop both share one core, so in a burst
the work after the first answers held up the answers of the requests behind them: twenty re-plan submissions
arriving together were each answered after about twenty times their whole cost, not twenty times the part before
the ack.

So a listener that has answered waits its turn (`turn()`) until no request is waiting for its answer, for at
most `max_wait`: a steady stream of requests delays the work after the answers, it never starves it. A listener
that answers while it holds a database session does not wait (bot/prompt_ack.py checks): its connection or its
locks, SQLite's one writer above all, may be what the waiting requests need.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

# About as long as twenty requests arriving at once take to be answered. Under a steady stream the work piles up
# for this long and goes all at once at the next moment with no answer due: at 0.5 s that was ~200 click jobs'
# enqueues, let go into the middle of the next burst. Well inside the 3 s a trigger_id lasts, so a modal opened
# after the answer still opens.
MAX_WAIT_S = 0.15


class AnswersFirst:
    """Counts the requests waiting for their answer; `turn()` returns once there are none (or max_wait passed)."""

    def __init__(self, max_wait: float = MAX_WAIT_S) -> None:
        self.max_wait = max_wait
        self._waiting = 0
        self._turns: set[asyncio.Future[None]] = set()

    @property
    def waiting(self) -> int:
        return self._waiting

    @contextmanager
    def awaiting_answer(self) -> Iterator[None]:
        """Around one request, from its arrival until its answer is handed to the web server."""
        self._waiting += 1
        try:
            yield
        finally:
            self._waiting -= 1
            if not self._waiting:
                for waiter in self._turns:
                    _settle(waiter)

    async def turn(self) -> None:
        """Wait until no request is waiting for its answer, or for max_wait at most."""
        if not self._waiting:
            return
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self._turns.add(waiter)
        timer = loop.call_later(self.max_wait, _settle, waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            self._turns.discard(waiter)


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
