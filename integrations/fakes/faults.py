"""Fault injection shared by the fake trackers: 429 with Retry-After, 500, a timeout, a response lost after commit."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

SPECS = Path(__file__).resolve().parents[3] / "shared" / "specs" / "trackers"
KINDS = ("429", "500", "timeout", "lost")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Faults:
    """Each request fails with probability `rate`, in one of `kinds`; `hang_s` must exceed the client timeout."""

    rate: float = 0.0
    kinds: tuple[str, ...] = KINDS
    retry_after: str = "1"
    hang_s: float = 1.0
    seed: int = 7
    injected: Counter[str] = field(default_factory=Counter)
    forced: list[str] = field(default_factory=list)  # the next requests fail like this, in order

    def __post_init__(self) -> None:
        self.random = random.Random(self.seed)

    def pick(self) -> str | None:
        if self.forced:
            return self.forced.pop(0)
        if self.rate and self.random.random() < self.rate:
            return self.random.choice(self.kinds)
        return None

    async def around(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        fault = self.pick()
        if fault:
            self.injected[fault] += 1
        if fault == "429":
            return web.json_response({"error": "rate limited"}, status=429, headers={"Retry-After": self.retry_after})
        if fault == "500":
            return web.json_response({"error": "internal"}, status=500)
        if fault == "timeout":
            await asyncio.sleep(self.hang_s)
            return web.json_response({"error": "too slow"}, status=504)
        response = await handler(request)
        if fault == "lost":
            # The work is done and committed; the caller never learns it.
            return web.json_response({"error": "bad gateway"}, status=502)
        return response


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    """Run `app` on 127.0.0.1 on a free port; returns the runner and the base URL."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


class FakeServer:
    """What every fake tracker shares: a loopback server of its own, its request count, and the faults injected
    around each request. A fake sets `faults`, `requests` and `runner`, and answers in `_dispatch`."""

    faults: Faults
    requests: int
    runner: web.AppRunner | None

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        return await self.faults.around(request, self._dispatch)

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        raise NotImplementedError
