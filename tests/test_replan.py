"""Re-plan: the merge rules on constructed data, and the modal, job, diff and versions through signed requests
on SQLite with in-process jobs and PostgreSQL with an RQ worker; `/launch retro` before and after the target
date on the same stack (the retro's metrics are unit-tested in tests/test_retro.py)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from agents.plan import Brief, Edge, Plan, PlannedTask
from agents.plan_merge import fresh_key, merge_plan
from agents.retro import available_from
from blocks.plan_diff import diff_message
from bot.jobs import JobName
from bot.standin.render import render_blocks
from storage.audit import AuditEntry
from storage.enums import LaunchStatus, TaskStatus
from storage.launches import LaunchRepository
from storage.models import Dependency, Launch, LaunchVersion, Outbox, Task
from storage.scope import Scope
from storage.versions import FieldChange, PlanChanges, TaskChange, TaskLine, VersionRepository
from storage.workspaces import WorkspaceRepository
from tests.standin_samples import VALIDATE
from tests.support import Stack
from tests.test_launch_scenarios import BRIEF, CHANNEL, PM, TEAM, brief_values, open_brief_modal

MEMBER = "U101"
D1, D2 = date(2026, 5, 4), date(2026, 5, 11)


def row(task_id: int, key: str, title: str, *, team: str = "engineering", status: str = TaskStatus.TODO,
        assignee: str | None = "Maya Chen", due: date = D1, position: int = 0) -> Task:
    return Task(id=task_id, key=key, title=title, team=team, role="engineer", status=status, assignee=assignee,
                assignee_slack_id="U100" if assignee else None, due=due, start=due, estimate_days=2.0,
                priority="P2", confidence=0.9, flags=[], milestone=False, position=position, added_in_version=1,
                description="")


def planned(key: str, title: str, *, team: str = "engineering", assignee: str | None = "Omar Haddad",
            due: date = D2, estimate: float = 2.0) -> PlannedTask:
    return PlannedTask(key=key, title=title, description="", team=team, role="engineer", estimate_days=estimate,
                       assignee=assignee, start=due, due=due)


def test_merge_keeps_worked_on_tasks_matches_adds_and_removes() -> None:
    old = [
        row(1, "A-1", "Write spec", status=TaskStatus.DONE, position=0),
        row(2, "A-2", "Build API", position=1),
        row(3, "A-3", "Legacy docs", team="docs", position=2),
        row(4, "A-4", "Old QA pass", status=TaskStatus.IN_PROGRESS, position=3),
        row(5, "A-5", "Design review", team="design", position=4),
    ]
    old[3].started_at = datetime(2026, 5, 1, tzinfo=UTC)
    old_edges = [Dependency(from_task_id=4, to_task_id=2, kind="blocks", source="template", confidence=1.0),
                 Dependency(from_task_id=3, to_task_id=2, kind="blocks", source="template", confidence=1.0)]
    plan = Plan(
        brief=Brief(name="X", target_date=D2, text="x"),
        tasks=[
            planned("A-1", "Write spec"),  # done: kept as it is, whatever the new plan says
            planned("A-2", "Build the API", estimate=3.0),  # same key and team: the same task, reworded
            planned("A-3", "Security review", team="security"),  # another team: a new task, with a fresh key
            planned("B-7", "design  REVIEW", team="design"),  # same title: keeps its key A-5
        ],
        edges=[Edge("A-1", "A-2"), Edge("A-2", "A-3"), Edge("B-7", "A-2")],
    )
    merge = merge_plan(old, old_edges, plan, version=2, slack_ids={"Omar Haddad": "U101"})

    by_key = {w.key: w for w in merge.tasks}
    assert [w.key for w in merge.tasks] == ["A-1", "A-2", "A-6", "A-5", "A-4"]
    assert by_key["A-1"].values is None and by_key["A-4"].values is None  # untouched rows: status, owner, dates
    assert by_key["A-2"].existing_id == 2 and by_key["A-2"].values is not None
    assert by_key["A-2"].values.assignee_slack_id == "U101" and by_key["A-2"].values.key == "A-2"
    assert by_key["A-6"].existing_id is None and by_key["A-6"].added_in_version == 2
    assert by_key["A-5"].existing_id == 5 and by_key["A-5"].added_in_version == 1
    assert merge.removed_ids == [3]
    assert {(d.from_key, d.to_key) for d in merge.dependencies} == {
        ("A-1", "A-2"), ("A-2", "A-6"), ("A-5", "A-2"), ("A-4", "A-2")
    }
    changes = merge.changes
    assert [line.key for line in changes.added] == ["A-6"]
    assert [line.key for line in changes.removed] == ["A-3"]
    assert [line.key for line in changes.kept] == ["A-4"]
    changed = {c.key: {f.field: (f.before, f.after) for f in c.fields} for c in changes.changed}
    assert changed["A-2"] == {
        "title": ("Build API", "Build the API"), "owner": ("Maya Chen", "Omar Haddad"),
        "due": ("2026-05-04", "2026-05-11"), "estimate": ("2d", "3d"),
    }
    assert set(changed) == {"A-2", "A-5"}
    assert "A-1" not in changed  # done work is not changed by a re-plan
    assert merge.critical_path and merge.critical_path_days > 0
    assert PlanChanges.from_json(changes.to_json()) == changes


def test_fresh_keys() -> None:
    assert fresh_key("ENG-3", {"ENG-1"}) == "ENG-3"
    assert fresh_key("ENG-3", {"ENG-3", "ENG-30", "MKT-40"}) == "ENG-31"
    assert fresh_key("odd", {"odd"}) == "odd-1"


def test_diff_message_stays_within_block_kit_limits_at_300_tasks() -> None:
    lines = [TaskLine(f"ENG-{n}", "A very long task title " + "<&>" * 40, "engineering", "Maya", "2026-05-04")
             for n in range(300)]
    changed = [TaskChange(f"QA-{n}", "T" * 200, (FieldChange("title", "x" * 200, "y" * 200),
                                                 FieldChange("owner", "A", "B"))) for n in range(300)]
    launch = Launch(id=1, name="N" * 80, version=2)
    message = diff_message(launch, 2, PlanChanges(lines, lines, changed, lines[:50]), "U100")
    assert VALIDATE("message", message) == []
    assert "more_" in render_blocks(message["blocks"])


async def plan_launch(stack: Stack, name: str, **overrides: Any) -> Launch:
    view = await open_brief_modal(stack)
    await stack.slack.submit_view(PM, view, brief_values(name, **overrides))
    await stack.settle()
    async with stack.db.reader() as session:
        launch = await session.scalar(select(Launch).where(Launch.name == name))
    assert launch is not None and launch.status == LaunchStatus.PLANNED
    return launch


async def _version(stack: Stack, launch_id: int) -> int:
    async with stack.db.reader() as session:
        return int(await session.scalar(select(Launch.version).where(Launch.id == launch_id)) or 0)


async def open_replan(stack: Stack, user: str, name: str) -> dict[str, Any]:
    ack = await stack.slack.slash_command(user, "/launch", f"replan {name}", channel_id=CHANNEL)
    assert ack.status == 200 and ack.elapsed_ms < 500
    await stack.standin.wait_for(lambda: stack.standin.view_opened_by(ack.trigger_id) is not None)
    view = stack.standin.view_opened_by(ack.trigger_id)
    assert view is not None
    return view


async def ephemeral_after(stack: Stack, user: str, before: int) -> str:
    await stack.standin.wait_for(lambda: len(stack.standin.ephemerals(user)) > before)
    reply = stack.standin.ephemerals(user)[-1]
    return render_blocks(reply.get("blocks") or []) or reply.get("text", "")


async def count(stack: Stack, model: Any, **where: Any) -> int:
    async with stack.db.reader() as session:
        query = select(func.count()).select_from(model)
        for column, value in where.items():
            query = query.where(getattr(model, column) == value)
        return int(await session.scalar(query) or 0)


async def test_replan_opens_a_prefilled_modal_and_checks_the_form(stack: Stack) -> None:
    launch = await plan_launch(stack, f"Prefill {stack.backend}")
    other = await plan_launch(stack, f"Other {stack.backend}")
    view = await open_replan(stack, PM, launch.name)
    assert view["callback_id"] == "launch_replan" and view["private_metadata"] == str(launch.id)
    elements = {b["block_id"]: b.get("element", {}) for b in view["blocks"]}
    assert elements["name"]["initial_value"] == launch.name
    assert elements["target_date"]["initial_date"] == launch.target_date.isoformat()
    assert set(elements["team"]["initial_users"]) == set(brief_values("x")["team"])
    assert elements["channel"]["initial_conversation"] == CHANNEL
    assert elements["launch_type"]["initial_option"]["value"] == "software_release"
    assert BRIEF.split()[3] in str(elements["brief"]["initial_value"])
    assert stack.standin.validation_errors == []

    past = (date.today() - timedelta(days=2)).isoformat()
    ack = await stack.slack.submit_view(PM, view, brief_values(other.name.upper(), brief="", target_date=past),
                                        require=False)
    assert ack.json is not None and ack.json["response_action"] == "errors"
    assert set(ack.json["errors"]) == {"name", "brief", "target_date"}
    assert "already exists" in ack.json["errors"]["name"]
    await stack.settle()
    assert await count(stack, LaunchVersion, launch_id=launch.id) == 1  # v1, stored when the plan was saved
    async with stack.db.reader() as session:
        assert (await session.get(Launch, launch.id)).version == 1  # type: ignore[union-attr]

    # The health card's Re-plan button opens the same modal.
    before = len(stack.standin.ephemerals(PM))
    await stack.slack.slash_command(PM, "/launch", f"status {launch.name}", channel_id=CHANNEL)
    await ephemeral_after(stack, PM, before)
    card = stack.standin.ephemerals(PM)[-1]
    ack = await stack.slack.click(PM, action_id="launch_replan", value=str(launch.id), message=card)
    await stack.standin.wait_for(lambda: stack.standin.view_opened_by(ack.trigger_id) is not None)
    assert stack.standin.view_opened_by(ack.trigger_id)["private_metadata"] == str(launch.id)  # type: ignore[index]


async def test_replan_keeps_done_work_posts_one_diff_and_keeps_v1(stack: Stack) -> None:
    launch = await plan_launch(stack, f"Replan {stack.backend}")
    async with stack.db.session() as session:
        tasks = list(await session.scalars(select(Task).where(Task.launch_id == launch.id).order_by(Task.position)))
        done, started = tasks[0], tasks[1]
        done.status, done.completed_at = TaskStatus.DONE, datetime.now(UTC) - timedelta(days=1)
        started.status, started.started_at = TaskStatus.IN_PROGRESS, datetime.now(UTC) - timedelta(days=2)
        kept = {t.id: (t.key, t.status, t.assignee_slack_id, t.due, t.completed_at, t.started_at)
                for t in (done, started)}
    v1_tasks = len(tasks)

    view = await open_replan(stack, PM, launch.name)
    # A narrower brief, another kind of launch (other templates), a later date.
    brief = ("We are launching Smart Search in our web app. Engineering builds the search service and the "
             "indexing pipeline; QA runs a regression pass and signs off on the release candidate.")
    target = (launch.target_date + timedelta(days=14)).isoformat()
    ack = await stack.slack.submit_view(
        PM, view, brief_values(launch.name, brief=brief, target_date=target, launch_type="pricing_change"))
    assert ack.status == 200 and not ack.body.strip() and ack.elapsed_ms < 500
    # The request is stored after the ack (nothing before it may wait on a lock): wait for version 2, then its jobs.
    async with asyncio.timeout(30):
        while await _version(stack, launch.id) < 2:
            await asyncio.sleep(0.05)
    await stack.settle()
    await stack.settle()

    async with stack.db.reader() as session:
        after = await session.get(Launch, launch.id)
        assert after is not None and after.version == 2 and after.target_date.isoformat() == target
        rows = {t.id: t for t in await session.scalars(select(Task).where(Task.launch_id == launch.id))}
        versions = {v.version: v for v in await session.scalars(
            select(LaunchVersion).where(LaunchVersion.launch_id == launch.id))}
    for task_id, state in kept.items():
        assert task_id in rows
        t = rows[task_id]
        assert (t.key, t.status, t.assignee_slack_id, t.due, t.completed_at, t.started_at) == state
    assert set(versions) == {1, 2}
    assert len(versions[1].plan["tasks"]) == v1_tasks and versions[1].brief == launch.brief
    changes = versions[2].plan["changes"]
    assert changes["removed"] and changes["added"]
    assert len(rows) == v1_tasks - len(changes["removed"]) + len(changes["added"])
    assert {t.added_in_version for t in rows.values()} <= {1, 2}
    assert all(r.added_in_version == 2 for r in rows.values() if r.key in {a["key"] for a in changes["added"]})

    def diffs() -> list[dict[str, Any]]:
        return [m for m in stack.standin.messages(CHANNEL) if m.get("text", "").startswith(f"Plan v2 of {launch.name}")]

    await stack.standin.wait_for(lambda: len(diffs()) == 1, timeout=20)
    diff = diffs()[0]
    assert diff.get("thread_ts") == after.plan_ts  # in the plan's thread
    text = render_blocks(diff["blocks"])
    assert "Removed" in text and f"/launch status {launch.name} v1" in text
    assert stack.standin.validation_errors == []

    # The job again (a retry, a second worker): one version, one diff.
    await stack.liftoff.services.jobs.enqueue(JobName.REPLAN_LAUNCH, launch.workspace_id, launch.id, 2)
    await stack.liftoff.services.jobs.enqueue(JobName.DRAIN_SLACK_OUTBOX, launch.workspace_id)
    await stack.settle()
    assert len(diffs()) == 1
    assert await count(stack, LaunchVersion, launch_id=launch.id) == 2
    assert await count(stack, Outbox, idempotency_key=f"launch:{launch.id}:v2:diff") == 1
    async with stack.db.reader() as session:
        audit = {entry.action: entry for entry in await session.scalars(select(AuditEntry).where(
            AuditEntry.target == f"launch:{launch.id}", AuditEntry.action.like("launch.replan%")))}
    assert sorted(audit) == ["launch.replan_requested", "launch.replanned"]
    # The request records the launch as the PM's submission found it, team included.
    assert audit["launch.replan_requested"].before == {
        "version": 1, "name": launch.name, "target_date": launch.target_date.isoformat(),
        "launch_type": "software_release", "channel_id": CHANNEL, "team": sorted(TEAM)}
    assert audit["launch.replan_requested"].after["version"] == 2

    # Version 1 stays readable.
    before = len(stack.standin.ephemerals(PM))
    await stack.slack.slash_command(PM, "/launch", f"status {launch.name} v1", channel_id=CHANNEL)
    reply = await ephemeral_after(stack, PM, before)
    assert "plan v1".upper() in reply and f"*Tasks* {v1_tasks}" in reply and "v1 of v2" in reply
    before = len(stack.standin.ephemerals(PM))
    await stack.slack.slash_command(PM, "/launch", f"versions {launch.name}", channel_id=CHANNEL)
    reply = await ephemeral_after(stack, PM, before)
    assert "v1:" in reply and "v2:" in reply and "current" in reply


async def test_replan_is_refused_to_members_and_forged_ids_do_nothing(stack: Stack) -> None:
    launch = await plan_launch(stack, f"Guarded {stack.backend}")
    before = len(stack.standin.ephemerals(MEMBER))
    await stack.slack.slash_command(MEMBER, "/launch", f"replan {launch.name}", channel_id=CHANNEL)
    reply = await ephemeral_after(stack, MEMBER, before)
    assert "Only the launch's PM" in reply
    await stack.settle()
    async with stack.db.reader() as session:
        denied = list(await session.scalars(select(AuditEntry).where(
            AuditEntry.action == "access.denied", AuditEntry.actor == MEMBER,
            AuditEntry.target == f"launch:{launch.id}")))
    assert denied and denied[-1].after["attempted"] == "launch.replan"

    # A launch of another workspace, named in a forged modal: nothing happens to it.
    other_scope = Scope("T0OTHER")
    async with stack.db.session() as session:
        await WorkspaceRepository(session, other_scope).ensure("other")
        foreign = await LaunchRepository(session, other_scope).create_draft(
            name="Foreign", brief="x", target_date=date.today() + timedelta(days=60), launch_type="software_release",
            channel_id=None, created_by=PM, members=[("Maya", "pm", PM)])
        foreign.status = LaunchStatus.PLANNED
        foreign_id = foreign.id
    view = await open_replan(stack, PM, launch.name)
    stack.standin.views[view["id"]]["private_metadata"] = str(foreign_id)
    ack = await stack.slack.submit_view(PM, view, brief_values("Foreign"))
    assert ack.json is not None and "does not exist in this workspace" in ack.json["errors"]["name"]
    await stack.settle()
    assert await count(stack, LaunchVersion, launch_id=foreign_id) == 0
    async with stack.db.reader() as session:
        assert (await session.get(Launch, foreign_id)).version == 1  # type: ignore[union-attr]
        assert (await session.get(Launch, launch.id)).version == 1  # type: ignore[union-attr]


async def test_a_replan_already_asked_for_is_refused_in_the_modal(stack: Stack) -> None:
    launch = await plan_launch(stack, f"Pending {stack.backend}")
    other = await plan_launch(stack, f"Named {stack.backend}")
    async with stack.db.reader() as session:
        check = await VersionRepository(session, Scope(launch.workspace_id)).replan_check(PM, launch.id, launch.name)
        assert check.launch is not None and check.launch.id == launch.id and check.role is not None
        assert (check.launch.version, check.launch.status, check.launch.created_by) == (1, LaunchStatus.PLANNED, PM)
        assert not check.name_taken and not check.pending  # its own name is not taken
        taken = await VersionRepository(session, Scope(launch.workspace_id)).replan_check(PM, launch.id, other.name)
        assert taken.name_taken
        missing = await VersionRepository(session, Scope(launch.workspace_id)).replan_check(PM, 10**9, launch.name)
        assert missing.launch is None and missing.role == check.role
    view = await open_replan(stack, PM, launch.name)
    async with stack.db.session() as session:  # a re-plan asked for a moment ago and not yet made
        stored = await LaunchRepository(session, Scope(launch.workspace_id)).get(launch.id)
        assert stored is not None
        await VersionRepository(session, Scope(launch.workspace_id)).request(
            stored.id, stored.version + 1, {"name": stored.name}, brief=BRIEF, target_date=stored.target_date,
            created_by=PM)
    ack = await stack.slack.submit_view(PM, view, brief_values(launch.name))
    assert ack.json is not None and "already being made" in ack.json["errors"]["name"]
    assert await count(stack, LaunchVersion, launch_id=launch.id) == 2  # v1 and the pending request, no third


async def test_launch_retro_before_and_after_the_target_date(stack: Stack) -> None:
    view = await open_brief_modal(stack)
    name = f"Retro {stack.backend}"
    await stack.slack.submit_view(PM, view, brief_values(name))
    await stack.settle()
    async with stack.db.reader() as session:
        launch = await session.scalar(select(Launch).where(Launch.name == name))
    assert launch is not None

    before = len(stack.standin.ephemerals(PM))
    await stack.slack.slash_command(PM, "/launch", f"retro {name}", channel_id=CHANNEL)
    await stack.standin.wait_for(lambda: len(stack.standin.ephemerals(PM)) > before)
    reply = render_blocks(stack.standin.ephemerals(PM)[-1]["blocks"])
    assert "opens after the target date" in reply and available_from(launch.target_date).strftime("%b") in reply

    # The launch is over: its target date passed, most work was done (some of it late), one task came later.
    target = date.today() - timedelta(days=3)
    async with stack.db.session() as session:
        await session.execute(update(Launch).where(Launch.id == launch.id).values(target_date=target))
        tasks = list(await session.scalars(select(Task).where(Task.launch_id == launch.id).order_by(Task.position)))
        for n, row in enumerate(tasks[:-1]):
            row.status = TaskStatus.DONE
            row.due = target - timedelta(days=5)
            row.started_at = datetime.now(UTC) - timedelta(days=12)
            row.completed_at = datetime.now(UTC) - timedelta(days=(10 if n % 4 else 2))
        tasks[-1].added_in_version = 2
    messages_before = len(stack.standin.messages(CHANNEL))
    before = len(stack.standin.ephemerals(PM))
    await stack.slack.slash_command(PM, "/launch", f"retro {name.lower()}", channel_id=CHANNEL)
    await stack.standin.wait_for(lambda: len(stack.standin.ephemerals(PM)) > before)
    await stack.settle()
    await stack.standin.wait_for(lambda: len(stack.standin.messages(CHANNEL)) > messages_before, timeout=20)
    posted = stack.standin.messages(CHANNEL)[-1]
    text = render_blocks(posted["blocks"])
    done = len(tasks) - 1
    assert f"Retro: {name}".upper() in text and f"{done} of {len(tasks)}" in text
    assert "Completed late" in text and "Velocity" in text and "Cycle time" in text
    assert "All teams: median 2.0d · p90 10.0d" in text and "Added after the plan* (1)" in text
    assert stack.standin.validation_errors == []

    # Asked again the same day: not posted twice.
    before = len(stack.standin.ephemerals(PM))
    await stack.slack.slash_command(PM, "/launch", f"retro {name}", channel_id=CHANNEL)
    await stack.standin.wait_for(lambda: len(stack.standin.ephemerals(PM)) > before)
    await stack.settle()
    assert "already posted" in render_blocks(stack.standin.ephemerals(PM)[-1]["blocks"])
    assert len([m for m in stack.standin.messages(CHANNEL) if f"Retro of {name}" in m.get("text", "")]) == 1


async def test_a_replan_that_fails_the_pii_check_changes_nothing_and_says_why(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agents import guardrail, replan
    from agents.intake import ValidBrief

    launch = await plan_launch(stack, f"Failing {stack.backend}")
    async with stack.db.reader() as session:
        stored = await LaunchRepository(session, Scope(launch.workspace_id)).get(launch.id)
    assert stored is not None
    checked = ValidBrief(name=stored.name, brief="A new brief", target_date=stored.target_date,
                         team=[PM], channel=CHANNEL, launch_type="software_release")
    async with stack.db.reader() as session:
        target = (await VersionRepository(session, Scope(launch.workspace_id)).replan_check(
            PM, launch.id, launch.name)).launch
    assert target is not None
    version = await replan.request_replan(stack.db, Scope(launch.workspace_id, PM), target, checked, PM)

    class Broken:
        def analyze(self, **_: Any) -> list[Any]:
            raise RuntimeError("boom")

    # The job's agents, run here, where the PII engine can be broken on purpose.
    monkeypatch.setattr(guardrail, "get_analyzer", lambda: Broken())
    assert await replan.prepare_replan(stack.db, launch.workspace_id, launch.id, version)
    result = await replan.replan_launch(stack.db, launch.workspace_id, launch.id, version)
    assert result.outcome == replan.ReplanOutcome.FAILED
    async with stack.db.reader() as session:
        assert (await session.get(Launch, launch.id)).version == 1  # type: ignore[union-attr]
        failed = list(await session.scalars(select(Outbox).where(Outbox.kind == "replan_failed")))
        alerts = list(await session.scalars(select(Outbox).where(
            Outbox.kind == "guardrail_alert", Outbox.payload["launch_id"].as_integer() == launch.id)))
    assert await count(stack, LaunchVersion, launch_id=launch.id) == 1  # the request is gone: the PM may retry
    assert [row.payload["channel"] for row in failed if row.payload["launch_id"] == launch.id] == [PM]
    assert alerts
    assert await count(stack, AuditEntry, action="launch.replan_failed", target=f"launch:{launch.id}") == 1
    # Asked again, the job finds nothing to do.
    assert not await replan.prepare_replan(stack.db, launch.workspace_id, launch.id, version)
