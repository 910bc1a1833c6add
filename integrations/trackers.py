"""The shape every tracker client has, the fields a task is synced with, and the client factory."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from integrations.tracker_http import HttpTracker

# Documented limits, in requests per second (a connection's settings["rate_per_second"] overrides them):
# Linear 5,000 requests an hour per API key; Jira Cloud publishes no fixed figure (cost based), 10/s is a safe
# steady rate; Notion averages 3 requests a second; Asana 150 a minute on the free plan.
DEFAULT_RATES = {"linear": 5000 / 3600, "jira": 10.0, "notion": 3.0, "asana": 150 / 60}


@dataclass(frozen=True)
class RemoteTask:
    """What a tracker gets of a task: redacted text, the marker that identifies it, and its state."""

    marker: str
    title: str
    description: str
    status: str  # a storage.enums.TaskStatus value
    priority: str  # P0..P3
    due: date | None


@dataclass(frozen=True)
class RemoteItem:
    id: str
    key: str
    url: str


class TrackerClient(Protocol):
    kind: str
    http: HttpTracker
    supports_dependencies: bool
    creates_with_status: bool  # False: an item is created in its first status and moved after

    async def check(self) -> str:
        """One cheap call proving the credentials and the team/project; returns its display name."""
        ...

    async def find(self, marker: str) -> RemoteItem | None: ...

    async def create(self, task: RemoteTask) -> RemoteItem: ...

    async def update(self, item_id: str, task: RemoteTask, *, content: bool, status: bool) -> None: ...

    async def close(self, item_id: str) -> None: ...

    async def has_blocker(self, item_id: str, blocker_id: str) -> bool: ...

    async def add_blocker(self, item_id: str, blocker_id: str) -> None: ...

    async def aclose(self) -> None: ...


def build_client(kind: str, secrets: dict[str, str], settings: dict[str, Any], *,
                 base_url: str | None = None, timeout_s: float = 30.0) -> TrackerClient:
    """A client for one connection; `base_url` points it at a local fake in tests and benches."""
    from integrations import jira, linear

    rate = float(settings.get("rate_per_second") or DEFAULT_RATES[kind])
    if kind == "linear":
        return linear.LinearClient(secrets["api_key"], settings["team_id"], rate=rate, timeout_s=timeout_s,
                                   base_url=base_url or settings.get("base_url") or linear.API_URL)
    if kind == "jira":
        return jira.JiraClient(base_url or settings["site"], secrets["email"], secrets["api_token"],
                               settings["project_key"], rate=rate, timeout_s=timeout_s)
    raise ValueError(f"no client for tracker kind {kind!r} yet")
