"""Domain events reach people: each kind recorded by its real trigger (plan save, review, a blocked critical task,
the recompute, an OKR check-in or comment, the daily sweep), once, grouped, and delivered under the person's quiet
hours and nudge cap. SQLite, the Slack stand-in and a local SMTP server (tests/notification_support.py)."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from agents.launch_analysis import RefreshOutcome, refresh_analysis
from agents.notification import EventKind
from agents.notification_events import NotificationAudit
from agents.notification_sweep import sweep
from agents.okr_checkin import check_in
from agents.okr_import import import_tree
from agents.okr_objectives import add_comment
from agents.orchestrator import PlanOutcome, plan_launch
from agents.policy import Actor
from agents.review import decide_task
from agents.review_edit import EditForm, save_edit
from agents.task_updates import TaskChange, UpdateOutcome, update_task
from blocks.digest import MAX_EVENTS
from bot.jobs import JobName, job_table
from bot.notification_delivery import deliver_due, render
from bot.scheduler import HOURLY
from storage.audit import AuditEntry
from storage.enums import ReviewState, Role, TaskStatus
from storage.launches import LaunchRepository, NewTask, PlanAnalysis
from storage.models import Launch, Task, utcnow
from storage.notifications import (
    NewNotification,
    Notification,
    NotificationEvent,
    NotificationRepository,
    NotificationStatus,
    Preferences,
    Urgency,
)
from storage.okr_models import KeyResult, Objective
from storage.okrs import OkrRepository
from storage.scope import Scope
from tests.notification_support import WS, World, make_world

PM = "U100"  # New York
TEAM = [("Maya Chen", "pm", "U100"), ("Omar Haddad", "eng_lead", "U101"), ("Lucia Romero", "engineer", "U102"),
        ("Tom Becker", "qa", "U103"), ("Sara Kim", "marketing", "U104")]
BRIEF = ("Ship Smart Search in the web app: engineering builds the search service and the indexing pipeline, QA "
         "runs a regression pass, marketing writes a launch blog post, support writes help center articles.")
ADMIN = Actor(WS, PM, Role.ADMIN)


@pytest.fixture
async def world(tmp_path: Path, blockkit_validator: Any) -> AsyncIterator[World]:
    async for w in make_world(tmp_path, blockkit_validator, "events"):
        yield w


async def planned(world: World, name: str) -> Launch:
    async with world.db.session() as session:
        draft = await LaunchRepository(session, Scope(WS)).create_draft(
            name=name, brief=BRIEF, target_date=date.today() + timedelta(days=100), launch_type="software_release",
            channel_id="C0LAUNCH", created_by=PM, members=TEAM)
    assert await plan_launch(world.db, WS, draft.id) is PlanOutcome.PLANNED
    async with world.db.reader() as session:
        launch = await LaunchRepository(session, Scope(WS)).get(draft.id)
    assert launch is not None
    return launch


async def rows(world: World, kind: EventKind | None = None) -> list[Notification]:
    async with world.db.reader() as session:
        query = select(Notification).order_by(Notification.id)
        if kind is not None:
            query = query.where(Notification.kind == kind)
        return list(await session.scalars(query))


async def tasks_of(world: World, launch_id: int) -> list[Task]:
    async with world.db.reader() as session:
        return await LaunchRepository(session, Scope(WS)).tasks(launch_id)


def events_of(row: Notification) -> list[dict[str, str]]:
    return list(row.payload["events"])


async def test_a_saved_plan_tells_each_owner_once_grouped_per_launch_and_review_decisions_add_to_it(
        world: World) -> None:
    launch = await planned(world, "Smart Search")
    tasks = await tasks_of(world, launch.id)
    announced = Counter(t.assignee_slack_id for t in tasks
                        if t.assignee_slack_id and t.review_state != ReviewState.OPEN)
    waiting = [t for t in tasks if t.review_state == ReviewState.OPEN]
    assert announced and waiting  # the template plan gives work to several people and flags some of it

    assigned = await rows(world, EventKind.TASK_ASSIGNED)
    # One message per person for the whole launch, listing each of their tasks once; flagged ones wait.
    assert Counter({r.recipient: len(events_of(r)) for r in assigned}) == announced
    assert {r.group_key for r in assigned} == {f"launch:{launch.id}:assigned"}
    waiting_keys = {t.key for t in waiting}
    assert not any(e["text"].split(" ")[0] in waiting_keys for r in assigned for e in events_of(r))
    # The PM is told the review waits for them.
    review = await rows(world, EventKind.REVIEW_WAITING)
    assert [(r.recipient, len(events_of(r))) for r in review] == [(PM, 1)]
    assert f"{len(waiting)} flagged task" in events_of(review[0])[0]["text"]

    # The busiest person's message lists their tasks within Slack's limits.
    busiest = max(assigned, key=lambda r: len(events_of(r)))
    message = render(busiest)
    text = message["blocks"][0]["text"]["text"]
    assert len(text) <= 3000 and len(message["blocks"]) == 1
    count = len(events_of(busiest))
    assert count > MAX_EVENTS and f"…and {count - MAX_EVENTS} more" in text and f"{count - 1} related" in text

    # Planning again does nothing (and tells nobody again).
    assert await plan_launch(world.db, WS, launch.id) is PlanOutcome.ALREADY_DONE
    assert len(await rows(world)) == len(assigned) + len(review)

    # An approved flagged task is announced to its owner now; an edit that gives one to someone else tells them.
    first, second = waiting[0], waiting[1]
    assert (await decide_task(world.db, ADMIN, first.id, ReviewState.APPROVED)).outcome.value == "decided"
    new_owner = next(p for _, _, p in TEAM if p not in (PM, second.assignee_slack_id))
    form = EditForm(title=second.title, owner=new_owner, estimate=str(second.estimate_days or 1),
                    due=second.due.isoformat() if second.due else None)
    assert (await save_edit(world.db, ADMIN, second.id, form)).outcome.value == "decided"
    texts = {r.recipient: [e["text"] for e in events_of(r)] for r in await rows(world, EventKind.TASK_ASSIGNED)}
    if first.assignee_slack_id not in (None, PM):
        assert any(t.startswith(f"{first.key} ") for t in texts[first.assignee_slack_id])
    assert any(t.startswith(f"{second.key} ") for t in texts[new_owner])
    if second.assignee_slack_id:
        assert not any(t.startswith(f"{second.key} ") for t in texts.get(second.assignee_slack_id, []))
    assert len(await rows(world, EventKind.TASK_ASSIGNED)) == len(assigned) + (new_owner not in announced)


async def test_a_blocked_critical_task_alerts_the_pm_once_and_late_critical_work_puts_the_launch_at_risk(
        world: World) -> None:
    launch = await planned(world, "Blocked")
    tasks = {t.key: t for t in await tasks_of(world, launch.id)}
    critical = [tasks[k] for k in launch.critical_path
                if not tasks[k].milestone and tasks[k].assignee_slack_id not in (None, PM) and tasks[k].due]
    blocked = critical[0]
    owner = Actor(WS, str(blocked.assignee_slack_id), Role.MEMBER)

    first = await update_task(world.db, owner, blocked.id, TaskChange.BLOCK, reason="waiting for the API keys")
    again = await update_task(world.db, owner, blocked.id, TaskChange.BLOCK, reason="waiting for the API keys")
    assert first.alerted and again.outcome is UpdateOutcome.UNCHANGED and not again.alerted
    alerts = await rows(world, EventKind.CRITICAL_BLOCKED)
    assert [(r.recipient, r.urgency, len(events_of(r))) for r in alerts] == [(PM, Urgency.URGENT, 1)]
    assert "waiting for the API keys" in events_of(alerts[0])[0]["text"]

    # Urgent: due now, not held for grouping; delivered to the PM's DM once.
    report = await deliver_due(world.db, world.sender(), world.email(), WS, utcnow() + timedelta(seconds=1))
    assert report.sent_slack == 1
    dms = [m for m in world.dms(PM) if blocked.key in m["blocks"][0]["text"]["text"]]
    assert len(dms) == 1 and "Blocked on the critical path" in dms[0]["text"]

    # The recompute finds the launch off track, but only because of that block: the PM is not told twice.
    refreshed = await refresh_analysis(world.db, WS, launch.id)
    assert refreshed.health_after == "off_track" and not refreshed.alerted
    planned_health = (await health_log(world, launch.id))[0]  # recorded when the plan was saved
    assert planned_health in ("on_track", "at_risk")
    assert await health_log(world, launch.id) == [planned_health, "off_track"]

    # Unblocked, it is back at risk; then a critical task runs late (a day past its due date) and it is off track
    # again for a reason nobody heard about: the PM is told, urgently, once.
    assert (await update_task(world.db, owner, blocked.id, TaskChange.START)).outcome is UpdateOutcome.UPDATED
    assert not (await refresh_analysis(world.db, WS, launch.id)).alerted
    late = critical[1]
    assert late.due is not None
    other = next(t for t in tasks.values() if t.id not in (blocked.id, late.id) and not t.milestone
                 and t.review_state is None)
    assert (await update_task(world.db, ADMIN, other.id, TaskChange.START)).outcome is UpdateOutcome.UPDATED
    moved = await refresh_analysis(world.db, WS, launch.id, today=late.due + timedelta(days=1))
    assert moved.health_after == "off_track" and moved.alerted
    at_risk = await rows(world, EventKind.LAUNCH_AT_RISK)
    assert [(r.recipient, r.urgency) for r in at_risk] == [(PM, Urgency.URGENT)]
    assert f"is now off track (was {planned_health.replace('_', ' ')})" in events_of(at_risk[0])[0]["text"]
    assert (await refresh_analysis(world.db, WS, launch.id)).outcome is RefreshOutcome.CURRENT
    assert len(await rows(world, EventKind.LAUNCH_AT_RISK)) == 1
    assert len(await rows(world, EventKind.CRITICAL_BLOCKED)) == 1
    assert await health_log(world, launch.id) == [planned_health, "off_track", planned_health, "off_track"]


async def test_a_milestone_done_is_posted_once_in_the_launch_channel(world: World) -> None:
    launch = await planned(world, "Milestones")
    milestones = [t for t in await tasks_of(world, launch.id) if t.milestone]
    assert milestones
    milestone = milestones[0]
    assert (await update_task(world.db, ADMIN, milestone.id, TaskChange.DONE)).outcome is UpdateOutcome.UPDATED
    # Reopened (a tracker moved it back) and done again: the channel heard about it already.
    assert (await update_task(world.db, ADMIN, milestone.id, TaskChange.REOPEN)).outcome is UpdateOutcome.UPDATED
    assert (await update_task(world.db, ADMIN, milestone.id, TaskChange.DONE)).outcome is UpdateOutcome.UPDATED
    posts = await rows(world, EventKind.MILESTONE)
    assert [(r.recipient, r.target) for r in posts] == [("C0LAUNCH", "channel")]
    text = events_of(posts[0])[0]["text"]
    assert text.startswith(":checkered_flag: Milestone reached in Milestones: " + milestone.key)
    assert "1 of " in text
    await deliver_due(world.db, world.sender(), world.email(), WS, utcnow() + timedelta(minutes=10))
    assert [r.status for r in await rows(world, EventKind.MILESTONE)] == [NotificationStatus.SENT]
    posted = [m for m in world.standin.messages("C0LAUNCH") if "Milestone reached" in str(m.get("blocks"))]
    assert len(posted) == 1 and milestone.key in str(posted[0]["blocks"])


async def health_log(world: World, launch_id: int) -> list[str]:
    async with world.db.reader() as session:
        return [a["health"] for a in await session.scalars(select(AuditEntry.after).where(
            AuditEntry.action == NotificationAudit.LAUNCH_HEALTH, AuditEntry.target == f"launch:{launch_id}"
        ).order_by(AuditEntry.id))]


OKR_TREE = {
    "periods": [{"name": "Q3", "start": "2026-07-01", "end": "2026-09-30"}],
    "people": [{"slack_id": "U100", "name": "Maya Chen", "role": "admin"},
               {"slack_id": "U101", "name": "Omar Haddad", "role": "member"},
               {"slack_id": "U102", "name": "Lucia Romero", "role": "member"}],
    "objectives": [
        {"key": "CO-1", "title": "Grow search", "level": "company", "owner": "U100", "period": "Q3",
         "key_results": [
             {"key": "CO-1.1", "title": "Weekly searchers", "owner": "U102", "start": 0, "target": 100},
             {"key": "CO-1.2", "title": "Search latency budget met", "owner": "U101", "start": 0, "target": 10},
         ]},
    ],
}


async def okr_setup(world: World, day: date) -> dict[str, KeyResult]:
    async with world.db.session() as session:
        await import_tree(OkrRepository(session, Scope(WS)), OKR_TREE, day)
    async with world.db.reader() as session:
        return {kr.key: kr for kr in await session.scalars(select(KeyResult))}


async def test_a_check_in_that_puts_a_key_result_at_risk_tells_its_owner_once(world: World) -> None:
    krs = await okr_setup(world, date(2026, 7, 2))
    assert krs["CO-1.1"].status == "on_track"
    late = date(2026, 8, 25)
    async with world.db.session() as session:  # the objective's owner checks in on Lucia's key result
        repo = OkrRepository(session, Scope(WS))
        kr = await session.get(KeyResult, krs["CO-1.1"].id)
        assert kr is not None
        result = await check_in(repo, kr, value=5, author=PM, day=late)
    assert result.status in ("at_risk", "off_track")
    risky = await rows(world, EventKind.KR_AT_RISK)
    assert [(r.recipient, len(events_of(r))) for r in risky] == [("U102", 1)]
    assert "CO-1.1" in events_of(risky[0])[0]["text"] and "Maya Chen" in events_of(risky[0])[0]["text"]
    async with world.db.session() as session:  # still at risk the next day: no new transition, no new notice
        kr = await session.get(KeyResult, krs["CO-1.1"].id)
        assert kr is not None
        await check_in(OkrRepository(session, Scope(WS)), kr, value=6, author=PM, day=late + timedelta(days=1))
        # The owner's own check-in that moves their key result shows them the status: no DM.
        own = await session.get(KeyResult, krs["CO-1.2"].id)
        assert own is not None
        mine = await check_in(OkrRepository(session, Scope(WS)), own, value=0, author="U101", day=late)
        assert mine.status in ("at_risk", "off_track")
    assert len(await rows(world, EventKind.KR_AT_RISK)) == 1


async def test_a_comment_mention_reaches_the_people_named_and_the_owner(world: World) -> None:
    await okr_setup(world, date(2026, 7, 2))
    async with world.db.session() as session:
        repo = OkrRepository(session, Scope(WS))
        objective = await session.scalar(select(Objective).where(Objective.key == "CO-1"))
        assert objective is not None
        await add_comment(repo, objective, "U101", "Can <@U102> look at the latency numbers?")
    mentions = {r.recipient: events_of(r)[0]["text"] for r in await rows(world, EventKind.MENTION)}
    assert set(mentions) == {"U102", PM}
    assert mentions["U102"].startswith("Omar Haddad commented on CO-1") and "mentioned you" in mentions["U102"]
    assert "@Lucia Romero look" in mentions["U102"] and "<@" not in mentions["U102"]
    assert "mentioned you" not in mentions[PM]


def sweep_task(key: str, owner: str, due: date, status: str = TaskStatus.TODO) -> NewTask:
    return NewTask(key=key, title=f"Task {key}", description="", team="Engineering", role="engineer",
                   assignee=owner, assignee_slack_id=owner, estimate_days=1.0, start=None, due=due, priority="P2",
                   confidence=0.9, flags=[], milestone=False, slack_days=0.0)


async def test_the_daily_sweep_uses_each_persons_local_day_and_a_rerun_adds_nothing(world: World) -> None:
    # 02:00 UTC on Tue Mar 10 2026 is 22:00 Mon Mar 9 in New York (U100) and 07:30 Tue Mar 10 in Kolkata (U105).
    now = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
    async with world.db.session() as session:
        launches = LaunchRepository(session, Scope(WS))
        draft = await launches.create_draft(name="Sweep", brief="b", target_date=date(2026, 4, 30),
                                            launch_type="software_release", channel_id=None, created_by=PM,
                                            members=[("Maya Chen", "pm", PM), ("Ravi Patel", "support", "U105")])
        await launches.save_plan(draft.id, [
            sweep_task("NY-1", PM, date(2026, 3, 10)),  # tomorrow in New York
            sweep_task("NY-2", PM, date(2026, 3, 7)),  # overdue in New York, 2 days
            sweep_task("IN-1", "U105", date(2026, 3, 11)),  # tomorrow in Kolkata
            sweep_task("IN-2", "U105", date(2026, 3, 10)),  # today in Kolkata: nothing
            sweep_task("IN-3", "U105", date(2026, 3, 11)),  # done: nothing
        ], [], PlanAnalysis([], 0.0, [], 0.8))
        done = await session.scalar(select(Task).where(Task.key == "IN-3"))
        assert done is not None
        done.status = TaskStatus.DONE
    krs = await okr_setup(world, date(2026, 1, 2))  # a Q3 period: not running in March, so nothing due
    assert krs

    # New York's evening is past its morning: swept. Kolkata's morning has not begun: taken by a later sweep.
    first = await sweep(world.db, WS, now)
    assert (first.due_tomorrow, first.overdue, first.checkin_due) == (1, 1, 0)
    morning = await sweep(world.db, WS, now + timedelta(hours=3))  # 10:30 in Kolkata; 23:00 still Mon in New York
    assert (morning.due_tomorrow, morning.overdue, morning.checkin_due) == (1, 0, 0)
    again = await sweep(world.db, WS, now + timedelta(hours=4))
    assert again.total == 0
    by = {(r.recipient, r.kind): [e["text"] for e in events_of(r)] for r in await rows(world)}
    assert [t.split(" ")[0] for t in by[(PM, EventKind.DUE_TOMORROW)]] == ["NY-1"]
    assert [t.split(" ")[0] for t in by[("U105", EventKind.DUE_TOMORROW)]] == ["IN-1"]
    assert by[(PM, EventKind.OVERDUE)] == ["NY-2 Task NY-2 · Sweep was due Sat Mar 7 (2 days ago) and is still todo."]
    assert len(by) == 3

    # The scheduler asks for it every hour, as a job of its own.
    assert HOURLY["notification_sweep"] is JobName.NOTIFICATION_SWEEP and JobName.NOTIFICATION_SWEEP in job_table()


async def test_check_ins_fall_due_a_week_after_the_last_one_once_a_week(world: World) -> None:
    krs = await okr_setup(world, date(2026, 7, 2))
    async with world.db.session() as session:
        kr = await session.get(KeyResult, krs["CO-1.1"].id)
        assert kr is not None
        await check_in(OkrRepository(session, Scope(WS)), kr, value=20, author="U102", day=date(2026, 7, 20))
    # Wed Jul 29: CO-1.1 last checked in 9 days ago; CO-1.2 never, 28 days into the period.
    now = datetime(2026, 7, 29, 12, 0, tzinfo=UTC)
    report = await sweep(world.db, WS, now)
    assert report.checkin_due == 2
    assert (await sweep(world.db, WS, now + timedelta(days=1))).checkin_due == 0  # same ISO week
    assert (await sweep(world.db, WS, now + timedelta(days=7))).checkin_due == 2  # still due a week on
    due = await rows(world, EventKind.CHECKIN_DUE)
    assert Counter(r.recipient for r in due) == Counter({"U102": 2, "U101": 2})
    texts = {r.recipient: events_of(r)[0]["text"] for r in due}
    assert "the last one was Mon Jul 20" in texts["U102"] and "none yet this period" in texts["U101"]


async def test_quiet_hours_and_the_nudge_cap_still_apply_to_swept_notifications(world: World) -> None:
    now = datetime(2026, 3, 10, 3, 45, tzinfo=UTC)  # 23:45 in New York, 09:15 in Kolkata
    async with world.db.session() as session:
        launches = LaunchRepository(session, Scope(WS))
        draft = await launches.create_draft(name="Quiet", brief="b", target_date=date(2026, 4, 30),
                                            launch_type="software_release", channel_id=None, created_by=PM,
                                            members=[("Maya Chen", "pm", PM), ("Ravi Patel", "support", "U105")])
        await launches.save_plan(draft.id, [sweep_task("Q-1", PM, date(2026, 3, 10)),
                                            sweep_task("Q-2", "U105", date(2026, 3, 11))],
                                 [], PlanAnalysis([], 0.0, [], 0.8))
        repo = NotificationRepository(session, Scope(WS))
        await repo.save_preferences(PM, Preferences(quiet_start=21, quiet_end=7))
    # Ravi had five nudges already today (his local day).
    async with world.db.session() as session:
        repo = NotificationRepository(session, Scope(WS))
        for n in range(5):
            await repo.add(_sent(n, now - timedelta(minutes=30)))
        await session.flush()
        for row in await session.scalars(select(Notification).where(Notification.recipient == "U105")):
            row.status, row.delivered_at = NotificationStatus.SENT, now - timedelta(minutes=20)
    assert (await sweep(world.db, WS, now)).due_tomorrow == 2
    report = await deliver_due(world.db, world.sender(), world.email(), WS, now + timedelta(minutes=5))
    assert (report.deferred, report.held, report.sent_slack) == (1, 1, 0)
    async with world.db.reader() as session:
        swept = {r.recipient: r for r in await session.scalars(select(Notification).where(
            Notification.kind == EventKind.DUE_TOMORROW))}
        seen = len(list(await session.scalars(select(NotificationEvent.id))))
    assert swept[PM].status == NotificationStatus.PENDING
    assert swept[PM].due_at == datetime(2026, 3, 10, 11, 0, tzinfo=UTC)  # 07:00 EDT
    assert swept["U105"].status == NotificationStatus.HELD
    assert seen == 2 and world.dms(PM) == [] and world.dms("U105") == []


def _sent(n: int, at: datetime) -> NewNotification:
    return NewNotification(recipient="U105", kind=EventKind.MENTION, idempotency_key=f"earlier:{n}",
                           payload={"events": [{"kind": "mention", "text": "earlier"}]}, due_at=at, created_at=at)
