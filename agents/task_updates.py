"""Task updates from Slack: done, in progress, blocked (with a reason).

One short transaction per update: the status change, its audit entry, the launch's analysis marked stale and,
when a task on the critical path (of the last analysis) becomes blocked, the PM's urgent notification. The
critical path, slack and risks are recomputed afterwards, coalesced, by agents/launch_analysis.py (a job), with
`recompute` below. Running an update twice changes nothing the second time and alerts nobody again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from agents import dependency, evaluator, tracker_sync
from agents.access import AuditAction
from agents.launch_turns import launch_turn
from agents.notification_events import notify_critical_blocked, notify_milestone
from agents.orchestrator import brief_of
from agents.plan import Edge, EdgeKind, Phase, PlannedTask, Priority, Risk, Severity
from agents.policy import Action, Actor, Decision, decide
from storage.analysis import AnalysisRepository
from storage.audit import AuditLog
from storage.db import Database
from storage.enums import TaskStatus
from storage.launches import PlanAnalysis
from storage.models import Dependency, Launch, Task, utcnow
from storage.scope import Scope
from storage.task_updates import TaskUpdateRepository

# Run inside the update's transaction after the change (e.g. a tracker marks the status it reported as synced).
ChangeHook = Callable[[AsyncSession, Task], Awaitable[None]]

REASON_LIMIT = 2000
_EDGE_KINDS = {str(kind) for kind in EdgeKind}
_SEVERITY_ORDER = {Severity.HIGH: 0, Severity.MEDIUM: 1, Severity.LOW: 2}


class TaskChange(StrEnum):
    """What a person asks for; each sets one status."""

    DONE = "done"
    START = "start"
    BLOCK = "block"
    REOPEN = "reopen"  # back to to-do (a tracker moved the item back)

    @property
    def status(self) -> TaskStatus:
        return {
            TaskChange.DONE: TaskStatus.DONE,
            TaskChange.START: TaskStatus.IN_PROGRESS,
            TaskChange.BLOCK: TaskStatus.BLOCKED,
            TaskChange.REOPEN: TaskStatus.TODO,
        }[self]


class UpdateOutcome(StrEnum):
    UPDATED = "updated"
    UNCHANGED = "unchanged"  # already so: a double click, a replay, or two people at once
    MISSING = "missing"  # no such task in this workspace
    DENIED = "denied"
    STALE = "stale"  # the task changed in Liftoff after this change was made: the later write wins


@dataclass
class UpdateResult:
    outcome: UpdateOutcome
    task: Task | None = None
    launch: Launch | None = None
    decision: Decision | None = None
    # The task sits on the launch's critical path (as last analysed).
    on_critical_path: bool = False
    # A new PM alert was written to the outbox (a drain should run).
    alerted: bool = False
    # Who to rebuild the Home tab for: the assignee and the PM.
    touched: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Recomputed:
    analysis: PlanAnalysis
    slack_days: dict[str, float]


def apply_change(task: Task, change: TaskChange, reason: str | None, now: datetime) -> bool:
    """Set the task's status fields for `change`; False (and nothing touched) when it is already so."""
    status = change.status
    if change is TaskChange.BLOCK:
        reason = (reason or "").strip()[:REASON_LIMIT] or None
    else:
        reason = None
    if task.status == status and (status != TaskStatus.BLOCKED or task.blocked_reason == reason):
        return False
    if status == TaskStatus.BLOCKED and not reason:
        raise ValueError("a blocked task needs a reason")
    task.status = status
    task.blocked_reason = reason
    if status == TaskStatus.IN_PROGRESS and task.started_at is None:
        task.started_at = now
    task.completed_at = now if status == TaskStatus.DONE else None
    task.updated_at = now
    return True


def planned_task(task: Task, *, launch_key: str | None) -> PlannedTask:
    """A stored task as the dependency and evaluator agents see it: done work takes no more time."""
    done = task.status == TaskStatus.DONE
    return PlannedTask(
        key=task.key,
        title=task.title,
        description=task.description,
        team=task.team,
        role=task.role,
        estimate_days=0.0 if done else task.estimate_days,
        priority=_priority(task.priority),
        confidence=task.confidence,
        milestone=task.milestone,
        assignee=task.assignee,
        start=task.start,
        due=task.due,
        flags=[] if done else list(task.flags or []),
        phase=Phase.LAUNCH if task.key == launch_key else Phase.PRE,
    )


def stored_edges(tasks: Sequence[Task], dependencies: Sequence[Dependency]) -> list[Edge]:
    keys = {t.id: t.key for t in tasks}
    return [
        Edge(keys[d.from_task_id], keys[d.to_task_id], EdgeKind(d.kind), d.source, d.confidence)
        for d in dependencies
        if d.from_task_id in keys and d.to_task_id in keys and d.kind in _EDGE_KINDS
    ]


def _priority(value: str) -> Priority:
    try:
        return Priority(value)
    except ValueError:
        return Priority.P2


def launch_anchor(launch: Launch, tasks: Sequence[Task]) -> str | None:
    """The launch-day milestone: the critical path the pipeline saved ends at it."""
    if not launch.critical_path:
        return None
    last = str(launch.critical_path[-1])
    return last if any(t.key == last and t.milestone for t in tasks) else None


def recompute(
    launch: Launch,
    tasks: Sequence[Task],
    dependencies: Sequence[Dependency],
    today: date,
    other_launches: Sequence[list[PlannedTask]] = (),
) -> Recomputed:
    """Critical path, slack and risks of the work that is left, by the pipeline's own agents."""
    anchor = launch_anchor(launch, tasks)
    planned = [planned_task(t, launch_key=anchor) for t in tasks]
    analysis = dependency.analyze(planned, stored_edges(tasks, dependencies))
    evaluation = evaluator.evaluate(brief_of(launch), planned, analysis, today, other_launches)
    risks = progress_risks(tasks, set(analysis.critical_path), today) + list(evaluation.risks)
    risks.sort(key=lambda r: _SEVERITY_ORDER.get(r.severity, 3))
    return Recomputed(
        analysis=PlanAnalysis(
            critical_path=list(analysis.critical_path),
            critical_path_days=analysis.critical_path_days,
            risks=[r.to_json() for r in risks],
            # The score judges the plan as made; progress does not change it.
            quality_score=launch.quality_score,
        ),
        slack_days=dict(analysis.slack),
    )


def progress_risks(tasks: Sequence[Task], critical: set[str], today: date) -> list[Risk]:
    """Risks that come from how the work is going: blocked and overdue tasks."""
    open_tasks = [t for t in tasks if t.status != TaskStatus.DONE]
    blocked = [t for t in open_tasks if t.status == TaskStatus.BLOCKED]
    risks = []
    blocked_critical = [t for t in blocked if t.key in critical]
    if blocked_critical:
        first = blocked_critical[0]
        evidence = (f"{len(blocked_critical)} blocked task(s) on the critical path, e.g. {first.key} "
                    f"{first.title!r}: {first.blocked_reason or 'no reason given'}")
        risks.append(Risk("blocked_critical_path", Severity.HIGH, evidence))
    elif blocked:
        first = blocked[0]
        evidence = f"{len(blocked)} blocked task(s), e.g. {first.key} {first.title!r}: {first.blocked_reason or '-'}"
        risks.append(Risk("blocked_work", Severity.MEDIUM, evidence))
    overdue = sorted((t for t in open_tasks if t.due and t.due < today), key=lambda t: (t.due, t.position))
    if overdue:
        first = overdue[0]
        late_critical = any(t.key in critical for t in overdue)
        evidence = (f"{len(overdue)} open task(s) past their due date, e.g. {first.key} {first.title!r} "
                    f"due {first.due.isoformat() if first.due else '-'} ({first.assignee or 'unassigned'})")
        risks.append(Risk("overdue_work", Severity.HIGH if late_critical else Severity.MEDIUM, evidence))
    return risks


async def update_task(
    db: Database, actor: Actor, task_id: int, change: TaskChange, *, reason: str | None = None,
    changed_at: datetime | None = None, on_change: ChangeHook | None = None,
) -> UpdateResult:
    """Apply one change to one task, as `actor`, in one short transaction (policy checked inside it).

    The launch's analysis is only marked stale here: the caller enqueues the recompute after the commit
    (agents/launch_analysis.py). The PM alert goes by the critical path of the last analysis.
    `changed_at` (a change made elsewhere, e.g. in a tracker): last write wins, so a task changed in Liftoff
    after it stays as it is (STALE); applied, the change carries that time. `on_change` runs in the transaction.
    """
    scope = Scope(actor.workspace_id, actor.user_id)
    async with db.reader() as session:
        launch_id = await TaskUpdateRepository(session, scope).launch_of_task(task_id)
    if launch_id is None:
        return UpdateResult(UpdateOutcome.MISSING, decision=decide(actor, Action.TASK_UPDATE))
    async with launch_turn(db, actor.workspace_id, launch_id), db.session() as session:
        found = await TaskUpdateRepository(session, scope).lock_for_update(task_id)
        if found is None:
            return UpdateResult(UpdateOutcome.MISSING, decision=decide(actor, Action.TASK_UPDATE))
        task, launch = found.task, found.launch
        decision = decide(actor, Action.TASK_UPDATE, launch=launch, task=task)
        if not decision.allowed:
            return UpdateResult(UpdateOutcome.DENIED, task, launch, decision)
        touched = [p for p in dict.fromkeys([task.assignee_slack_id, launch.created_by]) if p]
        on_path = task.key in launch.critical_path
        before = _state(task)
        was_blocked = task.status == TaskStatus.BLOCKED
        if changed_at is not None and task.updated_at is not None and task.updated_at > changed_at:
            return UpdateResult(UpdateOutcome.STALE, task, launch, decision, on_critical_path=on_path,
                                touched=touched)
        if not apply_change(task, change, reason, changed_at or utcnow()):
            return UpdateResult(UpdateOutcome.UNCHANGED, task, launch, decision, on_critical_path=on_path,
                                touched=touched)
        await AuditLog(session, scope).append(
            actor=actor.user_id, action=AuditAction.TASK_UPDATED, target=f"task:{task.id}",
            before=before, after=_state(task), note=f"{launch.name} {task.key}",
        )
        await AnalysisRepository(session, scope).mark_stale(launch.id)
        await tracker_sync.queue_task(session, scope, launch.id, task.id)
        if on_change is not None:
            await on_change(session, task)
        result = UpdateResult(UpdateOutcome.UPDATED, task, launch, decision, on_critical_path=on_path,
                              touched=touched)
        if task.status == TaskStatus.BLOCKED and not was_blocked and on_path:
            # An urgent notification to the PM, once per blocked event (agents/notification_events.py).
            result.alerted = await notify_critical_blocked(session, scope, launch, task)
        if task.status == TaskStatus.DONE and task.milestone and before["status"] != TaskStatus.DONE:
            done, total = await TaskUpdateRepository(session, scope).progress(launch.id)
            await notify_milestone(session, scope, launch, task, done=done, total=total)
        return result


def _state(task: Task) -> dict[str, object]:
    return {
        "status": task.status,
        "blocked_reason": task.blocked_reason,
        "started_at": task.started_at.isoformat() if task.started_at else None,
        "completed_at": task.completed_at.isoformat() if task.completed_at else None,
    }
