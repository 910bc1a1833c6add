"""Outward tracker sync against local fake Linear and Jira servers that check every request against the real
API descriptions and inject faults."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from agents import tracker_sync
from integrations.fakes import jira_fake, linear_fake
from integrations.fakes.faults import Faults
from integrations.fakes.sync_rig import KEY, WORKSPACE, Rig, build_rig, expected_edges
from integrations.tracker_http import TokenBucket, TransientError, retrying
from storage.enums import OutboxKind, OutboxStatus, ReviewState, Role, TaskStatus
from storage.models import Dependency, Outbox, Task, User
from storage.scope import Scope
from storage.trackers import ConnectionStatus, TrackerConnection, TrackerLink

KINDS = ["linear", "jira"]


async def _start(kind: str, faults: Faults) -> linear_fake.FakeLinear | jira_fake.FakeJira:
    return await (linear_fake.start(faults=faults) if kind == "linear" else jira_fake.start(faults=faults))


@pytest.fixture
async def rig_for(tmp_path: Path) -> AsyncIterator[object]:
    made: list[Rig] = []

    async def make(kind: str, faults: Faults, *, tasks: int = 12, url: str | None = None) -> Rig:
        fake = await _start(kind, faults)
        rig = await build_rig(url or f"sqlite+aiosqlite:///{tmp_path}/{kind}.db", fake, tasks=tasks, rate=500,
                              timeout_s=0.2)
        made.append(rig)
        return rig

    yield make
    for rig in made:
        await rig.db.dispose()
        await rig.fake.stop()


async def _edges(rig: Rig) -> int:
    async with rig.db.reader() as session:
        return len(list(await session.scalars(select(Dependency))))


def _assert_exact(rig: Rig, tasks: int, edges: int) -> None:
    markers = rig.fake.by_marker()
    assert len(markers) == tasks and set(markers.values()) == {1}, markers
    remote = expected_edges(rig.fake)
    assert len(remote) == len(set(remote)) == edges
    assert rig.fake.invalid == []


async def _assert_all_linked_and_sent(rig: Rig, tasks: int) -> None:
    """Every task has its remote item's id and URL, and every tracker outbox row is sent."""
    async with rig.db.reader() as session:
        links = list(await session.scalars(select(TrackerLink)))
        rows = list(await session.scalars(select(Outbox).where(Outbox.destination.like("tracker:%"))))
    assert len(links) == tasks and all(link.external_id and link.external_url for link in links)
    assert {row.status for row in rows} == {OutboxStatus.SENT}


async def _forget_remote_ids(rig: Rig) -> None:
    """As if the process died after each remote create and before its link was completed; the launch is queued
    again."""
    async with rig.db.session() as session:
        for link in await session.scalars(select(TrackerLink)):
            link.external_id = None
        await tracker_sync.queue_launch(session, Scope(WORKSPACE), rig.launch_id)


async def _assert_revoked_stops_and_tells_admins_once(rig: Rig, tasks: int) -> None:
    """With the tracker refusing its credentials, two passes stop the connection and tell the one admin once."""
    async with rig.db.session() as session:
        session.add(User(workspace_id=WORKSPACE, slack_id="U0BOSS", name="Boss", role=Role.ADMIN))
    rig.fake.revoked = True
    await rig.sync()
    await rig.sync()
    async with rig.db.reader() as session:
        connection = await session.get(TrackerConnection, rig.connection_id)
        notices = list(await session.scalars(select(Outbox).where(Outbox.kind == OutboxKind.TRACKER_STOPPED)))
        waiting = list(await session.scalars(select(Outbox).where(Outbox.kind == OutboxKind.TRACKER_TASK)))
    assert connection is not None and connection.status == ConnectionStatus.STOPPED
    assert [n.payload["channel"] for n in notices] == ["U0BOSS"]
    # The launch row was expanded into one row per task; each waits, with the error, for a reconnect.
    assert len(waiting) == tasks and all(row.status == OutboxStatus.PENDING and row.last_error for row in waiting)


@pytest.mark.parametrize("kind", KINDS)
async def test_sync_under_every_fault_creates_each_task_and_dependency_once(kind: str, rig_for) -> None:  # noqa: ANN001
    # The first calls fail in every way, a lost response first: the create happened but was never answered.
    faults = Faults(rate=0.2, retry_after="0", hang_s=0.3, seed=5, forced=["lost", "429", "500", "timeout", "lost"])
    rig = await rig_for(kind, faults)
    await rig.sync()
    _assert_exact(rig, 12, await _edges(rig))
    assert faults.injected["lost"] >= 2
    await _assert_all_linked_and_sent(rig, 12)


@pytest.mark.parametrize("kind", KINDS)
async def test_a_status_change_updates_the_remote_item_and_text_is_redacted(kind: str, rig_for) -> None:  # noqa: ANN001
    rig = await rig_for(kind, Faults(), tasks=3)
    await rig.sync()
    async with rig.db.session() as session:
        task = (await session.scalars(select(Task).where(Task.key == "T1"))).one()
        task.status = TaskStatus.DONE
        task.description = "Mail dana.lee@example.com for the keys"
        await tracker_sync.queue_task(session, Scope(WORKSPACE), rig.launch_id, task.id)
    before = rig.fake.requests
    await rig.sync()
    assert rig.fake.requests > before
    # By the line every synced item ends with: a bare "T1" also matches a timestamp's "T11:00" and the marker's "T0RIG".
    remote = [i for i in _remote_items(rig) if "Synced from Liftoff (T1)" in str(i)]
    assert remote and "dana.lee@example.com" not in str(remote) and "Dana Lee" not in str(remote)
    if kind == "linear":
        assert remote[0]["stateId"] == "st-done"
    else:
        assert remote[0]["status"] == "done"
    # Nothing changed since: a second pass sends nothing.
    async with rig.db.session() as session:
        await tracker_sync.queue_task(session, Scope(WORKSPACE), rig.launch_id, task.id)
    before = rig.fake.requests
    await rig.sync()
    assert rig.fake.requests == before


def _remote_items(rig: Rig) -> list[dict[str, object]]:
    return list(rig.fake.store.values())


async def test_a_crash_after_the_remote_create_never_duplicates(rig_for) -> None:  # noqa: ANN001
    rig = await rig_for("linear", Faults(), tasks=2)
    report = await rig.sync()
    assert report[-1].created == 2
    await _forget_remote_ids(rig)
    await rig.sync()
    _assert_exact(rig, 2, await _edges(rig))


async def test_flagged_tasks_wait_for_their_review(rig_for) -> None:  # noqa: ANN001
    rig = await rig_for("jira", Faults(), tasks=0)
    async with rig.db.session() as session:
        session.add(Task(workspace_id=WORKSPACE, launch_id=rig.launch_id, key="F1", title="Flagged", team="eng",
                         role="eng", estimate_days=1, priority="P1", confidence=0.3, review_state=ReviewState.OPEN))
        await tracker_sync.queue_launch(session, Scope(WORKSPACE), rig.launch_id)
    await rig.sync(windows=2)
    assert rig.fake.by_marker() == {}
    async with rig.db.session() as session:
        task = (await session.scalars(select(Task).where(Task.key == "F1"))).one()
        task.review_state = ReviewState.APPROVED
    await rig.sync()
    assert len(rig.fake.by_marker()) == 1


@pytest.mark.parametrize("kind", KINDS)
async def test_a_revoked_key_stops_the_destination_and_tells_admins_once(kind: str, rig_for) -> None:  # noqa: ANN001
    await _assert_revoked_stops_and_tells_admins_once(await rig_for(kind, Faults(), tasks=2), tasks=2)


async def test_retrying_honours_retry_after_then_gives_up() -> None:
    slept: list[float] = []
    calls = 0

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async def flaky(attempt: int) -> None:
        nonlocal calls
        calls += 1
        raise TransientError("429", retry_after=7.0 if attempt == 1 else None)

    with pytest.raises(TransientError):
        await retrying(flaky, sleep=sleep)
    assert calls == 3 and slept[0] == 7.0 and len(slept) == 2 and 0 <= slept[1] <= 1.0


async def test_token_bucket_keeps_the_rate() -> None:
    import time

    bucket = TokenBucket(rate=200, burst=1)
    started = time.perf_counter()
    for _ in range(41):
        await bucket.acquire()
    assert time.perf_counter() - started >= 0.19


def test_credentials_are_encrypted_at_rest() -> None:
    from cryptography.fernet import Fernet

    key = Fernet.generate_key().decode()
    stored = tracker_sync.encrypt_secrets(key, {"api_key": "lin_api_secret"})
    assert "lin_api_secret" not in stored
    assert tracker_sync.decrypt_secrets(key, stored) == {"api_key": "lin_api_secret"}


async def test_a_failing_task_waits_for_the_next_window_while_the_pass_goes_on(rig_for) -> None:  # noqa: ANN001
    rig = await rig_for("jira", Faults(forced=["500", "500", "500"]), tasks=6)
    report = await tracker_sync.sync_destination(rig.db, WORKSPACE, rig.connection_id, encryption_key=KEY,
                                                 client_factory=rig.factory, sleep=_no_sleep, workers=1)
    # The first task's create failed three times; the other five were created in the same pass.
    assert report.created == 5 and report.error and not report.stopped
    async with rig.db.reader() as session:
        waiting = list(await session.scalars(select(Outbox).where(Outbox.status == OutboxStatus.PENDING)))
    assert waiting and all("500" in (row.last_error or "") or "blocking" in (row.last_error or "") for row in waiting)
    await rig.sync()
    _assert_exact(rig, 6, await _edges(rig))


async def test_an_unchanged_launch_is_skipped_without_a_request(rig_for) -> None:  # noqa: ANN001
    rig = await rig_for("linear", Faults(), tasks=5)
    await rig.sync()
    async with rig.db.session() as session:
        await tracker_sync.queue_launch(session, Scope(WORKSPACE), rig.launch_id)
    before = rig.fake.requests
    reports = await rig.sync()
    assert rig.fake.requests == before and reports[-1].requests == 0
    async with rig.db.reader() as session:
        rows = list(await session.scalars(select(Outbox).where(Outbox.kind == OutboxKind.TRACKER_TASK)))
    assert len(rows) == 5  # the second launch row found nothing to do: no task rows were added


async def _no_sleep(seconds: float) -> None:
    return None


class _Jobs:
    def __init__(self) -> None:
        self.enqueued: list[tuple[object, ...]] = []

    async def enqueue(self, name: object, *args: object) -> None:
        self.enqueued.append((name, *args))


async def test_the_sync_window_enqueues_a_job_per_connection_with_work_every_five_minutes(rig_for) -> None:  # noqa: ANN001
    from datetime import timedelta
    from types import SimpleNamespace

    from bot.jobs import JobName
    from bot.tracker_window import enqueue_due_syncs, sync_window
    from storage.models import utcnow

    rig = await rig_for("jira", Faults(), tasks=2)
    jobs = _Jobs()
    services = SimpleNamespace(settings=SimpleNamespace(encryption_key=KEY), db=rig.db, jobs=jobs)
    now = utcnow()
    assert await sync_window(services, now) == [(WORKSPACE, rig.connection_id)]  # type: ignore[arg-type]
    # The window's sync, and the reconcile of every active connection (status changes a lost webhook carried).
    assert jobs.enqueued == [(JobName.SYNC_TRACKER, WORKSPACE, rig.connection_id),
                             (JobName.RECONCILE_TRACKER, WORKSPACE, rig.connection_id)]
    assert await sync_window(services, now + timedelta(minutes=4)) == []  # type: ignore[arg-type]
    await rig.sync()
    assert await sync_window(services, now + timedelta(minutes=5)) == []  # type: ignore[arg-type]  # nothing due
    async with rig.db.session() as session:
        await tracker_sync.queue_launch(session, Scope(WORKSPACE), rig.launch_id)
        (await session.get(TrackerConnection, rig.connection_id)).status = ConnectionStatus.STOPPED  # type: ignore[union-attr]
    assert await enqueue_due_syncs(services, WORKSPACE) == []  # type: ignore[arg-type]  # a stopped connection waits


async def test_two_passes_of_one_connection_never_run_at_once(rig_for) -> None:  # noqa: ANN001
    rig = await rig_for("linear", Faults(forced=["lost"]), tasks=6)

    async def one_pass() -> tracker_sync.SyncReport:
        return await tracker_sync.sync_destination(rig.db, WORKSPACE, rig.connection_id, encryption_key=KEY,
                                                   client_factory=rig.factory, sleep=_no_sleep)

    reports = await asyncio.gather(one_pass(), one_pass())
    assert sorted(r.busy for r in reports) == [False, True]
    await rig.sync()  # the lease was given back: the next pass runs
    _assert_exact(rig, 6, await _edges(rig))
