"""Automatic progress: a launch's share of tasks done, a Jira JQL count, an inbound metric.

Each update is a check-in authored by "Liftoff" with its source, idempotent per source reference.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol

from agents.okr_checkin import CheckInResult, check_in
from storage.db import Database
from storage.okr_enums import LIFTOFF_AUTHOR, ProgressSource
from storage.okr_models import KeyResult
from storage.okr_sources import LaunchProgressRepository, workspaces_with_sources
from storage.okrs import OkrRepository
from storage.scope import Scope

log = logging.getLogger(__name__)

SIGNATURE_VERSION = "v0"
MAX_SKEW_SECONDS = 5 * 60


class JqlCountError(RuntimeError):
    """The tracker could not count (not connected, a JQL it refuses, down): the key result keeps its value."""


class JqlCounter(Protocol):
    """What the tracker integration provides for JQL-driven key results: one workspace's Jira connection."""

    async def count(self, jql: str) -> int:
        """How many issues match `jql` now (>= 0); raises JqlCountError when it cannot say."""
        ...


class JqlCounters(Protocol):
    """The tracker integration's counters by workspace; None where the workspace has no Jira connection."""

    async def for_workspace(self, workspace_id: str) -> JqlCounter | None: ...


class MetricError(ValueError):
    """A metric post that is refused; the message says why (sent back with a 4xx)."""


@dataclass(frozen=True)
class MetricPoint:
    metric: str
    value: float
    at: datetime

    @property
    def reference(self) -> str:
        return f"metric:{self.metric}:{int(self.at.timestamp())}"


def sign_metric(secret: str, timestamp: str, body: bytes) -> str:
    base = f"{SIGNATURE_VERSION}:{timestamp}:".encode() + body
    return f"{SIGNATURE_VERSION}=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def verify_metric_signature(secret: str, timestamp: str, body: bytes, signature: str,
                            now: float | None = None) -> None:
    """Raise MetricError unless the signature matches and the timestamp is within five minutes."""
    try:
        sent = int(timestamp)
    except ValueError as exc:
        raise MetricError("bad timestamp") from exc
    if abs((now if now is not None else time.time()) - sent) > MAX_SKEW_SECONDS:
        raise MetricError("stale timestamp")
    if not hmac.compare_digest(sign_metric(secret, timestamp, body), signature):
        raise MetricError("bad signature")


def parse_metric(data: Any) -> MetricPoint:
    if not isinstance(data, dict):
        raise MetricError("the body must be a JSON object with metric, value and timestamp")
    metric = data.get("metric")
    if not isinstance(metric, str) or not 0 < len(metric) <= 200:
        raise MetricError("metric must be a name")
    value = data.get("value")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MetricError("value must be a number")
    at = data.get("timestamp")
    try:
        when = datetime.fromtimestamp(float(at), UTC) if isinstance(at, int | float) \
            else datetime.fromisoformat(str(at).replace("Z", "+00:00"))
    except (TypeError, ValueError, OverflowError) as exc:
        raise MetricError("timestamp must be ISO 8601 or seconds since the epoch") from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return MetricPoint(metric, float(value), when)


async def record_metric(repo: OkrRepository, point: MetricPoint) -> list[CheckInResult]:
    """A check-in on every key result following this metric (a repeat of metric+timestamp changes nothing)."""
    results = []
    for kr in await repo.key_results_by_source(ProgressSource.METRIC, point.metric):
        results.append(await check_in(repo, kr, value=point.value, author=LIFTOFF_AUTHOR, day=point.at.date(),
                                      source=ProgressSource.METRIC, source_ref=point.reference,
                                      note=f"metric {point.metric}"))
    return results


def launch_share_done(statuses: list[str]) -> float:
    """Percent of a launch's tasks that are done (0 when it has none)."""
    if not statuses:
        return 0.0
    return 100.0 * sum(1 for s in statuses if s == "done") / len(statuses)


async def sync_launch(repo: OkrRepository, kr: KeyResult, task_statuses: list[str], day: date) -> CheckInResult:
    """A launch-following key result takes the share of the launch's tasks done (one check-in per value a day)."""
    value = round(launch_share_done(task_statuses), 2)
    return await check_in(repo, kr, value=value, author=LIFTOFF_AUTHOR, day=day, source=ProgressSource.LAUNCH,
                          source_ref=f"launch:{kr.source_ref}:{day.isoformat()}:{value}",
                          note=f"{value:g}% of launch tasks done")


async def sync_jira(repo: OkrRepository, kr: KeyResult, counter: JqlCounter, day: date) -> CheckInResult | None:
    """A JQL-following key result takes the count of issues the query returns (None: no count, nothing changed)."""
    if not (kr.source_ref or "").strip():
        return None
    try:
        count = await counter.count(kr.source_ref or "")
    except JqlCountError as exc:
        log.warning("JQL count for %s failed: %s", kr.key, exc)
        return None
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        log.warning("JQL count for %s is not a count: %r", kr.key, count)
        return None
    value = float(count)
    if kr.current_value is not None and kr.current_value == value:
        return None  # refreshed every sync window: a check-in only when the count moved
    # The time in the reference: a count that goes back to an earlier value the same day is a new check-in.
    at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M")
    return await check_in(repo, kr, value=value, author=LIFTOFF_AUTHOR, day=day, source=ProgressSource.JIRA,
                          source_ref=f"jira:{day.isoformat()}:{at}:{value:g}", note=f"JQL count {value:g}")


async def sync_launch_key_results(db: Database, workspace_id: str, launch_id: int, day: date | None = None
                                  ) -> list[CheckInResult]:
    """After a launch's tasks changed: every key result following it takes its share of tasks done, in one
    transaction (a repeat with the same share the same day records nothing)."""
    day = day or date.today()
    async with db.session() as session:
        scope = Scope(workspace_id)
        launches = LaunchProgressRepository(session, scope)
        followers = await launches.followers(launch_id)
        if not followers:
            return []
        statuses = await launches.task_statuses(launch_id)
        repo = OkrRepository(session, scope)
        return [await sync_launch(repo, kr, statuses, day) for kr in followers]


async def sync_sources(db: Database, day: date | None = None, counters: JqlCounters | None = None) -> int:
    """The scheduled sync of every workspace: launch-following key results, and JQL ones where a counter exists.
    Returns how many check-ins were new."""
    day = day or date.today()
    async with db.reader() as session:
        workspaces = await workspaces_with_sources(session)
    recorded = 0
    for workspace_id in workspaces:
        async with db.reader() as session:
            launch_ids = await LaunchProgressRepository(session, Scope(workspace_id)).followed_launches()
        for launch_id in launch_ids:
            recorded += sum(r.recorded for r in await sync_launch_key_results(db, workspace_id, launch_id, day))
        counter = await counters.for_workspace(workspace_id) if counters is not None else None
        if counter is None:
            continue
        async with db.session() as session:
            repo = OkrRepository(session, Scope(workspace_id))
            for kr in await repo.key_results_by_source(ProgressSource.JIRA):
                result = await sync_jira(repo, kr, counter, day)
                recorded += bool(result and result.recorded)
    return recorded
