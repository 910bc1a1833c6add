"""The review loop for flagged tasks: signed requests on both backends, plus fast unit tests of the pieces."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from agents import notification
from agents.review import bypass_pairs, parse_page_value
from agents.review_edit import EditForm, ValidEdit, validate_edit
from agents.review_items import PAGE_SIZE, flag_evidence, paginate
from agents.review_request import request_review
from blocks.review_messages import review_message
from blocks.review_modal import review_edit_modal
from bot.jobs import JobName
from bot.standin.render import render_blocks
from storage.audit import AuditEntry
from storage.enums import ReviewDestination, ReviewState, Role
from storage.launches import LaunchRepository, NewDependency, NewTask, PlanAnalysis
from storage.models import Dependency, Launch, Task, TaskReview, Workspace
from storage.outbox import OutboxRepository
from storage.reviews import ReviewItem
from storage.scope import Scope
from storage.workspaces import WorkspaceRepository
from tests.support import Stack
from tests.test_launch_scenarios import brief_values, open_brief_modal

PM, MEMBER, OTHER_ADMIN = "U100", "U101", "U106"
CHANNEL = "C0LAUNCH"
TODAY = date.today()
TARGET = TODAY + timedelta(days=60)
RECONNECTED = "review: reconnected around B"

# --- building launches through the repositories ------------------------------------------------------------


def new_task(key: str, estimate: float = 2.0, flags: tuple[str, ...] = (), owner: str | None = "U101",
             milestone: bool = False) -> NewTask:
    return NewTask(
        key=key, title=f"Task {key}", description="", team="Engineering", role="engineer",
        assignee="Omar Haddad" if owner else None, assignee_slack_id=owner,
        estimate_days=0.0 if milestone else estimate,
        start=None, due=TARGET if milestone else TARGET - timedelta(days=10), priority="P2",
        confidence=0.5 if "low_confidence" in flags else 0.9, flags=list(flags), milestone=milestone, slack_days=0.0,
    )


async def make_launch(stack: Stack, name: str, tasks: list[NewTask], edges: list[tuple[str, str]],
                      critical_path: list[str], *, team_id: str | None = None, post: bool = True) -> int:
    """A planned launch with these tasks, its plan and review requested as the pipeline does, then delivered."""
    scope = Scope(team_id or stack.standin.team_id)
    async with stack.db.session() as session:
        await WorkspaceRepository(session, scope).ensure()
        launches = LaunchRepository(session, scope)
        launch = await launches.create_draft(
            name=name, brief="A launch for the review tests.", target_date=TARGET, launch_type="software_release",
            channel_id=CHANNEL, created_by=PM, members=[("Maya Chen", "pm", PM), ("Omar Haddad", "engineer", MEMBER)],
        )
        dependencies = [NewDependency(a, b, "blocks", "template", 1.0) for a, b in edges]
        await launches.save_plan(launch.id, tasks, dependencies, PlanAnalysis(critical_path, 0.0, [], 0.8))
        launch = await launches.get(launch.id)
        assert launch is not None
        await notification.announce_plan(OutboxRepository(session, scope), launch)
        await request_review(session, scope, launch)
        launch_id = launch.id
    if post:
        await stack.liftoff.services.jobs.enqueue(JobName.DRAIN_SLACK_OUTBOX, scope.workspace_id)
        await stack.settle()
    return launch_id


async def launch_row(stack: Stack, launch_id: int) -> Launch:
    async with stack.db.reader() as session:
        launch = await session.get(Launch, launch_id)
    assert launch is not None
    return launch


async def review_msg(stack: Stack, launch_id: int) -> dict[str, Any]:
    launch = await launch_row(stack, launch_id)
    assert launch.review_channel_id and launch.review_ts, "the review message was not recorded"
    found = [m for m in stack.standin.messages(launch.review_channel_id) if m["ts"] == launch.review_ts]
    assert found, "the review message is not in its channel"
    return found[0]


async def review_shows(stack: Stack, launch_id: int, text: str, timeout: float = 10) -> str:
    """Wait until this launch's review message (as updated in place) shows text; its rendering."""
    shown = ""

    async def check() -> bool:
        nonlocal shown
        shown = render_blocks((await review_msg(stack, launch_id))["blocks"])
        return text in shown

    await eventually(check, timeout)
    return shown


async def tasks_of(stack: Stack, launch_id: int) -> dict[str, Task]:
    async with stack.db.reader() as session:
        rows = await session.scalars(select(Task).where(Task.launch_id == launch_id))
        return {t.key: t for t in rows}


async def edges_of(stack: Stack, launch_id: int) -> dict[tuple[str, str], Dependency]:
    keys = {t.id: k for k, t in (await tasks_of(stack, launch_id)).items()}
    async with stack.db.reader() as session:
        rows = await session.scalars(select(Dependency).where(Dependency.launch_id == launch_id))
        return {(keys[d.from_task_id], keys[d.to_task_id]): d for d in rows}


async def reviews_of(stack: Stack, launch_id: int) -> list[TaskReview]:
    async with stack.db.reader() as session:
        return list(await session.scalars(select(TaskReview).where(TaskReview.launch_id == launch_id)))


async def audit_count(stack: Stack, action: str, target: str) -> int:
    async with stack.db.reader() as session:
        query = select(func.count(AuditEntry.id)).where(AuditEntry.action == action, AuditEntry.target == target)
        return int(await session.scalar(query) or 0)


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 10) -> None:
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(0.05)


def button(message: dict[str, Any], action_id: str, task_id: int) -> dict[str, Any]:
    return {"message": message, "action_id": action_id, "block_id": f"review_task:{task_id}"}


async def make_admin(stack: Stack, user_id: str) -> None:
    scope = Scope(stack.standin.team_id)
    async with stack.db.session() as session:
        user = await WorkspaceRepository(session, scope).ensure_user(user_id)
        user.role = Role.ADMIN


# --- scenarios ---------------------------------------------------------------------------------------------


async def test_plan_posts_one_review_in_its_thread_and_holds_back_open_tasks(stack: Stack) -> None:
    view = await open_brief_modal(stack)
    name = f"Reviewed {stack.backend}"
    await stack.slack.submit_view(PM, view, brief_values(name))
    await stack.settle()
    async with stack.db.reader() as session:
        launch = await session.scalar(select(Launch).where(Launch.name == name))
    assert launch is not None and launch.plan_ts and launch.plan_channel_id == CHANNEL
    tasks = await tasks_of(stack, launch.id)
    flagged = [t for t in tasks.values() if t.flags]
    assert flagged and all(t.review_state == ReviewState.OPEN for t in flagged)
    assert all(t.review_state is None for t in tasks.values() if not t.flags)

    review = await review_msg(stack, launch.id)
    assert review["thread_ts"] == launch.plan_ts and launch.review_channel_id == CHANNEL
    text = render_blocks(review["blocks"])
    assert all(t.key in text for t in flagged) and "Approve" in text and len(review["blocks"]) <= 50
    plan = next(m for m in stack.standin.messages(CHANNEL) if m["ts"] == launch.plan_ts)
    plan_text = render_blocks(plan["blocks"])
    assert f"(+{len(flagged)} in review)" in plan_text
    assert all(f"`{t.key}`" not in plan_text for t in flagged)
    async with stack.db.reader() as session:
        syncable = await LaunchRepository(session, Scope(launch.workspace_id)).syncable_tasks(launch.id)
    assert {t.key for t in syncable} == {t.key for t in tasks.values() if not t.flags}
    assert stack.standin.validation_errors == []

    # Deciding the last open flag announces the held-back tasks: the plan message is updated in place.
    for task in flagged:
        await stack.slack.click(PM, **button(await review_msg(stack, launch.id), "review_approve", task.id))
    await stack.standin.wait_for(
        lambda: "in review" not in render_blocks(
            next(m for m in stack.standin.messages(CHANNEL) if m["ts"] == launch.plan_ts)["blocks"]), timeout=10)
    async with stack.db.reader() as session:
        syncable = await LaunchRepository(session, Scope(launch.workspace_id)).syncable_tasks(launch.id)
    assert len(syncable) == len(tasks)


async def test_approve_once_whatever_the_clicks(stack: Stack) -> None:
    tasks = [new_task("A"), new_task("B", flags=("unowned",), owner=None), new_task("C", flags=("low_confidence",)),
             new_task("L", milestone=True)]
    launch_id = await make_launch(stack, f"Approve {stack.backend}", tasks, [("A", "B"), ("B", "L"), ("C", "L")],
                                  ["A", "B", "L"])
    await make_admin(stack, OTHER_ADMIN)
    rows = await tasks_of(stack, launch_id)
    message = await review_msg(stack, launch_id)
    assert "Approve all on this page" in render_blocks(message["blocks"])

    calls_before = len(stack.standin.calls)
    stack.standin.slow_next("chat.update", 0.5)  # a slow Slack: had the app called it before its ack, the ack waits
    ack = await stack.slack.click(PM, **button(message, "review_approve", rows["B"].id))
    assert ack.status == 200 and ack.elapsed_ms < 500
    await eventually(lambda: _state_is(stack, launch_id, "B", ReviewState.APPROVED))
    updated = await review_shows(stack, launch_id, "Approved by")
    assert "1 approved" in updated
    assert [c.method for c in stack.standin.calls[calls_before:] if c.at < ack.acked_at] == []
    assert await audit_count(stack, "review.approved", f"task:{rows['B'].id}") == 1

    # A replay of the same click (the old message, as a double click sends it) and a second admin: one decision.
    for person in (PM, OTHER_ADMIN):
        before = len(stack.standin.ephemerals(person))
        await stack.slack.click(person, **button(message, "review_approve", rows["B"].id))
        await stack.standin.wait_for(lambda p=person, b=before: len(stack.standin.ephemerals(p)) > b)
        assert "Already approved by <@U100>" in stack.standin.ephemerals(person)[-1]["text"]

    # Two reviewers at once on C: one decision, and the other is told.
    before = {p: len(stack.standin.ephemerals(p)) for p in (PM, OTHER_ADMIN)}
    await asyncio.gather(*(stack.slack.click(p, **button(message, "review_approve", rows["C"].id))
                           for p in (PM, OTHER_ADMIN)))
    await stack.standin.wait_for(
        lambda: sum(len(stack.standin.ephemerals(p)) - n for p, n in before.items()) >= 1, timeout=10)
    told = [e["text"] for p, n in before.items() for e in stack.standin.ephemerals(p)[n:]]
    assert len(told) == 1 and told[0].startswith("Already approved by <@")
    decisions = await reviews_of(stack, launch_id)
    assert sorted(d.task_key for d in decisions) == ["B", "C"]
    assert await audit_count(stack, "review.approved", f"task:{rows['C'].id}") == 1


async def _state_is(stack: Stack, launch_id: int, key: str, state: str | None) -> bool:
    task = (await tasks_of(stack, launch_id)).get(key)
    return task is not None and task.review_state == state


async def test_reject_reconnects_around_the_task_and_recomputes(stack: Stack) -> None:
    tasks = [new_task("A"), new_task("X", 1.0), new_task("B", 10.0, flags=("odd_duration",)), new_task("C"),
             new_task("D", 1.0), new_task("L", milestone=True)]
    edges = [("A", "B"), ("X", "B"), ("B", "C"), ("B", "D"), ("A", "C"), ("C", "L"), ("D", "L")]
    launch_id = await make_launch(stack, f"Reject {stack.backend}", tasks, edges, ["A", "B", "C", "L"])
    rows = await tasks_of(stack, launch_id)
    message = await review_msg(stack, launch_id)

    await stack.slack.click(PM, **button(message, "review_reject", rows["B"].id))
    await eventually(lambda: _gone(stack, launch_id, "B"))
    await eventually(lambda: _analysed(stack, launch_id, 1))  # the recompute runs after the decision, as a job
    found = await edges_of(stack, launch_id)
    assert set(found) == {("A", "C"), ("A", "D"), ("X", "C"), ("X", "D"), ("C", "L"), ("D", "L")}
    assert {pair for pair, d in found.items() if d.source == RECONNECTED} == {("A", "D"), ("X", "C"), ("X", "D")}
    assert found[("A", "C")].source == "template" and all(d.kind == "blocks" for d in found.values())
    launch = await launch_row(stack, launch_id)
    assert launch.critical_path == ["A", "C", "L"] and launch.critical_path_days == 4.0
    assert (await tasks_of(stack, launch_id))["D"].slack_days == 1.0
    [decision] = await reviews_of(stack, launch_id)
    assert (decision.task_key, decision.decision, decision.decided_by) == ("B", ReviewState.REJECTED, PM)
    assert await audit_count(stack, "review.rejected", f"task:{rows['B'].id}") == 1
    await review_shows(stack, launch_id, "Rejected and removed")

    before = len(stack.standin.ephemerals(PM))
    await stack.slack.click(PM, **button(message, "review_reject", rows["B"].id))
    await stack.standin.wait_for(lambda: len(stack.standin.ephemerals(PM)) > before)
    assert "Already rejected by <@U100>" in stack.standin.ephemerals(PM)[-1]["text"]
    assert len(await reviews_of(stack, launch_id)) == 1


async def _analysed(stack: Stack, launch_id: int, changes: int) -> bool:
    """The launch had `changes` analysis-changing decisions and its stored analysis covers them all."""
    launch = await launch_row(stack, launch_id)
    return launch.changes == changes and launch.analyzed_changes == changes


async def _gone(stack: Stack, launch_id: int, key: str) -> bool:
    return key not in await tasks_of(stack, launch_id)


async def test_edit_saves_after_validation(stack: Stack) -> None:
    tasks = [new_task("A"), new_task("X", 1.0), new_task("B", 3.0, flags=("unowned",), owner=None), new_task("C"),
             new_task("L", milestone=True)]
    edges = [("A", "B"), ("B", "C"), ("C", "L"), ("X", "L")]
    launch_id = await make_launch(stack, f"Edit {stack.backend}", tasks, edges, ["A", "B", "C", "L"])
    rows = await tasks_of(stack, launch_id)
    message = await review_msg(stack, launch_id)
    ack = await stack.slack.click(PM, **button(message, "review_edit", rows["B"].id))
    await stack.standin.wait_for(lambda: stack.standin.view_opened_by(ack.trigger_id) is not None)
    view = stack.standin.view_opened_by(ack.trigger_id)
    assert view is not None and view["callback_id"] == "review_edit"

    bad = {"estimate": "0", "due": (TARGET + timedelta(days=3)).isoformat(), "dependencies": ["A", "C"]}
    ack = await stack.slack.submit_view(PM, view, bad)
    assert ack.json["response_action"] == "errors"
    assert set(ack.json["errors"]) == {"estimate", "due", "dependencies"}
    assert "cycle" in ack.json["errors"]["dependencies"] and "target date" in ack.json["errors"]["due"]
    unknown = {"text": {"type": "plain_text", "text": "NOPE-9"}, "value": "NOPE-9"}
    ack = await stack.slack.submit_view(PM, view, {"estimate": "-2", "dependencies": [unknown]})
    assert set(ack.json["errors"]) == {"estimate", "dependencies"} and "NOPE-9" in ack.json["errors"]["dependencies"]
    assert (await tasks_of(stack, launch_id))["B"].review_state == ReviewState.OPEN
    assert await reviews_of(stack, launch_id) == [] and set(await edges_of(stack, launch_id)) == set(edges)

    due = TARGET - timedelta(days=20)
    good = {"title": "Write the API reference", "owner": "U102", "estimate": "4.5", "due": due.isoformat(),
            "dependencies": ["X"]}
    ack = await stack.slack.submit_view(PM, view, good)
    assert ack.status == 200 and not (ack.json or {}).get("errors")
    # Checked before the ack, saved after it; then the recompute runs as a job.
    await eventually(lambda: _state_is(stack, launch_id, "B", ReviewState.EDITED))
    await eventually(lambda: _analysed(stack, launch_id, 1))
    edited = (await tasks_of(stack, launch_id))["B"]
    assert (edited.title, edited.assignee_slack_id, edited.estimate_days, edited.due) == (
        "Write the API reference", "U102", 4.5, due)
    assert edited.review_state == ReviewState.EDITED
    found = await edges_of(stack, launch_id)
    assert {a for a, b in found if b == "B"} == {"X"} and ("B", "C") in found
    launch = await launch_row(stack, launch_id)
    assert launch.critical_path == ["X", "B", "C", "L"] and launch.critical_path_days == 7.5
    assert [d.decision for d in await reviews_of(stack, launch_id)] == [ReviewState.EDITED]
    assert await audit_count(stack, "review.edited", f"task:{edited.id}") == 1
    await review_shows(stack, launch_id, "Edited by")
    assert stack.standin.validation_errors == []


async def test_approve_all_and_reject_all_on_a_page(stack: Stack) -> None:
    keys = [f"P-{n}" for n in range(1, 26)]
    tasks = [new_task(k, flags=("low_confidence",)) for k in keys] + [new_task("L", milestone=True)]
    chain = list(zip(keys, keys[1:], strict=False)) + [(keys[-1], "L")]
    launch_id = await make_launch(stack, f"Pages {stack.backend}", tasks, chain, [*keys, "L"])
    message = await review_msg(stack, launch_id)
    assert len(message["blocks"]) <= 50 and "Page 1 of 3" in render_blocks(message["blocks"])

    await stack.slack.click(PM, message=message, action_id="review_approve_page")
    await eventually(lambda: _count_in(stack, launch_id, ReviewState.APPROVED, 10))
    states = {k: t.review_state for k, t in (await tasks_of(stack, launch_id)).items()}
    assert all(states[f"P-{n}"] == ReviewState.APPROVED for n in range(1, 11))
    assert all(states[f"P-{n}"] == ReviewState.OPEN for n in range(11, 26))

    await stack.slack.click(PM, message=await review_msg(stack, launch_id), action_id="review_page",
                            value=f"{launch_id}:1:1")
    await review_shows(stack, launch_id, "Page 2 of 3 · plan")
    page_two = await review_msg(stack, launch_id)
    assert "`P-11`" in render_blocks(page_two["blocks"]) and "`P-1`" not in render_blocks(page_two["blocks"])

    await stack.slack.click(PM, message=page_two, action_id="review_reject_page")
    await eventually(lambda: _gone(stack, launch_id, "P-20"))
    left = await tasks_of(stack, launch_id)
    assert not any(f"P-{n}" in left for n in range(11, 21)) and "P-21" in left
    assert ("P-10", "P-21") in await edges_of(stack, launch_id)  # the chain closes over the removed run
    assert len(await reviews_of(stack, launch_id)) == 20
    assert stack.standin.validation_errors == []


async def _count_in(stack: Stack, launch_id: int, state: str, wanted: int) -> bool:
    return sum(t.review_state == state for t in (await tasks_of(stack, launch_id)).values()) >= wanted


async def test_members_forged_and_foreign_payloads_change_nothing(stack: Stack) -> None:
    tasks = [new_task("A"), new_task("B", flags=("unowned",), owner=None), new_task("L", milestone=True)]
    launch_id = await make_launch(stack, f"Guarded {stack.backend}", tasks, [("A", "B"), ("B", "L")],
                                  ["A", "B", "L"])
    second_id = await make_launch(stack, f"Second {stack.backend}", tasks, [("A", "B"), ("B", "L")],
                                  ["A", "B", "L"])
    async with stack.db.session() as session:
        session.add(Workspace(id="T0OTHER", name="other"))
    foreign_id = await make_launch(stack, f"Foreign {stack.backend}", tasks, [("A", "B")], ["A", "B"],
                                   team_id="T0OTHER", post=False)
    rows = await tasks_of(stack, launch_id)
    message = await review_msg(stack, launch_id)

    # A member who is neither the PM nor an admin: refused, told why, and the refusal audited.
    before = len(stack.standin.ephemerals(MEMBER))
    await stack.slack.click(MEMBER, **button(message, "review_approve", rows["B"].id))
    await stack.standin.wait_for(lambda: len(stack.standin.ephemerals(MEMBER)) > before)
    assert "Only the launch's PM" in stack.standin.ephemerals(MEMBER)[-1]["text"]
    await eventually(lambda: _denials(stack, f"task:{rows['B'].id}"))

    # Forged values on this launch's message: another workspace's task, another launch's task, a foreign page.
    foreign_task = (await tasks_of(stack, foreign_id))["B"].id
    other_launch_task = (await tasks_of(stack, second_id))["B"].id
    for forged in (foreign_task, other_launch_task):
        before = len(stack.standin.ephemerals(PM))
        await stack.slack.click(PM, **button(_with_value(message, rows["B"].id, str(forged)), "review_approve",
                                             rows["B"].id))
        await stack.standin.wait_for(lambda b=before: len(stack.standin.ephemerals(PM)) > b)
        assert "nothing changed" in stack.standin.ephemerals(PM)[-1]["text"] or \
            "out of date" in stack.standin.ephemerals(PM)[-1]["text"]
    before = len(stack.standin.ephemerals(PM))
    page = _with_value(message, f"{launch_id}:1:0", f"{foreign_id}:1:0")
    await stack.slack.click(PM, message=page, action_id="review_approve_page")
    await stack.standin.wait_for(lambda: len(stack.standin.ephemerals(PM)) > before)
    for launch in (launch_id, second_id, foreign_id):
        assert await reviews_of(stack, launch) == []
        assert (await tasks_of(stack, launch))["B"].review_state == ReviewState.OPEN


def _with_value(message: dict[str, Any], old: int | str, new: str) -> dict[str, Any]:
    return json.loads(json.dumps(message).replace(f'"value": "{old}"', f'"value": "{new}"'))


async def _denials(stack: Stack, target: str) -> bool:
    return await audit_count(stack, "access.denied", target) >= 1


async def test_admins_choose_thread_or_dm(stack: Stack) -> None:
    before = len(stack.standin.ephemerals(MEMBER))
    await stack.slack.slash_command(MEMBER, "/launch", "admin review dm", channel_id=CHANNEL)
    await stack.standin.wait_for(lambda: len(stack.standin.ephemerals(MEMBER)) > before)
    assert "admins" in stack.standin.ephemerals(MEMBER)[-1]["text"]
    before = len(stack.standin.ephemerals(PM))
    await stack.slack.slash_command(PM, "/launch", "admin review dm", channel_id=CHANNEL)
    await stack.standin.wait_for(lambda: len(stack.standin.ephemerals(PM)) > before)
    assert "direct message" in stack.standin.ephemerals(PM)[-1]["text"]
    assert await audit_count(stack, "review.destination_changed", f"workspace:{stack.standin.team_id}") == 1
    try:
        tasks = [new_task("A"), new_task("B", flags=("unowned",), owner=None)]
        launch_id = await make_launch(stack, f"Direct {stack.backend}", tasks, [("A", "B")], ["A", "B"])
        launch = await launch_row(stack, launch_id)
        assert launch.review_channel_id and launch.review_channel_id.startswith("D")
        assert any(m["ts"] == launch.review_ts for m in stack.standin.messages(PM))
    finally:
        async with stack.db.session() as session:
            workspace = await session.get(Workspace, stack.standin.team_id)
            assert workspace is not None
            workspace.review_in = ReviewDestination.THREAD


# --- unit tests --------------------------------------------------------------------------------------------


def test_the_review_message_of_a_300_task_plan_with_50_flags_fits_on_every_page(blockkit_validator) -> None:  # noqa: ANN001
    launch = Launch(id=7, workspace_id="T1", name="L" * 80, created_by=PM, version=2, target_date=TARGET,
                    channel_id=CHANNEL)
    tasks = [Task(id=n, key=f"ENGINEERING-{n}", title="Ship the " + "very " * 60 + f"long task {n}", role="engineer",
                  confidence=0.4, estimate_days=200.0, flags=["low_confidence", "unowned", "odd_duration",
                                                                "cycle_broken", "starts_in_past", "owner_not_in_team"],
                  assignee=None, assignee_slack_id=None, due=TARGET) for n in range(1, 301)]
    decided_at = datetime(2026, 11, 22, 15, 30, tzinfo=UTC)
    states = [ReviewState.OPEN, ReviewState.APPROVED, ReviewState.REJECTED, ReviewState.EDITED]
    items = [
        ReviewItem(key=t.key, title=t.title, task_id=t.id, state=states[n % 4],
                   evidence=flag_evidence(t, [f"ENGINEERING-{k}" for k in range(1, 9)]),
                   estimate_days=t.estimate_days, due=t.due, decided_by=None if n % 4 == 0 else OTHER_ADMIN,
                   decided_at=None if n % 4 == 0 else decided_at)
        for n, t in enumerate(tasks[:50])
    ]
    pages = [review_message(paginate(launch, items, page)) for page in range(5)]
    assert paginate(launch, items, 99).page == 4 and PAGE_SIZE == 10
    for message in pages:
        assert blockkit_validator("message", message) == []
        assert len(message["blocks"]) <= 50
    shown = [b["block_id"].split(":", 1)[1] for m in pages for b in m["blocks"]
             if b.get("block_id", "").startswith("review_item:")]
    assert shown == [i.key for i in items]
    # The edit modal: a text field of keys past 100 tasks, a multi-select below.
    for count in (300, 40):
        view = review_edit_modal(launch, tasks[0], tasks[:count], [t.key for t in tasks[1:6]])
        assert blockkit_validator("modal", view) == []


def test_edit_validation_names_each_field() -> None:
    keys = {"A", "B", "C", "D"}
    blocking = [("A", "B"), ("B", "C"), ("C", "D")]

    def check(**fields: Any) -> ValidEdit | dict[str, str]:
        form = EditForm(**({"title": "Do it", "estimate": "2"} | fields))
        return validate_edit(form, task_key="B", target_date=TARGET, keys=keys, blocking=blocking)

    assert check(dependencies=["a"], due=TARGET.isoformat()) == ValidEdit("Do it", None, 2.0, TARGET, ["A"])
    assert set(check(title="  ", estimate="0")) == {"title", "estimate"}  # type: ignore[arg-type]
    assert "more than 0" in check(estimate="-1")["estimate"]  # type: ignore[index]
    assert "number" in check(estimate="soon")["estimate"]  # type: ignore[index]
    assert "target date" in check(due=(TARGET + timedelta(days=1)).isoformat())["due"]  # type: ignore[index]
    assert "ZZ-1" in check(dependencies=["ZZ-1"])["dependencies"]  # type: ignore[index]
    assert "itself" in check(dependencies=["B"])["dependencies"]  # type: ignore[index]
    assert "cycle" in check(dependencies=["D"])["dependencies"]  # type: ignore[index]
    assert "owner" in check(owner="not-a-user")  # type: ignore[operator]


def test_bypass_pairs_link_each_predecessor_to_each_successor_once() -> None:
    assert bypass_pairs(2, [(1, 2), (3, 2), (2, 4), (2, 5), (1, 4)]) == [(1, 4), (1, 5), (3, 4), (3, 5)]
    assert bypass_pairs(2, [(2, 2), (1, 2)]) == []
    assert parse_page_value("12:3:4") == (12, 3, 4)
    assert parse_page_value("12:x:4") is None and parse_page_value("1:2") is None


@pytest.mark.parametrize("flags", [["low_confidence"], ["something_new"]])
def test_every_flag_has_evidence(flags: list[str]) -> None:
    task = Task(key="A-1", title="t", role="qa", confidence=0.5, estimate_days=0.05, flags=flags)
    assert len(flag_evidence(task)) == 1
