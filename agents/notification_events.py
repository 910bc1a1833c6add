"""Domain events turned into notifications, each in the transaction of the change that causes it.

The callers (plan save, re-plan, review, task updates, the launch recompute, OKR check-ins and comments) hand
over their rows; this module writes the event's text and key and calls `notify`, which records it (a repeated
key does nothing) and groups related events. The daily sweep (due tomorrow, overdue, check-in due) lives in
agents/notification_sweep.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from agents.health import launch_health
from agents.notification import DomainEvent, EventKind, is_person, notify
from agents.notification_text import event_text, plain_mentions
from agents.plan import Severity
from storage.audit import AuditLog
from storage.enums import ReviewState, TaskStatus
from storage.models import Launch, Task
from storage.notification_sources import NotificationSources
from storage.okr_enums import LIFTOFF_AUTHOR, OkrStatus
from storage.okr_models import KeyResult, Objective, OkrComment
from storage.scope import Scope
from storage.snapshots import HealthState, LaunchHealth

LIFTOFF = "liftoff"
# How bad a state is, for "moved into at risk": only a move to a worse risk state notifies.
_LAUNCH_RISK = {HealthState.AT_RISK: 1, HealthState.OFF_TRACK: 2}
_KR_RISK = {OkrStatus.AT_RISK: 1, OkrStatus.OFF_TRACK: 2}
BLOCKED_CRITICAL_RISK = "blocked_critical_path"  # the risk code agents/task_updates.progress_risks gives a block


class NotificationAudit(StrEnum):
    LAUNCH_HEALTH = "launch.health_changed"  # after: {"health": state}; the last one is the launch's known health
    SWEPT = "notifications.swept"


def assigned_group(launch_id: int) -> str:
    """All of one launch's assignments to one person within the grouping window make one message."""
    return f"launch:{launch_id}:assigned"


async def notify_assignments(session: AsyncSession, scope: Scope, launch: Launch, tasks: Iterable[Task],
                             before: Mapping[int, str | None] | None = None, *, actor: str | None = None) -> int:
    """TASK_ASSIGNED for each task whose owner is new (not `before[task.id]`): one event per (task, assignee,
    plan version). Tasks still waiting for their review are announced when it is decided. Returns how many."""
    before = before or {}
    made = 0
    for task in tasks:
        who = task.assignee_slack_id
        if not is_person(who) or who == before.get(task.id) or who == actor:
            continue
        if task.status == TaskStatus.DONE or task.review_state == ReviewState.OPEN:
            continue
        assert who is not None
        event = DomainEvent(
            EventKind.TASK_ASSIGNED, f"assigned:{task.id}:{who}:v{launch.version}",
            event_text(EventKind.TASK_ASSIGNED, task=task, launch=launch), recipient=who,
            group=assigned_group(launch.id), pm=launch.created_by, channel=launch.channel_id, launch_id=launch.id)
        made += await notify(session, scope, event) is not None
    return made


async def notify_review_waiting(session: AsyncSession, scope: Scope, launch: Launch, opened: int) -> bool:
    """REVIEW_WAITING to the launch's PM: this version's flagged tasks wait for a decision."""
    if opened <= 0 or not is_person(launch.created_by):
        return False
    event = DomainEvent(
        EventKind.REVIEW_WAITING, f"review:{launch.id}:v{launch.version}",
        event_text(EventKind.REVIEW_WAITING, launch=launch, opened=opened), recipient=launch.created_by,
        group=f"launch:{launch.id}:review", pm=launch.created_by, channel=launch.channel_id, launch_id=launch.id)
    return await notify(session, scope, event) is not None


async def notify_critical_blocked(session: AsyncSession, scope: Scope, launch: Launch, task: Task) -> bool:
    """CRITICAL_BLOCKED (urgent) to the PM; once per blocked event (the moment the task became blocked)."""
    assert task.updated_at is not None
    event = DomainEvent(
        EventKind.CRITICAL_BLOCKED, f"blocked:{task.id}:{task.updated_at.isoformat()}",
        event_text(EventKind.CRITICAL_BLOCKED, launch=launch, task=task, owner=task.assignee),
        recipient=launch.created_by, group=f"launch:{launch.id}:blocked", pm=launch.created_by,
        channel=launch.channel_id, launch_id=launch.id)
    return await notify(session, scope, event) is not None


async def notify_milestone(session: AsyncSession, scope: Scope, launch: Launch, task: Task, *, done: int,
                           total: int) -> bool:
    """MILESTONE, a post in the launch channel, once per milestone task (a milestone reopened and done again
    is not announced twice). Nothing without a launch channel."""
    if not task.milestone or not launch.channel_id:
        return False
    event = DomainEvent(
        EventKind.MILESTONE, f"milestone:{task.id}",
        event_text(EventKind.MILESTONE, launch=launch, task=task, owner=task.assignee, done=done, total=total),
        recipient=launch.channel_id, group=f"launch:{launch.id}:milestone", pm=launch.created_by,
        channel=launch.channel_id, launch_id=launch.id)
    return await notify(session, scope, event) is not None


async def record_plan_health(session: AsyncSession, scope: Scope, launch: Launch, tasks: list[Task],
                             today: date | None = None) -> None:
    """A saved plan's health, as the starting point of later transitions (no notification: the PM sees the plan)."""
    state = launch_health(launch, tasks, today or date.today()).state
    known = await _known_health(session, scope, launch)
    if known != state:
        await _audit_health(session, scope, launch, known, state)


async def launch_health_moved(session: AsyncSession, scope: Scope, launch: Launch, computed_before: HealthState,
                              health: LaunchHealth, covered: int) -> bool:
    """After a recompute: record a health change since the last known one and, when it moved into at risk or
    off track (or from at risk to off track), tell the PM (urgent). Once per transition. True when notified.

    A move to off track that blocked critical-path tasks alone explain is not announced again: each of those
    already sent the PM an urgent CRITICAL_BLOCKED alert."""
    after = health.state
    before = await _known_health(session, scope, launch) or computed_before
    if after == before:
        return False
    await _audit_health(session, scope, launch, before, after)
    if _LAUNCH_RISK.get(after, 0) <= _LAUNCH_RISK.get(before, 0) or _only_blocked_critical_path(launch, health):
        return False
    why = next((str(r.get("evidence") or "") for r in launch.risks if r.get("evidence")), "")
    event = DomainEvent(
        EventKind.LAUNCH_AT_RISK, f"launch-health:{launch.id}:{covered}:{after}",
        event_text(EventKind.LAUNCH_AT_RISK, launch=launch, before=before, after=after, why=why),
        recipient=launch.created_by, group=f"launch:{launch.id}:health", pm=launch.created_by,
        channel=launch.channel_id, launch_id=launch.id)
    return await notify(session, scope, event) is not None


def _only_blocked_critical_path(launch: Launch, health: LaunchHealth) -> bool:
    """Off track only because critical-path tasks are blocked: no late critical work, no other high risk."""
    if health.state != HealthState.OFF_TRACK:
        return False
    critical = {t.key for t in health.critical_path}
    if not any(t.key in critical for t in health.blocked) or any(t.key in critical for t in health.overdue):
        return False
    return all(r.get("code") == BLOCKED_CRITICAL_RISK for r in launch.risks if r.get("severity") == Severity.HIGH)


async def _known_health(session: AsyncSession, scope: Scope, launch: Launch) -> HealthState | None:
    last = await NotificationSources(session, scope).last_audited(NotificationAudit.LAUNCH_HEALTH,
                                                                  f"launch:{launch.id}")
    value = last.get("health") if isinstance(last, dict) else None
    return HealthState(value) if value in HealthState._value2member_map_ else None


async def _audit_health(session: AsyncSession, scope: Scope, launch: Launch, before: HealthState | None,
                        after: HealthState) -> None:
    await AuditLog(session, scope).append(
        actor=LIFTOFF, action=NotificationAudit.LAUNCH_HEALTH, target=f"launch:{launch.id}",
        before={"health": before} if before else None, after={"health": after}, note=launch.name)


async def notify_key_result_risk(session: AsyncSession, scope: Scope, kr: KeyResult, before: str, after: str,
                                 *, checkin_id: int, author: str, value: float) -> bool:
    """KR_AT_RISK to the owner when a check-in (or a rollup from a source) moves the key result into at risk or
    off track. The owner's own check-in tells them already (its reply shows the status)."""
    if _KR_RISK.get(after, 0) <= _KR_RISK.get(before, 0):  # str keys: a StrEnum hashes as its value
        return False
    if author == kr.owner_id or not is_person(kr.owner_id):
        return False
    who = author if author == LIFTOFF_AUTHOR else (await NotificationSources(session, scope).names({author})).get(
        author, author)
    event = DomainEvent(
        EventKind.KR_AT_RISK, f"kr-risk:{kr.id}:{after}:c{checkin_id}",
        event_text(EventKind.KR_AT_RISK, kr=kr, before=before, after=after, author=who, value=f"{value:g}"),
        recipient=kr.owner_id, group=f"kr:{kr.id}:risk")
    return await notify(session, scope, event) is not None


async def notify_comment(session: AsyncSession, scope: Scope, objective: Objective, comment: OkrComment,
                         people: list[str]) -> int:
    """MENTION to each person a comment names (and the objective's owner), through the notification agent."""
    names = await NotificationSources(session, scope).names({comment.author, *comment.mentions})
    text = plain_mentions(comment.text, names)
    author = names.get(comment.author, comment.author)
    made = 0
    for person in people:
        if not is_person(person):
            continue
        event = DomainEvent(
            EventKind.MENTION, f"comment:{comment.id}:{person}",
            event_text(EventKind.MENTION, author=author, objective=objective, text=text,
                       mentioned=person in comment.mentions),
            recipient=person, group=f"objective:{objective.id}:comments")
        made += await notify(session, scope, event) is not None
    return made
