"""A rig for tests and benches: a migrated database with a planned launch tied to a fake tracker, and a helper
that drains the launch's tracker outbox window after window until nothing is pending."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from cryptography.fernet import Fernet

from agents import tracker_sync
from integrations.fakes.asana_fake import FakeAsana
from integrations.fakes.jira_fake import FakeJira
from integrations.fakes.linear_fake import FakeLinear
from integrations.fakes.notion_fake import FakeNotion
from integrations.tracker_http import TokenBucket
from integrations.trackers import TrackerClient, build_client
from storage.db import Database
from storage.launches import LaunchRepository, NewDependency, NewTask, PlanAnalysis
from storage.migrate import upgrade_async
from storage.models import Workspace
from storage.scope import Scope
from storage.trackers import TrackerConnection, TrackerKind, TrackerRepository

WORKSPACE = "T0RIG"
Fake = FakeLinear | FakeJira | FakeNotion | FakeAsana
ADMIN = "U0ADMIN"
KEY = Fernet.generate_key().decode()


@dataclass
class Rig:
    db: Database
    connection_id: int
    launch_id: int
    fake: Fake
    rate: float
    timeout_s: float
    bucket: TokenBucket | None = None

    def factory(self, connection: TrackerConnection, secrets: dict[str, str]) -> TrackerClient:
        client = build_client(connection.kind, secrets, {**connection.settings, "rate_per_second": self.rate},
                              base_url=self.fake.url, timeout_s=self.timeout_s)
        # Windows here follow each other at once (in production they are minutes apart): one bucket for all of
        # them, so a new window does not start with a fresh burst.
        if self.bucket is None:
            self.bucket = client.http.bucket
        client.http.bucket = self.bucket
        return client

    async def sync(self, *, windows: int = 30) -> list[tracker_sync.SyncReport]:
        """Drain window after window (no waiting between them) until nothing is pending."""
        reports = []
        for _ in range(windows):
            reports.append(await tracker_sync.sync_destination(
                self.db, WORKSPACE, self.connection_id, encryption_key=KEY, client_factory=self.factory,
                sleep=_short_sleep))
            if reports[-1].stopped or not await tracker_sync.pending(self.db, WORKSPACE, self.connection_id):
                break
        return reports


async def _short_sleep(seconds: float) -> None:
    import asyncio

    # Backoff delays are honoured but capped, so a rig run takes seconds; Retry-After of the fakes is small.
    await asyncio.sleep(min(seconds, 0.05))


def secrets_for(fake: Fake) -> tuple[str, dict[str, str], dict[str, Any]]:
    if isinstance(fake, FakeLinear):
        return TrackerKind.LINEAR, {"api_key": fake.api_key}, {"team_id": fake.team_id}
    if isinstance(fake, FakeNotion):
        return TrackerKind.NOTION, {"token": fake.token}, {"database_id": fake.database_id}
    if isinstance(fake, FakeAsana):
        return TrackerKind.ASANA, {"token": fake.token}, {"project_gid": fake.project_gid}
    return TrackerKind.JIRA, {"email": fake.email, "api_token": fake.api_token}, \
        {"site": fake.url, "project_key": fake.project_key}


async def build_rig(url: str, fake: Fake, *, tasks: int, rate: float, timeout_s: float = 0.3,
                    seed: int = 3) -> Rig:
    """Migrate `url`, add a workspace, a tracker connection to `fake`, and a planned launch with `tasks` tasks."""
    await upgrade_async(url)
    db = Database(url)
    scope = Scope(WORKSPACE)
    kind, secrets, settings = secrets_for(fake)
    async with db.session() as session:
        if await session.get(Workspace, WORKSPACE) is None:
            session.add(Workspace(id=WORKSPACE, name="Rig"))
            await session.flush()
        connection = await TrackerRepository(session, scope).add_connection(
            kind=kind, name=f"fake {kind}", credentials=tracker_sync.encrypt_secrets(KEY, secrets),
            settings=settings, created_by=ADMIN)
        launches = LaunchRepository(session, scope)
        launch = await launches.create_draft(
            name=f"Rig {kind} {connection.id}", brief="A rig launch", target_date=date.today() + timedelta(days=90),
            launch_type="software_release", channel_id=None, created_by=ADMIN,
            members=[("Dana Lee", "pm", ADMIN)])
        await TrackerRepository(session, scope).choose(launch.id, connection.id)
        connection_id, launch_id = connection.id, launch.id
    await save_plan(db, launch_id, tasks, seed)
    return Rig(db, connection_id, launch_id, fake, rate, timeout_s)


async def save_plan(db: Database, launch_id: int, count: int, seed: int, *, workspace: str = WORKSPACE) -> None:
    """A plan of `count` tasks, each blocked by up to two earlier ones, saved the way the executor saves it."""
    from agents.executor import store_plan  # noqa: F401  (the hook under test is in store_plan)
    from agents.tracker_sync import queue_launch

    rng = random.Random(seed)
    tasks = [NewTask(key=f"T{i}", title=f"Task {i}: write the launch notes", description=f"Step {i}; ask Dana Lee",
                     team="eng", role="engineer", assignee=None, assignee_slack_id=None, estimate_days=1.0,
                     start=None, due=date.today() + timedelta(days=i % 60), priority=f"P{i % 4}", confidence=0.9,
                     flags=[], milestone=False, slack_days=0.0) for i in range(count)]
    edges = {(f"T{rng.randrange(i)}", f"T{i}") for i in range(1, count) for _ in range(rng.randint(0, 2))}
    deps = [NewDependency(from_key=a, to_key=b, kind="blocks", source="rig", confidence=1.0) for a, b in sorted(edges)]
    async with db.session() as session:
        launches = LaunchRepository(session, Scope(workspace))
        await launches.claim_for_planning(launch_id)
        await launches.save_plan(launch_id, tasks, deps, PlanAnalysis([], 0.0, [], 1.0))
        await queue_launch(session, Scope(workspace), launch_id)


def expected_edges(fake: Fake) -> list[tuple[str, str]]:
    """The fake's dependency edges as (blocker, blocked) ids."""
    if isinstance(fake, FakeLinear):
        return [(a, b) for a, b, kind in fake.relations if kind == "blocks"]
    if isinstance(fake, FakeNotion | FakeAsana):
        return fake.edges()
    return list(fake.links)


def timer() -> float:
    return time.perf_counter()
