"""Sends Slack messages at Slack's pace: about one message a second into one channel, per-method tiers, and
Retry-After honoured (slack_sdk's retry handlers on the client, plus a wait here when they give up).

Each message carries its idempotency key as message metadata, so a send that may have happened before a crash
is looked up in the channel's history first and never posted twice.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

METADATA_EVENT_TYPE = "liftoff_notification"
PER_CHANNEL_SECONDS = 1.0
# Requests a minute per Web API tier (https://api.slack.com/apis/rate-limits); chat.postMessage is "special".
TIERS = {"conversations.open": 50, "conversations.history": 50, "users.info": 100}
MAX_RETRY_AFTER = 30.0

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


@dataclass
class Pacer:
    """Spaces calls: one slot per `interval` seconds per key. `reserve` returns when the caller's slot starts."""

    interval: float
    clock: Clock = time.monotonic
    sleep: Sleep = asyncio.sleep
    _next: dict[str, float] = field(default_factory=dict)

    def reserve_at(self, key: str, now: float) -> float:
        """The start of the next free slot for `key` at or after `now`, taken (no waiting: for simulations)."""
        start = max(now, self._next.get(key, now))
        self._next[key] = start + self.interval
        return start

    async def reserve(self, key: str) -> None:
        now = self.clock()
        start = self.reserve_at(key, now)
        if start > now:
            await self.sleep(start - now)

    def push_back(self, key: str, seconds: float) -> None:
        """Slack said Retry-After: nothing more for this key until then."""
        self._next[key] = max(self._next.get(key, 0.0), self.clock() + seconds)


class SlackSender:
    def __init__(self, client: AsyncWebClient, *, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep,
                 per_channel: float = PER_CHANNEL_SECONDS) -> None:
        self.client = client
        self.sleep = sleep
        self.channels = Pacer(per_channel, clock, sleep)
        self.methods = {name: Pacer(60.0 / per_minute, clock, sleep) for name, per_minute in TIERS.items()}

    async def call(self, method: str, **kwargs: Any) -> Any:
        pacer = self.methods.get(method)
        if pacer is not None:
            await pacer.reserve(method)
        for attempt in range(2):
            try:
                return await getattr(self.client, method.replace(".", "_"))(**kwargs)
            except SlackApiError as exc:
                wait = _retry_after(exc)
                if wait is None or attempt == 1:
                    raise
                if pacer is not None:
                    pacer.push_back(method, wait)
                await self.sleep(wait)
        raise AssertionError("unreachable")

    async def open_dm(self, user_id: str) -> str:
        response = await self.call("conversations.open", users=user_id)
        return str(response["channel"]["id"])

    async def post(self, channel: str, key: str, message: dict[str, Any]) -> tuple[str, str]:
        """Post under `key`, at most one message a second into `channel` (a person's id posts in their DM with the
        app, with no conversations.open: that method's tier would cap digests at 50 a minute); returns (channel, ts).
        """
        await self.channels.reserve(channel)
        metadata = {"event_type": METADATA_EVENT_TYPE, "event_payload": {"key": key}}
        for attempt in range(2):
            try:
                response = await self.client.chat_postMessage(channel=channel, metadata=metadata, **message)
                return str(response.get("channel") or channel), str(response["ts"])
            except SlackApiError as exc:
                wait = _retry_after(exc)
                if wait is None or attempt == 1:
                    raise
                self.channels.push_back(channel, wait)
                await self.sleep(wait)
        raise AssertionError("unreachable")

    async def already_posted(self, channel: str, key: str, since: timedelta = timedelta(days=2)) -> str | None:
        """The ts of a message an interrupted run already posted under `key`, if any."""
        oldest = (datetime.now(UTC) - since).timestamp()
        response = await self.call("conversations.history", channel=channel, include_all_metadata=True,
                                   oldest=str(oldest), limit=200)
        for message in response.get("messages", []):
            metadata = message.get("metadata") or {}
            if metadata.get("event_type") == METADATA_EVENT_TYPE and \
                    (metadata.get("event_payload") or {}).get("key") == key:
                return str(message["ts"])
        return None

    async def email_of(self, user_id: str) -> str | None:
        response = await self.call("users.info", user=user_id)
        return ((response.get("user") or {}).get("profile") or {}).get("email")


def _retry_after(exc: SlackApiError) -> float | None:
    """Seconds Slack asked us to wait (a 429 the client's retry handler already gave up on), else None."""
    if exc.response.status_code != 429 and exc.response.get("error") != "ratelimited":
        return None
    headers = {k.lower(): v for k, v in (exc.response.headers or {}).items()}
    value = headers.get("retry-after")
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return min(MAX_RETRY_AFTER, float(value)) if value is not None else 1.0
    except ValueError:
        return 1.0
