"""What every tracker client shares: a token bucket, typed errors, one HTTP call, and retries with backoff.

A single call never retries by itself: a write whose response was lost may have happened, so the caller
(agents/tracker_sync.py) retries a whole *operation* with `retrying`, and an operation that creates looks its
idempotency marker up first on every attempt after the first.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import aiohttp

T = TypeVar("T")
ATTEMPTS = 3
BASE_DELAY_S = 0.5
MAX_DELAY_S = 30.0


class TrackerError(Exception):
    """A tracker call failed."""


class TransientError(TrackerError):
    """429, 5xx, a timeout or a dropped connection: worth another try later."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(TrackerError):
    """A 4xx that will not heal by waiting (revoked key, deleted project): the destination stops."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


class RequestError(TrackerError):
    """A 4xx about this one request (e.g. a bad field): the row is recorded as failed, others go on."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class TokenBucket:
    """`rate` tokens a second, up to `burst`; acquire() waits for one."""

    def __init__(self, rate: float, burst: float | None = None) -> None:
        self.rate = rate
        self.capacity = burst if burst is not None else max(1.0, rate)
        self.tokens = self.capacity
        self.updated = time.monotonic()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = time.monotonic()
                self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
                self.updated = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                await asyncio.sleep((1 - self.tokens) / self.rate)


@dataclass
class HttpTracker:
    """One tracker's HTTP session: base URL, auth headers, the bucket, a per-call timeout, counters."""

    base_url: str
    headers: dict[str, str]
    bucket: TokenBucket
    timeout_s: float = 30.0
    requests: int = 0
    session: aiohttp.ClientSession | None = field(default=None, repr=False)

    async def call(self, method: str, path: str, *, json: Any = None, params: dict[str, str] | None = None,
                   permanent: frozenset[int] = frozenset({401, 403}), errors_as_body: bool = False,
                   transient: frozenset[int] = frozenset()) -> Any:
        """One request; the JSON body of a 2xx (None when empty). Statuses in `permanent` raise PermanentError,
        those in `transient` (besides 429 and 5xx) TransientError.

        `errors_as_body`: a 4xx whose body is JSON is returned (GraphQL reports its errors in the body).
        """
        if self.session is None:
            self.session = aiohttp.ClientSession()
        await self.bucket.acquire()
        self.requests += 1
        try:
            async with self.session.request(
                method, self.base_url.rstrip("/") + path, json=json, params=params, headers=self.headers,
                timeout=aiohttp.ClientTimeout(total=self.timeout_s),
            ) as response:
                text = await response.text()
                status = response.status
                retry_after = _retry_after(response.headers.get("Retry-After"))
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise TransientError(f"{method} {path}: {type(exc).__name__} {exc}".strip()) from exc
        if status == 429:
            raise TransientError(f"{method} {path}: 429 rate limited", retry_after=retry_after)
        if status in transient:
            raise TransientError(f"{method} {path}: {status} {text[:200]}", retry_after=retry_after)
        if status >= 500:
            raise TransientError(f"{method} {path}: {status} {text[:200]}", retry_after=retry_after)
        if status in permanent:
            raise PermanentError(f"{method} {path}: {status} {text[:300]}", status=status)
        if status >= 400 and errors_as_body:
            try:
                return await _json(text)
            except ValueError:
                pass
        if status >= 400:
            raise RequestError(f"{method} {path}: {status} {text[:300]}", status=status)
        if not text.strip():
            return None
        try:
            return await _json(text)
        except ValueError as exc:
            raise TransientError(f"{method} {path}: malformed body {text[:100]!r}") from exc

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
            self.session = None


async def _json(text: str) -> Any:
    import json

    return json.loads(text)


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


async def retrying(operation: Callable[[int], Awaitable[T]], *, attempts: int = ATTEMPTS,
                   base_delay: float = BASE_DELAY_S, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> T:
    """Run operation(attempt) up to `attempts` times on TransientError, with full-jitter exponential backoff.

    Retry-After wins over the computed delay. The last TransientError is raised: the row waits for the next
    sync window. `attempt` starts at 1; an operation that creates looks its marker up when attempt > 1.
    """
    for attempt in range(1, attempts + 1):
        try:
            return await operation(attempt)
        except TransientError as exc:
            if attempt == attempts:
                raise
            delay = exc.retry_after if exc.retry_after is not None else \
                random.uniform(0, min(MAX_DELAY_S, base_delay * 2 ** (attempt - 1)))
            await sleep(min(delay, MAX_DELAY_S))
    raise AssertionError("unreachable")
