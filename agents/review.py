"""The review loop: flagged tasks wait for the launch's PM (or an admin) to approve, reject or edit them.

A saved plan version with flagged tasks opens a review on each and asks for one review message (outbox,
same transaction). Each decision is one TaskReview row, unique per (launch, version, task key), written with
its audit entry under a lock on the task's row (and, for Reject, first the launch's: it changes the graph): a double
click, a replay or two reviewers at once decide once. Reject removes the task, reconnects its predecessors to its
successors and marks the launch's analysis stale; the critical path, slack and risks are recomputed afterwards by
agents/launch_analysis.py (a job the caller enqueues).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from agents.access import AuditAction
from agents.launch_turns import launch_turn
from agents.notification_events import notify_assignments
from agents.plan import EdgeKind
from agents.policy import Action, Actor, Decision, decide
from agents.review_items import paginate, review_items
from storage.analysis import AnalysisRepository
from storage.audit import AuditLog
from storage.db import Database
from storage.enums import ReviewDestination, ReviewState
from storage.launches import LaunchRepository
from storage.models import Dependency, Launch, Task, TaskReview, utcnow
from storage.reviews import ReviewRepository
from storage.scope import Scope

RECONNECT_SOURCE = "review: reconnected around {key}"
LIFTOFF = "liftoff"


class ReviewOutcome(StrEnum):
    DECIDED = "decided"
    ALREADY = "already"  # decided before: a double click, a replay, or another reviewer first
    NOT_OPEN = "not_open"  # never flagged, or decided in an earlier plan version
    NOTHING_OPEN = "nothing_open"  # a page whose tasks are all decided
    STALE = "stale"  # a button from a message that is not this launch's current review
    MISSING = "missing"  # no such task or launch in this workspace
    DENIED = "denied"
    INVALID = "invalid"  # an edit with field errors; nothing saved


@dataclass
class ReviewResult:
    outcome: ReviewOutcome
    launch: Launch | None = None
    decision: Decision | None = None
    target: str = ""  # what a denial's audit entry names
    decided: list[str] = field(default_factory=list)  # task keys decided now
    earlier: TaskReview | None = None
    touched: list[str] = field(default_factory=list)  # whose Home tab to rebuild
    errors: dict[str, str] = field(default_factory=dict)
    # The decision changed the graph: the launch's analysis is stale and a recompute should be enqueued.
    stale: bool = False


# --- decisions -------------------------------------------------------------------------------------------


def parse_page_value(value: str) -> tuple[int, int, int] | None:
    """(launch id, version, page) from a page button's value "launch_id:version:page"."""
    parts = (value or "").split(":")
    if len(parts) != 3 or not all(p.isdigit() and len(p) < 12 for p in parts):
        return None
    launch_id, version, page = (int(p) for p in parts)
    return launch_id, version, page


async def decide_task(
    db: Database, actor: Actor, task_id: int, verdict: ReviewState, *, message_ts: str | None = None
) -> ReviewResult:
    """Approve or reject one flagged task, once. `message_ts` is the message the button was on."""
    assert verdict in (ReviewState.APPROVED, ReviewState.REJECTED)
    scope = Scope(actor.workspace_id, actor.user_id)
    async with db.reader() as session:
        reviews = ReviewRepository(session, scope)
        launch_id = await reviews.launch_of_task(task_id)
        if launch_id is None:  # e.g. the second click on Reject: the task is gone, its decision is not
            return await decided_or_missing(reviews, task_id)
    try:
        async with launch_turn(db, scope.workspace_id, launch_id), db.session() as session:
            return await _decide_task(session, scope, actor, launch_id, task_id, verdict, message_ts)
    except IntegrityError:
        # Another reviewer's decision committed between our check and our insert: theirs stands.
        async with db.reader() as session:
            earlier = await ReviewRepository(session, scope).decision_of_task(task_id)
        return ReviewResult(ReviewOutcome.ALREADY, earlier=earlier)


async def decided_or_missing(reviews: ReviewRepository, task_id: int) -> ReviewResult:
    """For a task that is not there: ALREADY with its decision when a reject removed it, else MISSING."""
    earlier = await reviews.decision_of_task(task_id)
    if earlier is not None:
        return ReviewResult(ReviewOutcome.ALREADY, earlier=earlier)
    return ReviewResult(ReviewOutcome.MISSING)


async def _decide_task(
    session: AsyncSession, scope: Scope, actor: Actor, launch_id: int, task_id: int, verdict: ReviewState,
    message_ts: str | None,
) -> ReviewResult:
    reviews = ReviewRepository(session, scope)
    if verdict == ReviewState.REJECTED:  # a graph change: the launch lock first, then the task's row
        launch = await reviews.lock_launch(launch_id)
        locked = await reviews.lock_tasks(launch_id, [task_id]) if launch is not None else []
    else:  # approve: the task's row is enough (the decision row is unique per task and version)
        locked = await reviews.lock_tasks(launch_id, [task_id])
        launch = await reviews.launch(launch_id) if locked else None
    task = locked[0] if locked else None
    if launch is None or task is None:
        return await decided_or_missing(reviews, task_id)
    target = f"task:{task.id}"
    decision = decide(actor, Action.TASK_REVIEW, launch=launch, task=task)
    if not decision.allowed:
        return ReviewResult(ReviewOutcome.DENIED, launch, decision, target)
    if message_ts and launch.review_ts and message_ts != launch.review_ts:
        return ReviewResult(ReviewOutcome.STALE, launch, decision, target)
    earlier = await reviews.decision(launch.id, launch.version, task.key)
    if earlier is not None:
        return ReviewResult(ReviewOutcome.ALREADY, launch, decision, target, earlier=earlier)
    if task.review_state != ReviewState.OPEN:
        return ReviewResult(ReviewOutcome.NOT_OPEN, launch, decision, target)
    touched = _people(launch, [task])
    await _apply(session, scope, actor, launch, [task], verdict)
    stale = verdict == ReviewState.REJECTED
    if stale:
        await AnalysisRepository(session, scope).mark_stale(launch.id)
    return ReviewResult(ReviewOutcome.DECIDED, launch, decision, target, [task.key], touched=touched, stale=stale)


async def decide_page(
    db: Database, actor: Actor, launch_id: int, version: int, page: int, verdict: ReviewState, *,
    message_ts: str | None = None,
) -> ReviewResult:
    """Approve or reject every open task on one page of the review message."""
    assert verdict in (ReviewState.APPROVED, ReviewState.REJECTED)
    scope = Scope(actor.workspace_id, actor.user_id)
    for attempt in range(2):
        try:
            async with launch_turn(db, scope.workspace_id, launch_id), db.session() as session:
                return await _decide_page(session, scope, actor, launch_id, version, page, verdict, message_ts)
        except IntegrityError:
            # A single-task click on this page committed first; run again without the task it decided.
            if attempt:
                raise
    raise AssertionError("unreachable")


async def _decide_page(
    session: AsyncSession, scope: Scope, actor: Actor, launch_id: int, version: int, page: int,
    verdict: ReviewState, message_ts: str | None,
) -> ReviewResult:
    reviews = ReviewRepository(session, scope)
    rejecting = verdict == ReviewState.REJECTED
    launch = await (reviews.lock_launch(launch_id) if rejecting else reviews.launch(launch_id))
    if launch is None:
        return ReviewResult(ReviewOutcome.MISSING)
    target = f"launch:{launch.id}"
    if version != launch.version or (message_ts and launch.review_ts and message_ts != launch.review_ts):
        return ReviewResult(ReviewOutcome.STALE, launch, target=target)
    items = paginate(launch, await review_items(session, scope, launch), page).items
    order: dict[int, int] = {}  # open task id -> its place on the page
    for item in items:
        if item.state == ReviewState.OPEN and item.task_id:
            order[item.task_id] = len(order)
    locked = await reviews.lock_tasks(launch.id, order)
    tasks = sorted((t for t in locked if t.review_state == ReviewState.OPEN), key=lambda t: order[t.id])
    if not tasks:  # nothing to change, so nothing to allow or deny
        return ReviewResult(ReviewOutcome.NOTHING_OPEN, launch, target=target)
    for task in tasks:
        decision = decide(actor, Action.TASK_REVIEW, launch=launch, task=task)
        if not decision.allowed:
            return ReviewResult(ReviewOutcome.DENIED, launch, decision, target)
    touched = _people(launch, tasks)
    await _apply(session, scope, actor, launch, tasks, verdict)
    if rejecting:
        await AnalysisRepository(session, scope).mark_stale(launch.id)
    return ReviewResult(ReviewOutcome.DECIDED, launch, decision, target, [t.key for t in tasks], touched=touched,
                        stale=rejecting)


async def _apply(
    session: AsyncSession, scope: Scope, actor: Actor, launch: Launch, tasks: list[Task], verdict: ReviewState
) -> None:
    """Record each decision with its audit entry; a reject removes the task and reconnects around it."""
    reviews = ReviewRepository(session, scope)
    audit = AuditLog(session, scope)
    now = utcnow()
    for task in tasks:
        await reviews.record_decision(launch.id, launch.version, task, verdict, actor.user_id, now)
    if verdict == ReviewState.APPROVED:
        for task in tasks:
            task.review_state = ReviewState.APPROVED
            task.updated_at = now
            await audit.append(
                actor=actor.user_id, action=AuditAction.TASK_APPROVED, target=f"task:{task.id}",
                before={"review_state": ReviewState.OPEN}, after={"review_state": ReviewState.APPROVED},
                note=f"{launch.name} v{launch.version} {task.key}",
            )
        await session.flush()
        # Decided, so announced now: each owner hears of their approved tasks, grouped per launch.
        await notify_assignments(session, scope, launch, tasks, actor=actor.user_id)
        return
    snapshots = {task.id: _snapshot(task) for task in tasks}
    reconnected = await reject_tasks(session, scope, launch, tasks)
    for task_id, snapshot in snapshots.items():
        key = snapshot["key"]
        await audit.append(
            actor=actor.user_id, action=AuditAction.TASK_REJECTED, target=f"task:{task_id}",
            before=snapshot,
            after={"review_state": ReviewState.REJECTED, "removed": True,
                   "reconnected": [f"{a}->{b}" for a, b in reconnected.get(str(key), [])]},
            note=f"{launch.name} v{launch.version} {key}",
        )


def _snapshot(task: Task) -> dict[str, object]:
    return {"key": task.key, "title": task.title, "review_state": task.review_state, "assignee": task.assignee,
            "estimate_days": task.estimate_days, "due": task.due.isoformat() if task.due else None,
            "flags": list(task.flags or [])}


def _people(launch: Launch, tasks: Iterable[Task]) -> list[str]:
    return [p for p in dict.fromkeys([*(t.assignee_slack_id for t in tasks), launch.created_by]) if p]


# --- reject: remove and reconnect --------------------------------------------------------------------------


def bypass_pairs(node: int, blocking: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Each predecessor of `node` to each of its successors: what keeps the order once `node` is gone."""
    pairs = list(blocking)
    preds = sorted({a for a, b in pairs if b == node and a != node})
    succs = sorted({b for a, b in pairs if a == node and b != node})
    return [(a, b) for a in preds for b in succs if a != b]


async def reject_tasks(
    session: AsyncSession, scope: Scope, launch: Launch, tasks: list[Task]
) -> dict[str, list[tuple[str, str]]]:
    """Remove each task, reconnecting its predecessors to its successors (no duplicates, no self-loops).

    Returns, per removed key, the edges added (as key pairs). Tasks are removed one after another, so
    rejecting two neighbours links what came before the first to what comes after the second.
    """
    launches = LaunchRepository(session, scope)
    reviews = ReviewRepository(session, scope)
    keys = {t.id: t.key for t in await launches.tasks(launch.id)}
    edges: list[Dependency] = await launches.dependencies(launch.id)
    added: dict[str, list[tuple[str, str]]] = {}
    for task in tasks:
        source = RECONNECT_SOURCE.format(key=task.key)
        by_pair = {(d.from_task_id, d.to_task_id): d for d in edges}
        blocking = [pair for pair, d in by_pair.items() if d.kind == EdgeKind.BLOCKS]
        new_pairs = []
        for pair in bypass_pairs(task.id, blocking):
            existing = by_pair.get(pair)
            if existing is None:
                new_pairs.append(pair)
            elif existing.kind != EdgeKind.BLOCKS:
                existing.kind, existing.source = EdgeKind.BLOCKS, source  # a suggestion becomes the order
        edges = [d for d in edges if task.id not in (d.from_task_id, d.to_task_id)]
        await reviews.remove_task(task)
        edges.extend(await reviews.add_edges(launch.id, new_pairs, kind=EdgeKind.BLOCKS, source=source))
        added[task.key] = [(keys[a], keys[b]) for a, b in new_pairs]
    return added


# --- where review messages go ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SettingChange:
    changed: bool
    message: str
    decision: Decision


async def set_review_destination(db: Database, actor: Actor, value: str) -> SettingChange:
    """`/launch admin review thread|dm`: admins choose where review messages go."""
    decision = decide(actor, Action.WORKSPACE_SETTINGS)
    if not decision.allowed:
        return SettingChange(False, decision.reason, decision)
    try:
        wanted = ReviewDestination(value.strip().lower())
    except ValueError:
        return SettingChange(False, "Usage: `/launch admin review thread` or `/launch admin review dm`.", decision)
    scope = Scope(actor.workspace_id, actor.user_id)
    async with db.session() as session:
        before = await ReviewRepository(session, scope).set_destination(wanted)
        if before == wanted:
            return SettingChange(False, f"Review messages already go {_where(wanted)}; nothing changed.", decision)
        await AuditLog(session, scope).append(
            actor=actor.user_id, action=AuditAction.REVIEW_DESTINATION_CHANGED,
            target=f"workspace:{scope.workspace_id}",
            before={"review_in": str(before)}, after={"review_in": str(wanted)},
        )
    return SettingChange(True, f"From now on, review messages go {_where(wanted)}.", decision)


def _where(destination: ReviewDestination) -> str:
    if destination == ReviewDestination.DM:
        return "to the launch's PM by direct message"
    return "to the launch channel, in the plan's thread"
