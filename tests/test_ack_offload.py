"""Clicks ack and enqueue one job; the decision, Home tabs, review and plan messages and shares follow in jobs.

Everything after the ack (the decision's transaction, views.publish, chat.update, the shared card's post) runs in
jobs, so the web process keeps its loop and connections for the next acks. Coalesced jobs run once for any number
of identical requests made before they start, and each job run twice posts nothing twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from bot import jobs as jobs_module
from bot.jobs import InlineJobs, JobName, RqJobs
from bot.standin.render import render_blocks
from storage.enums import OutboxKind, ReviewState
from storage.models import Outbox
from tests.support import REDIS_TEST_URL, Stack, require_service, running_stack
from tests.test_review import PM, eventually, make_launch, new_task, review_msg, tasks_of


@pytest.fixture(scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory, blockkit_validator: Any) -> AsyncIterator[Stack]:
    """In-process jobs only: the RQ side of coalescing is tested on Redis directly, and fast."""
    async with running_stack("sqlite-inline", tmp_path_factory.mktemp("offload"), blockkit_validator) as s:
        yield s


class RecordingJobs:
    """A queue that only records: what a listener leaves to jobs, with none of it run."""

    def __init__(self) -> None:
        self.enqueued: list[tuple[JobName, tuple[Any, ...]]] = []

    async def enqueue(self, name: JobName, *args: Any) -> None:
        self.enqueued.append((name, args))


async def test_inline_jobs_coalesce_identical_waiting_jobs(monkeypatch: pytest.MonkeyPatch) -> None:
    runs: list[tuple[Any, ...]] = []
    started = asyncio.Event()
    release = asyncio.Event()

    async def job(_services: Any, *args: Any) -> None:
        runs.append(args)
        started.set()
        await release.wait()

    monkeypatch.setattr(jobs_module, "job_table", lambda: {JobName.REFRESH_HOME: job, JobName.RECOMPUTE_LAUNCH: job})
    queue = InlineJobs()
    for _ in range(3):  # three changes before the rebuild starts: one rebuild
        await queue.enqueue(JobName.REFRESH_HOME, "T1", "U1")
    await queue.enqueue(JobName.REFRESH_HOME, "T1", "U2")  # another person: a rebuild of its own
    await started.wait()
    await queue.enqueue(JobName.REFRESH_HOME, "T1", "U1")  # after it started: it may have read too early, so again
    await queue.enqueue(JobName.RECOMPUTE_LAUNCH, "T1", 7)  # not a coalesced job: every request runs
    await queue.enqueue(JobName.RECOMPUTE_LAUNCH, "T1", 7)
    release.set()
    await queue.drain(5)
    assert sorted(runs, key=str) == [("T1", "U1"), ("T1", "U1"), ("T1", "U2"), ("T1", 7), ("T1", 7)]


async def test_rq_jobs_coalesce_on_redis() -> None:
    require_service("Redis", "127.0.0.1", 6379)
    import uuid

    queue = RqJobs(REDIS_TEST_URL, f"liftoff-test-coalesce-{uuid.uuid4().hex[:8]}")
    try:
        for _ in range(3):
            await queue.enqueue(JobName.REFRESH_HOME, "T1", "U1")
        await queue.enqueue(JobName.REFRESH_HOME, "T1", "U2")
        jobs = queue.queue.jobs
        assert len(jobs) == 2
        marker = next(job.args[2] for job in jobs if job.args[1] == ["T1", "U1"])
        assert marker and queue.queue.connection.exists(marker)
        queue.queue.connection.delete(marker)  # what perform() does as the job starts
        await queue.enqueue(JobName.REFRESH_HOME, "T1", "U1")
        assert queue.queue.count == 3
    finally:
        for key in queue.queue.connection.keys(f"liftoff:pending:{queue.queue.name}:*"):
            queue.queue.connection.delete(key)
        queue.queue.empty()


async def test_a_finished_plans_delivery_overtakes_a_backlog_of_plans_on_rq() -> None:
    require_service("Redis", "127.0.0.1", 6379)
    import uuid

    queue = RqJobs(REDIS_TEST_URL, f"liftoff-test-front-{uuid.uuid4().hex[:8]}")
    try:
        for launch_id in range(3):
            await queue.enqueue(JobName.PLAN_LAUNCH, "T1", launch_id)
        await queue.enqueue(JobName.DRAIN_SLACK_OUTBOX, "T1")
        assert [job.args[0] for job in queue.queue.jobs] == ["drain_slack_outbox", *["plan_launch"] * 3]
    finally:
        queue.queue.empty()


async def test_a_click_only_acks_and_its_job_decides_then_leaves_messages_and_homes_to_jobs(stack: Stack) -> None:
    tasks = [new_task("A"), new_task("B", flags=("low_confidence",)), new_task("L", milestone=True)]
    launch_id = await make_launch(stack, f"Offload {stack.backend}", tasks, [("A", "B"), ("B", "L")], ["A", "B", "L"])
    await stack.settle()
    rows = await tasks_of(stack, launch_id)
    message = await review_msg(stack, launch_id)
    services = stack.liftoff.services
    real, recording = services.jobs, RecordingJobs()
    services.jobs = recording  # type: ignore[assignment]
    try:
        calls_before = len(stack.standin.calls)
        await stack.slack.click(PM, message=message, action_id="review_approve", block_id=f"review_task:{rows['B'].id}")
        await eventually(lambda: _has(recording, JobName.CLICK))
        # The listener acked and enqueued the click: no decision, no Slack call, nothing else.
        assert [name for name, _ in recording.enqueued] == [JobName.CLICK]
        assert [c.method for c in stack.standin.calls[calls_before:]] == []
        assert (await tasks_of(stack, launch_id))["B"].review_state == ReviewState.OPEN
        (_, click), = recording.enqueued
        assert click[:4] == (rows["B"].workspace_id, PM, "review_approve", str(rows["B"].id))

        # The job decides once, and leaves the messages and Home tabs to further jobs.
        after = RecordingJobs()
        services.jobs = after  # type: ignore[assignment]
        await jobs_module.job_table()[JobName.CLICK](services, *click)
    finally:
        services.jobs = real
    assert (await tasks_of(stack, launch_id))["B"].review_state == ReviewState.APPROVED
    names = [name for name, _ in after.enqueued]
    assert JobName.REVIEW_DECIDED in names and JobName.REFRESH_HOME in names

    told = len(stack.standin.ephemerals(PM))
    await real.enqueue(JobName.CLICK, *click)  # the same click again (a replayed job): told, not decided twice
    await stack.standin.wait_for(lambda: len(stack.standin.ephemerals(PM)) > told)
    assert "Already approved by" in stack.standin.ephemerals(PM)[-1]["text"]

    posts_before = len(stack.standin.calls_to("chat.postMessage"))
    for _ in range(2):  # each job twice: the same message and Home, nothing posted
        for name, args in after.enqueued:
            await real.enqueue(name, *args)
            await stack.settle()
    assert "Approved by" in render_blocks((await review_msg(stack, launch_id))["blocks"])
    assert stack.standin.calls_to("views.publish")
    assert len(stack.standin.calls_to("chat.postMessage")) == posts_before
    assert stack.standin.validation_errors == []


async def test_a_share_is_posted_once_however_often_its_job_runs(stack: Stack) -> None:
    tasks = [new_task("A"), new_task("L", milestone=True)]
    launch_id = await make_launch(stack, f"Shared {stack.backend}", tasks, [("A", "L")], ["A", "L"])
    card = {"ts": "1.000001", "blocks": [{"type": "actions", "elements": [
        {"type": "button", "action_id": "launch_share_health", "value": str(launch_id),
         "text": {"type": "plain_text", "text": "Share to channel"}}]}], "text": "card", "visible_to": PM}
    await stack.settle()
    before = len(stack.standin.messages("C0LAUNCH"))
    told = len(stack.standin.ephemerals(PM))
    await stack.slack.click(PM, message=card, action_id="launch_share_health", channel_id="C0LAUNCH")
    await stack.standin.wait_for(lambda: len(stack.standin.ephemerals(PM)) > told, timeout=20)
    assert "Shared the health card" in stack.standin.ephemerals(PM)[-1]["text"]
    await stack.settle()
    async with stack.db.reader() as session:
        shares = await session.scalars(select(Outbox).where(Outbox.kind == OutboxKind.HEALTH_CARD_SHARE))
        row = next(r for r in shares if r.payload["launch_id"] == launch_id)
    for _ in range(2):
        await stack.liftoff.services.jobs.enqueue(JobName.SHARE_HEALTH_CARD, row.workspace_id, row.id)
        await stack.settle()
    assert len(stack.standin.messages("C0LAUNCH")) == before + 1
    assert f"Shared by <@{PM}>" in str(stack.standin.messages("C0LAUNCH")[-1]["blocks"])
    assert len(stack.standin.ephemerals(PM)) == told + 1


async def _has(recording: RecordingJobs, name: JobName) -> bool:
    return any(n == name for n, _ in recording.enqueued)
