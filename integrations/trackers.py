"""The shape every tracker client has, the fields a task is synced with, and the client factory."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from integrations.tracker_http import HttpTracker

# Steady rates, in requests per second (a connection's settings["rate_per_second"] overrides them). None of the
# API descriptions in ../shared/specs/trackers states a figure for the endpoints the clients use, so each comes from
# the vendor's rate-limit page; what the specs do say is noted with it:
# - Linear: 5,000 requests an hour per API key (developers.linear.app, "Rate limiting"). schema.graphql has only the
#   `rateLimitStatus` query (windows and remaining quota at run time) and 30 a minute for the search queries
#   (searchIssues, semanticSearch, ...), which the client does not use.
# - Jira Cloud: no fixed figure (cost-based limits, developer.atlassian.com "Rate limiting"); 10/s is a safe steady
#   rate. platform-swagger.v3.json gives no number: its 429s say "respect the Retry-After header", and the user
#   search endpoints (the owner lookup) "share a collective rate limit for the tenant", hence one lookup per email.
# - Notion: an average of 3 requests a second per integration (developers.notion.com "Request limits");
#   notion-openapi.json only describes the 429 "Rate limited." answer.
# - Asana: 150 requests a minute per token on the free plan (developers.asana.com "Rate limits"; 1,500 on paid
#   plans); asana_oas.yaml only links that page from its 429 TooManyRequests response.
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
    # The owner's email: only ever the key each client looks its own user id up by (integrations/tracker_owner.py),
    # never written into the item's text. None: unassigned.
    owner_email: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class RemoteItem:
    id: str
    key: str
    url: str


@dataclass(frozen=True)
class RemoteChange:
    """A remote item's state as the tracker reports it: what a webhook or the reconcile pass applies."""

    item_id: str
    status: str  # a storage.enums.TaskStatus value, mapped from the tracker's own states
    changed_at: datetime  # timezone-aware; last write wins against the task's own change time


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

    async def status_of(self, item_id: str) -> RemoteChange | None:
        """The item's current status and when it last changed; None when the item is gone."""
        ...

    async def changed_since(self, since: datetime) -> list[RemoteChange]:
        """Items of this connection's team/project/database changed at or after `since` (reconcile)."""
        ...

    async def aclose(self) -> None: ...


def build_client(kind: str, secrets: dict[str, str], settings: dict[str, Any], *,
                 base_url: str | None = None, timeout_s: float = 30.0) -> TrackerClient:
    """A client for one connection; `base_url` points it at a local fake in tests and benches."""
    from integrations import asana, jira, linear, notion

    rate = float(settings.get("rate_per_second") or DEFAULT_RATES[kind])
    if kind == "linear":
        return linear.LinearClient(secrets["api_key"], settings["team_id"], rate=rate, timeout_s=timeout_s,
                                   base_url=base_url or settings.get("base_url") or linear.API_URL)
    if kind == "jira":
        return jira.JiraClient(base_url or settings["site"], secrets["email"], secrets["api_token"],
                               settings["project_key"], rate=rate, timeout_s=timeout_s)
    if kind == "notion":
        return notion.NotionClient(secrets["token"], settings["database_id"], rate=rate, timeout_s=timeout_s,
                                   base_url=base_url or settings.get("base_url") or notion.API_URL)
    if kind == "asana":
        return asana.AsanaClient(secrets["token"], settings["project_gid"], rate=rate, timeout_s=timeout_s,
                                 base_url=base_url or settings.get("base_url") or asana.API_URL)
    raise ValueError(f"no client for tracker kind {kind!r} yet")
