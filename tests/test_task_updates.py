"""Task updates from Slack: buttons, the blocked-reason modal and `/launch done|start|block`, through signed
requests on SQLite (in-process jobs) and PostgreSQL (RQ); plus the update agent on its own."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from agents.launch_analysis import RefreshOutcome, refresh_analysis
from agents.launch_turns import LaunchTurns
from agents.orchestrator import PlanOutcome, plan_launch
from agents.policy import Actor
from agents.task_updates import TaskChange, UpdateOutcome, apply_change, update_task
from blocks.ids import ActionId
from bot.jobs import JobName, job_table
from bot.standin.render import render_blocks
from storage.audit import AuditEntry
from storage.db import Database
from storage.enums import Role, TaskStatus
from storage.launches import LaunchRepository, NewTask, PlanAnalysis
from storage.migrate import upgrade_async
from storage.models import Launch, Task, utcnow
from storage.notifications import NotificationEvent
from storage.scope import Scope
from storage.workspaces import WorkspaceRepository
from tests.support import Stack

PM = "U100"  # a Slack admin, and the PM of the launches planned here
OUTSIDER = "U105"  # a Member who owns no task of these launches
CHANNEL = "C0LAUNCH"
TEAM = [("Maya Chen", "pm", "U100"), ("Omar Haddad", "eng_lead", "U101"), ("Lucia Romero", "engineer", "U102"),
        ("Tom Becker", "qa", "U103"), ("Sara Kim", "marketing", "U104")]
BRIEF = ("Ship Smart Search in the web app: engineering builds the search service and the indexing pipeline, QA "
         "runs a regression pass, marketing writes a launch blog post, support writes help center articles.")


async def planned(db: Database, workspace_id: str, name: str, channel: str | None = CHANNEL) -> Launch:
    async with db.session() as session:
        await WorkspaceRepository(session, Scope(workspace_id)).ensure()
        draft = await LaunchRepository(session, Scope(workspace_id)).create_draft(
            name=name, brief=BRIEF, target_date=date.today() + timedelta(days=100), launch_type="software_release",
            channel_id=channel, created_by=PM, members=TEAM,
        )
    assert await plan_launch(db, workspace_id, draft.id) is PlanOutcome.PLANNED
    async with db.reader() as session:
        launch = await LaunchRepository(session, Scope(workspace_id)).get(draft.id)
    assert launch is not None
    return launch


async def planned_in(stack: Stack, name: str, channel: str) -> Launch:
    """A planned launch in a channel of its own: keys typed there mean its tasks."""
    stack.standin.directory.add_channel({"id": channel, "name": channel.lower()})
    return await planned(stack.db, stack.standin.team_id, f"{name} {stack.backend}", channel)


async def tasks_of(db: Database, launch: Launch) -> list[Task]:
    async with db.reader() as session:
        return await LaunchRepository(session, Scope(launch.workspace_id)).tasks(launch.id)


async def task_by_id(db: Database, task_id: int) -> Task:
    async with db.reader() as session:
        task = await session.get(Task, task_id)
    assert task is not None
    return task


async def launch_by_id(db: Database, launch_id: int) -> Launch:
    async with db.reader() as session:
        launch = await session.get(Launch, launch_id)
    assert launch is not None
    return launch


def critical_work(launch: Launch, tasks: list[Task]) -> list[Task]:
    """Tasks on the critical path with work in them and an owner in Slack."""
    by_key = {t.key: t for t in tasks}
    return [by_key[k] for k in launch.critical_path
            if not by_key[k].milestone and by_key[k].estimate_days > 0 and by_key[k].assignee_slack_id]


async def audit_count(db: Database, action: str, target: str) -> int:
    async with db.reader() as session:
        query = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action,
                                                                   AuditEntry.target == target)
        return int(await session.scalar(query) or 0)


async def alerts_for(db: Database, task_id: int) -> int:
    """The PM's critical-path alerts about this task: one notification event per blocked event."""
    async with db.reader() as session:
        query = select(func.count()).select_from(NotificationEvent).where(
            NotificationEvent.kind == "critical_blocked", NotificationEvent.event_key.like(f"blocked:{task_id}:%"))
        return int(await session.scalar(query) or 0)


async def answer(stack: Stack, user: str, send: Callable[[], Awaitable[Any]]) -> dict[str, Any]:
    """Do something and return the ephemeral answer it gets."""
    before = len(stack.standin.ephemerals(user))
    ack = await send()
    assert ack.status == 200
    await stack.standin.wait_for(lambda: len(stack.standin.ephemerals(user)) > before, timeout=20)
    reply = stack.standin.ephemerals(user)[-1]
    assert stack.standin.validation_errors == []
    return reply


def command(stack: Stack, user: str, text: str, channel: str) -> Callable[[], Awaitable[Any]]:
    return lambda: stack.slack.slash_command(user, "/launch", text, channel_id=channel)


def click(stack: Stack, user: str, message: dict[str, Any], action_id: str, value: str
          ) -> Callable[[], Awaitable[Any]]:
    return lambda: stack.slack.click(user, action_id=action_id, value=value, message=message)


async def test_start_done_and_double_click(stack: Stack) -> None:
    here = "C0BUTTONS"
    launch = await planned_in(stack, "Buttons", here)
    tasks = await tasks_of(stack.db, launch)
    path = critical_work(launch, tasks)
    owned = next(t for t in tasks if t.assignee_slack_id == "U101" and t.key not in launch.critical_path)
    target = f"task:{owned.id}"

    # The owner starts it from the keyboard; the answer is the task's line with its buttons.
    reply = await answer(stack, "U101", command(stack, "U101", f"start {owned.key.lower()}", here))
    assert "now *in progress*" in reply["text"]
    task = await task_by_id(stack.db, owned.id)
    assert task.status == TaskStatus.IN_PROGRESS and task.started_at is not None and task.updated_at is not None
    assert await audit_count(stack.db, "task.updated", target) == 1
    await stack.standin.wait_for(lambda: stack.standin.home("U101") is not None, timeout=10)

    # Done from the button on that answer; a second click changes nothing and records nothing.
    started = reply
    reply = await answer(stack, "U101", click(stack, "U101", started, ActionId.TASK_DONE, str(owned.id)))
    assert "now *done*" in reply["text"]
    task = await task_by_id(stack.db, owned.id)
    assert task.status == TaskStatus.DONE and task.completed_at is not None
    again = await answer(stack, "U101", click(stack, "U101", started, ActionId.TASK_DONE, str(owned.id)))
    assert "already done; nothing changed" in again["text"]
    assert await audit_count(stack.db, "task.updated", target) == 2
    assert (await task_by_id(stack.db, owned.id)).completed_at == task.completed_at

    # The PM finishes critical work: the critical path is recomputed (by a job, after the ack) over what is left.
    reply = await answer(stack, PM, command(stack, PM, f"done {path[0].key}", here))
    assert "now *done*" in reply["text"]
    await stack.settle()
    after = await launch_by_id(stack.db, launch.id)
    assert after.analyzed_changes == after.changes == 3
    assert after.critical_path_days < launch.critical_path_days
    assert (await task_by_id(stack.db, path[0].id)).slack_days == 0


async def test_blocking_critical_work_alerts_the_pm_once(stack: Stack) -> None:
    here = "C0BLOCKED"
    launch = await planned_in(stack, "Blocked", here)
    tasks = await tasks_of(stack.db, launch)
    critical = critical_work(launch, tasks)[1]
    owner = critical.assignee_slack_id
    assert owner is not None
    dm_before = len([m for m in stack.standin.messages(PM) if critical.key in m.get("text", "")])

    reply = await answer(stack, owner, command(stack, owner, f"block {critical.key} waiting for the API keys", here))
    assert "now *blocked*" in reply["text"] and f"<@{PM}>" in reply["text"]
    task = await task_by_id(stack.db, critical.id)
    assert task.status == TaskStatus.BLOCKED and task.blocked_reason == "waiting for the API keys"
    await stack.settle()
    await stack.standin.wait_for(
        lambda: len([m for m in stack.standin.messages(PM) if critical.key in m.get("text", "")]) == dm_before + 1,
        timeout=20)
    alert = [m for m in stack.standin.messages(PM) if critical.key in m.get("text", "")][-1]
    assert "waiting for the API keys" in render_blocks(alert["blocks"])
    stored = await launch_by_id(stack.db, launch.id)
    assert stored.risks[0]["code"] == "blocked_critical_path" and stored.risks[0]["severity"] == "high"

    # The same block again (a replay, a second typing): nothing changes and nobody hears twice.
    again = await answer(stack, owner, command(stack, owner, f"block {critical.key} waiting for the API keys", here))
    assert "already blocked" in again["text"]
    await stack.settle()
    assert await alerts_for(stack.db, critical.id) == 1
    assert await audit_count(stack.db, "task.updated", f"task:{critical.id}") == 1

    # Resumed, then blocked again through the modal: an empty reason is a field error; a new event alerts again.
    resumed = await answer(stack, owner, click(stack, owner, again, ActionId.TASK_START, str(critical.id)))
    assert "now *in progress*" in resumed["text"]
    ack = await stack.slack.click(owner, action_id=ActionId.TASK_BLOCK, value=str(critical.id), message=resumed)
    await stack.standin.wait_for(lambda: stack.standin.view_opened_by(ack.trigger_id) is not None, timeout=10)
    modal = stack.standin.view_opened_by(ack.trigger_id)
    assert modal is not None and modal["callback_id"] == "task_block"
    empty = await stack.slack.submit_view(owner, modal, {"reason": "   "}, require=False)
    assert empty.json is not None and empty.json["response_action"] == "errors" and "reason" in empty.json["errors"]
    assert (await task_by_id(stack.db, critical.id)).status == TaskStatus.IN_PROGRESS
    before = len(stack.standin.ephemerals(owner))
    done = await stack.slack.submit_view(owner, modal, {"reason": "legal has not signed off"})
    assert done.status == 200 and not done.body.strip()
    await stack.standin.wait_for(lambda: len(stack.standin.ephemerals(owner)) > before, timeout=20)
    task = await task_by_id(stack.db, critical.id)
    assert task.status == TaskStatus.BLOCKED and task.blocked_reason == "legal has not signed off"
    await stack.settle()
    assert await alerts_for(stack.db, critical.id) == 2
    assert stack.standin.validation_errors == []


async def test_unknown_and_ambiguous_keys(stack: Stack) -> None:
    here = "C0KEYS"
    first = await planned_in(stack, "Keys one", here)
    second = await planned_in(stack, "Keys two", here)
    key = (await tasks_of(stack.db, first))[0].key

    reply = await answer(stack, PM, command(stack, PM, f"done {key}99", here))
    assert "I found no task" in reply["text"] and "Close matches" in reply["text"]
    reply = await answer(stack, PM, command(stack, PM, "done", here))
    assert "/launch done ENG-3" in reply["text"]

    # The key is in several launches of this channel: ask which, one button per launch.
    reply = await answer(stack, PM, command(stack, PM, f"done {key}", here))
    assert "Which one" in reply["text"]
    text = render_blocks(reply["blocks"])
    assert first.name in text and second.name in text
    other = next(t for t in await tasks_of(stack.db, second) if t.key == key)
    done = await answer(stack, PM, click(stack, PM, reply, ActionId.TASK_DONE, str(other.id)))
    assert "now *done*" in done["text"]
    assert (await task_by_id(stack.db, other.id)).status == TaskStatus.DONE
    assert next(t for t in await tasks_of(stack.db, first) if t.key == key).status == TaskStatus.TODO

    # In a channel that holds only one of the launches, the key means that launch's task.
    only_here = await planned_in(stack, "Keys three", "C0KEYS3")
    reply = await answer(stack, PM, command(stack, PM, f"start {key}", "C0KEYS3"))
    assert "now *in progress*" in reply["text"]
    assert next(t for t in await tasks_of(stack.db, only_here) if t.key == key).status == TaskStatus.IN_PROGRESS


async def test_not_allowed_and_forged_payloads(stack: Stack) -> None:
    here = "C0GUARDED"
    launch = await planned_in(stack, "Guarded", here)
    tasks = await tasks_of(stack.db, launch)
    theirs = next(t for t in tasks if t.assignee_slack_id == "U102")
    reply = await answer(stack, PM, command(stack, PM, f"start {theirs.key}", here))

    # A member who neither owns the task nor runs the launch: told why, nothing changes, the denial is audited.
    denied = await answer(stack, OUTSIDER, click(stack, OUTSIDER, reply, ActionId.TASK_DONE, str(theirs.id)))
    assert "Only the task's owner" in denied["text"]
    denied = await answer(stack, OUTSIDER, command(stack, OUTSIDER, f"done {theirs.key}", here))
    assert "Only the task's owner" in denied["text"]
    opened_before = len(stack.standin.calls_to("views.open"))
    denied = await answer(stack, OUTSIDER, click(stack, OUTSIDER, reply, ActionId.TASK_BLOCK, str(theirs.id)))
    assert "Only the task's owner" in denied["text"]
    assert len(stack.standin.calls_to("views.open")) == opened_before
    assert (await task_by_id(stack.db, theirs.id)).status == TaskStatus.IN_PROGRESS
    assert await audit_count(stack.db, "access.denied", f"task:{theirs.id}") == 3

    # A payload naming another workspace's task: even an admin of this one reaches nothing.
    elsewhere = await foreign_task(stack.db)
    forged = copy.deepcopy(reply)
    for block in forged["blocks"]:
        for element in block.get("elements", []):
            if element.get("action_id") == ActionId.TASK_DONE:
                element["value"] = str(elsewhere.id)
    refused = await answer(stack, PM, click(stack, PM, forged, ActionId.TASK_DONE, str(elsewhere.id)))
    assert "does not exist in this workspace" in refused["text"]
    assert (await task_by_id(stack.db, elsewhere.id)).status == TaskStatus.TODO
    assert await audit_count(stack.db, "access.denied", f"task:{elsewhere.id}") == 1


async def foreign_task(db: Database) -> Task:
    scope = Scope("T0ELSEWHERE")
    async with db.session() as session:
        await WorkspaceRepository(session, scope).ensure()
        launches = LaunchRepository(session, scope)
        launch = await launches.create_draft(
            name="Not yours", brief="x", target_date=date.today() + timedelta(days=30),
            launch_type="software_release", channel_id=None, created_by="U900", members=[],
        )
        task = NewTask(key="ENG-1", title="Elsewhere", description="", team="engineering", role="engineer",
                       assignee=None, assignee_slack_id="U900", estimate_days=2, start=None, due=None, priority="P1",
                       confidence=0.9, flags=[], milestone=False, slack_days=0)
        assert await launches.save_plan(launch.id, [task], [], PlanAnalysis(["ENG-1"], 2, [], 0.5))
        stored = await launches.tasks(launch.id)
    return stored[0]


# --- the update agent on its own ------------------------------------------------------------------------


@pytest.fixture
async def db(tmp_path: Path) -> Any:
    url = f"sqlite+aiosqlite:///{tmp_path}/t.db"
    await upgrade_async(url)
    database = Database(url)
    try:
        yield database
    finally:
        await database.dispose()


async def test_two_clicks_at_once_make_one_change(db: Database) -> None:
    launch = await planned(db, "T1", "Race")
    task = critical_work(launch, await tasks_of(db, launch))[0]
    owner = Actor("T1", task.assignee_slack_id or "", Role.MEMBER)
    results = await asyncio.gather(*(update_task(db, owner, task.id, TaskChange.DONE) for _ in range(2)))
    assert sorted(r.outcome for r in results) == [UpdateOutcome.UNCHANGED, UpdateOutcome.UPDATED]
    assert await audit_count(db, "task.updated", f"task:{task.id}") == 1
    # Not the owner, not the PM: denied, unchanged.
    stranger = Actor("T1", "U999", Role.MEMBER)
    denied = await update_task(db, stranger, task.id, TaskChange.START)
    assert denied.outcome is UpdateOutcome.DENIED and (await task_by_id(db, task.id)).status == TaskStatus.DONE
    # Another workspace's actor does not find it at all.
    missing = await update_task(db, Actor("T2", PM, Role.ADMIN), task.id, TaskChange.START)
    assert missing.outcome is UpdateOutcome.MISSING


async def test_blocking_without_a_critical_path_task_alerts_nobody(db: Database) -> None:
    launch = await planned(db, "T1", "Quiet")
    tasks = await tasks_of(db, launch)
    loose = next(t for t in tasks if t.slack_days > 1 and not t.milestone)
    result = await update_task(db, Actor("T1", PM, Role.ADMIN), loose.id, TaskChange.BLOCK, reason="vendor late")
    assert result.outcome is UpdateOutcome.UPDATED and not result.on_critical_path and not result.alerted
    stored = await launch_by_id(db, launch.id)
    assert (stored.changes, stored.analyzed_changes) == (1, 0)  # marked stale; the click did not recompute
    assert not any(r["code"] == "blocked_work" for r in stored.risks)
    assert (await refresh_analysis(db, "T1", launch.id)).outcome is RefreshOutcome.REFRESHED
    stored = await launch_by_id(db, launch.id)
    assert any(r["code"] == "blocked_work" for r in stored.risks)
    assert await alerts_for(db, loose.id) == 0


def test_apply_change_sets_the_timestamps_once() -> None:
    task = Task(status=TaskStatus.TODO, key="ENG-1")
    now = utcnow()
    assert apply_change(task, TaskChange.START, None, now)
    assert task.started_at == now and task.completed_at is None
    assert not apply_change(task, TaskChange.START, None, now + timedelta(hours=1))
    with pytest.raises(ValueError):
        apply_change(task, TaskChange.BLOCK, "  ", now)
    assert apply_change(task, TaskChange.BLOCK, " waiting ", now)
    assert task.blocked_reason == "waiting" and task.status == TaskStatus.BLOCKED
    assert apply_change(task, TaskChange.DONE, None, now)
    assert task.blocked_reason is None and task.completed_at == now and task.started_at == now


# --- the recompute, off the click path and coalesced -------------------------------------------------------


async def analysis_of(db: Database, launch_id: int) -> tuple[Any, ...]:
    """What a recompute stores: the launch's critical path, its length, its risks and each task's slack."""
    launch = await launch_by_id(db, launch_id)
    slack = {t.key: t.slack_days for t in await tasks_of(db, launch)}
    return launch.critical_path, launch.critical_path_days, launch.risks, slack


async def test_clicks_at_once_and_one_recompute_match_a_sequential_run(stack: Stack) -> None:
    together = await planned(stack.db, "T0TOGETHER", "Coalesced")
    one_by_one = await planned(stack.db, "T0ONEBYONE", "Coalesced")
    initial = await analysis_of(stack.db, together.id)
    assert initial == await analysis_of(stack.db, one_by_one.id)
    first, second = (t.key for t in critical_work(together, await tasks_of(stack.db, together))[:2])
    changes = [(first, TaskChange.DONE, None), (second, TaskChange.BLOCK, "waiting for the vendor")]

    # Two clicks at once, one through another process's Database (so they meet on the database's locks, not only
    # in this process's launch turns), with a recompute running beside them; then one recompute.
    other = Database(stack.settings.database_url)
    try:
        ids = {t.key: t.id for t in await tasks_of(stack.db, together)}
        pm = Actor("T0TOGETHER", PM, Role.ADMIN)
        results = await asyncio.gather(
            update_task(stack.db, pm, ids[first], changes[0][1]),
            update_task(other, pm, ids[second], changes[1][1], reason=changes[1][2]),
            refresh_analysis(other, "T0TOGETHER", together.id),
        )
    finally:
        await other.dispose()
    assert [r.outcome for r in results[:2]] == [UpdateOutcome.UPDATED, UpdateOutcome.UPDATED]
    last = await refresh_analysis(stack.db, "T0TOGETHER", together.id)
    assert last.covered == 2  # by this run, or by the one beside the clicks if it came after both

    # The same changes one after another, each followed by its own recompute.
    ids = {t.key: t.id for t in await tasks_of(stack.db, one_by_one)}
    for key, change, reason in changes:
        done = await update_task(stack.db, Actor("T0ONEBYONE", PM, Role.ADMIN), ids[key], change, reason=reason)
        assert done.outcome is UpdateOutcome.UPDATED
        refreshed = await refresh_analysis(stack.db, "T0ONEBYONE", one_by_one.id)
        assert refreshed.outcome is RefreshOutcome.REFRESHED and refreshed.pm == PM

    after = await analysis_of(stack.db, together.id)
    assert after == await analysis_of(stack.db, one_by_one.id)
    assert after != initial and after[1] < initial[1] and after[2][0]["code"] == "blocked_critical_path"
    stored = await launch_by_id(stack.db, together.id)
    assert stored.changes == stored.analyzed_changes == 2


async def test_recompute_job_twice_changes_nothing_the_second_time(stack: Stack) -> None:
    launch = await planned(stack.db, "T0TWICE", "Twice")
    task = critical_work(launch, await tasks_of(stack.db, launch))[0]
    assert (await update_task(stack.db, Actor("T0TWICE", PM, Role.ADMIN), task.id, TaskChange.DONE)).outcome \
        is UpdateOutcome.UPDATED
    assert (await launch_by_id(stack.db, launch.id)).critical_path_days == launch.critical_path_days  # not yet
    jobs = stack.liftoff.services.jobs
    await jobs.enqueue(JobName.RECOMPUTE_LAUNCH, "T0TWICE", launch.id)
    await jobs.enqueue(JobName.RECOMPUTE_LAUNCH, "T0TWICE", launch.id)
    await stack.settle()
    once = await analysis_of(stack.db, launch.id)
    stored = await launch_by_id(stack.db, launch.id)
    assert stored.critical_path_days < launch.critical_path_days and stored.analyzed_changes == stored.changes == 1

    # Run again (as a job does, with the app's services): the stored analysis covers every change, so nothing moves.
    await job_table()[JobName.RECOMPUTE_LAUNCH](stack.liftoff.services, "T0TWICE", launch.id)
    assert await analysis_of(stack.db, launch.id) == once
    assert (await refresh_analysis(stack.db, "T0TWICE", launch.id)).outcome is RefreshOutcome.CURRENT
    assert (await refresh_analysis(stack.db, "T0NOWHERE", launch.id)).outcome is RefreshOutcome.MISSING


async def test_launch_turns_queue_one_launch_and_let_others_pass() -> None:
    turns = LaunchTurns()
    order: list[str] = []
    gate = asyncio.Event()

    async def hold(name: str, launch_id: int) -> None:
        async with turns.turn("T1", launch_id):
            order.append(f"{name} in")
            await gate.wait()
            order.append(f"{name} out")

    first = asyncio.create_task(hold("a", 1))
    await asyncio.sleep(0)
    second = asyncio.create_task(hold("b", 1))
    third = asyncio.create_task(hold("c", 2))
    await asyncio.sleep(0.01)
    assert order == ["a in", "c in"] and turns.waiting("T1", 1) == 2
    gate.set()
    await asyncio.gather(first, second, third)
    assert order.index("b in") > order.index("a out")
    assert turns.waiting("T1", 1) == 0 and turns.waiting("T1", 2) == 0
