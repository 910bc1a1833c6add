"""Automatic OKR progress: a key result following a launch (share of its tasks done), and one following a JQL
count through a fake JqlCounters (the interface the tracker integration implements). Each update is a check-in
by "Liftoff" with its source, recorded once per value and day."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import pytest
from sqlalchemy import select

from agents.okr_import import import_tree
from agents.okr_sources import JqlCounter, JqlCountError, sync_launch_key_results, sync_sources
from storage.db import Database
from storage.enums import TaskStatus
from storage.migrate import upgrade_async
from storage.models import Launch, Task
from storage.okr_models import CheckIn, KeyResult, Objective
from storage.okrs import OkrRepository
from storage.scope import Scope
from storage.workspaces import WorkspaceRepository

WS = "T0SOURCES"
TODAY = date(2026, 8, 19)
JQL = 'project = SRCH AND status = Done AND resolved >= "2026-07-01"'


class FakeJira:
    """A JqlCounter as the tracker integration will provide one: counts by JQL, or fails as Jira can."""

    def __init__(self, counts: dict[str, object]) -> None:
        self.counts = counts
        self.asked: list[str] = []

    async def count(self, jql: str) -> int:
        self.asked.append(jql)
        value = self.counts.get(jql)
        if isinstance(value, Exception):
            raise value
        return value  # type: ignore[return-value]


class FakeCounters:
    def __init__(self, counter: JqlCounter | None) -> None:
        self.counter = counter

    async def for_workspace(self, workspace_id: str) -> JqlCounter | None:
        return self.counter if workspace_id == WS else None


@pytest.fixture
async def db(tmp_path) -> AsyncIterator[Database]:  # noqa: ANN001
    url = f"sqlite+aiosqlite:///{tmp_path}/sources.db"
    await upgrade_async(url)
    database = Database(url)
    async with database.session() as session:
        await WorkspaceRepository(session, Scope(WS)).ensure()
        launch = Launch(workspace_id=WS, name="Smart Search", name_key="smart search", target_date=TODAY,
                        launch_type="software_release", created_by="U1")
        session.add(launch)
        await session.flush()
        for n, status in enumerate([TaskStatus.DONE, TaskStatus.TODO, TaskStatus.IN_PROGRESS, TaskStatus.TODO]):
            session.add(Task(workspace_id=WS, launch_id=launch.id, key=f"T-{n}", title=f"Task {n}", team="eng",
                             role="eng", estimate_days=1, priority="P1", confidence=0.9, status=status))
        await import_tree(OkrRepository(session, Scope(WS)), {
            "periods": [{"name": "Q3", "start": "2026-07-01", "end": "2026-09-30"}],
            "people": [{"slack_id": "U1", "name": "Ana Lee", "role": "admin"}],
            "objectives": [
                {"key": "CO-1", "title": "Ship it", "level": "company", "owner": "U1", "period": "Q3",
                 "key_results": [{"key": "CO-1.1", "title": "Launch tasks done", "owner": "U1", "start": 0,
                                  "target": 100, "source": "launch", "source_ref": "Smart Search"}]},
                {"key": "ENG-1", "title": "Fix bugs", "level": "department", "department": "Eng", "owner": "U1",
                 "parent": "CO-1", "period": "Q3",
                 "key_results": [{"key": "ENG-1.1", "title": "Issues closed", "owner": "U1", "start": 0,
                                  "target": 40, "source": "jira", "source_ref": JQL}]},
            ],
        }, TODAY)
    yield database
    await database.dispose()


async def checkins(db: Database, key: str) -> list[tuple[float, str, str]]:
    async with db.reader() as session:
        rows = await session.execute(select(CheckIn.value, CheckIn.author, CheckIn.source).join(
            KeyResult, KeyResult.id == CheckIn.key_result_id).where(KeyResult.key == key).order_by(CheckIn.id))
        return [tuple(r) for r in rows]  # type: ignore[misc]


async def test_a_launch_share_becomes_a_liftoff_check_in_and_rolls_up(db: Database) -> None:
    async with db.reader() as session:
        launch_id = await session.scalar(select(Launch.id))
    assert launch_id is not None
    first = await sync_launch_key_results(db, WS, launch_id, TODAY)
    assert [(r.key_result.key, r.recorded) for r in first] == [("CO-1.1", True)]
    assert await checkins(db, "CO-1.1") == [(25.0, "Liftoff", "launch")]
    # Nothing moved: nothing new. A task done: a new check-in, and the company objective follows.
    assert [r.recorded for r in await sync_launch_key_results(db, WS, launch_id, TODAY)] == [False]
    async with db.session() as session:
        task = await session.scalar(select(Task).where(Task.key == "T-1"))
        assert task is not None
        task.status = TaskStatus.DONE
    await sync_launch_key_results(db, WS, launch_id, TODAY)
    assert [v for v, _, _ in await checkins(db, "CO-1.1")] == [25.0, 50.0]
    async with db.reader() as session:
        company = await session.scalar(select(Objective).where(Objective.key == "CO-1"))
        assert company is not None and company.progress == pytest.approx(0.5)


async def test_the_scheduled_sync_counts_jql_through_the_tracker_interface(db: Database) -> None:
    jira = FakeJira({JQL: 12})
    assert await sync_sources(db, TODAY, FakeCounters(jira)) == 2  # the launch share and the JQL count
    assert jira.asked == [JQL]
    assert await checkins(db, "ENG-1.1") == [(12.0, "Liftoff", "jira")]
    assert await sync_sources(db, TODAY, FakeCounters(jira)) == 0  # the same count the same day: recorded once
    async with db.reader() as session:
        kr = await session.scalar(select(KeyResult).where(KeyResult.key == "ENG-1.1"))
        assert kr is not None and kr.progress == pytest.approx(12 / 40)


@pytest.mark.parametrize("answer", [JqlCountError("Jira said 401"), -3, "12", True])
async def test_a_count_jira_cannot_give_changes_nothing(db: Database, answer: object) -> None:
    await sync_sources(db, TODAY, FakeCounters(FakeJira({JQL: answer})))
    assert await checkins(db, "ENG-1.1") == []


async def test_without_a_tracker_connection_only_launches_sync(db: Database) -> None:
    assert await sync_sources(db, TODAY, FakeCounters(None)) == 1
    assert await checkins(db, "ENG-1.1") == []


async def test_the_launch_recompute_job_moves_the_following_key_result(db: Database) -> None:
    """A task update enqueues recompute_launch (coalesced); that job is where the launch share is taken."""
    from bot.jobs import JobName, job_table
    from bot.settings import Settings
    from bot.wiring import build_services

    services = build_services(Settings(database_url=db.url))
    try:
        async with db.session() as session:
            launch = await session.scalar(select(Launch))
            assert launch is not None
            for task in await session.scalars(select(Task).where(Task.launch_id == launch.id)):
                task.status = TaskStatus.DONE
        await job_table()[JobName.RECOMPUTE_LAUNCH](services, WS, launch.id)
    finally:
        await services.db.dispose()
    assert [(v, a, s) for v, a, s in await checkins(db, "CO-1.1")] == [(100.0, "Liftoff", "launch")]
