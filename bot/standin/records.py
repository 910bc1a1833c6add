"""What the Slack stand-in remembers about the traffic it served."""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from typing import Any


def clone(value: Any) -> Any:
    """A deep copy of JSON-like data; pickling is several times faster than copy.deepcopy here."""
    return pickle.loads(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))


class SlackError(Exception):
    """A Web API failure answered as {"ok": false, "error": code, ...extra}."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"ok": False, "error": self.error, **self.extra}


@dataclass
class RecordedCall:
    """One request the stand-in answered: a Web API method, a response_url post or a file upload.

    `at` is time.monotonic() when the answer was ready (after any slow_next delay).
    """

    method: str
    args: dict[str, Any]
    at: float
    response: dict[str, Any]

    @property
    def ok(self) -> bool:
        return bool(self.response.get("ok"))


@dataclass
class RejectedPayload:
    """A payload refused because its blocks broke the schema or Slack's limits."""

    method: str
    kind: str
    errors: list[str]
    payload: dict[str, Any]


@dataclass
class Fault:
    """An injected failure served instead of the next call(s) to a method."""

    error: str
    status: int
    retry_after: int | None
    times: int = 1


@dataclass
class ResponseUrl:
    """Where a response_url's posts land: who may see them and which message they may replace."""

    user_id: str
    channel_id: str
    message_ts: str | None = None
    is_ephemeral: bool = False
    uses: int = 0
    posts: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Trigger:
    """A trigger_id handed to the app by the simulator; usable once, for a few seconds."""

    user_id: str
    issued_at: float
    view_id: str | None = None
