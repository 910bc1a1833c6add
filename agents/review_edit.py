"""Edit a flagged task from its review: check the modal's fields, then save them as the task's decision.

Errors are keyed by the modal's field names (title, owner, estimate, due, dependencies) and nothing is saved
while any is left. load_edit and judge_edit answer before the modal's ack, from reads alone; save_edit (after
the ack) checks again under the launch lock, records review_state=edited and a TaskReview row, like approve and
reject, and marks the launch's analysis stale (recomputed afterwards by a job).
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field, replace
from datetime import date

import networkx as nx
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from agents import launch_pii
from agents.access import AuditAction
from agents.guardrail import GuardrailError
from agents.launch_turns import launch_turn
from agents.notification_events import notify_assignments
from agents.plan import EdgeKind
from agents.policy import Action, Actor, Decision, decide
from agents.review import ReviewOutcome, ReviewResult, decided_or_missing
from storage.analysis import AnalysisRepository
from storage.audit import AuditLog
from storage.db import Database
from storage.enums import ReviewState
from storage.launches import LaunchRepository
from storage.models import Dependency, Launch, Task, TaskReview, utcnow
from storage.reviews import ReviewRepository
from storage.scope import Scope
from storage.task_updates import TaskUpdateRepository
from storage.workspaces import WorkspaceRepository

TITLE_MAX = 300
MAX_ESTIMATE_DAYS = 260  # a working year
EDIT_SOURCE = "review: edited by {user}"
_KEY_SEPARATORS = re.compile(r"[\s,;]+")
_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,20}$")


@dataclass
class EditForm:
    """The modal's values as submitted (strings as typed, ids as picked)."""

    title: str = ""
    owner: str | None = None
    estimate: str = ""
    due: str | None = None
    dependencies: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ValidEdit:
    title: str
    owner: str | None
    estimate_days: float
    due: date | None
    predecessors: list[str]


def split_keys(text: str) -> list[str]:
    """Task keys typed into a text field, separated by commas, semicolons or spaces."""
    return [key for key in _KEY_SEPARATORS.split(text or "") if key]


def validate_edit(
    form: EditForm, *, task_key: str, target_date: date, keys: Collection[str], blocking: Iterable[tuple[str, str]]
) -> ValidEdit | dict[str, str]:
    """A ValidEdit, or errors by field. `keys` are the launch's task keys, `blocking` its blocks edges."""
    errors: dict[str, str] = {}
    title = " ".join(form.title.replace("\x00", "").split())
    if not title:
        errors["title"] = "Give the task a title."
    elif len(title) > TITLE_MAX:
        errors["title"] = f"Keep the title under {TITLE_MAX} characters."
    owner = (form.owner or "").strip() or None
    if owner is not None and not _SLACK_USER.match(owner):
        errors["owner"] = "Pick the owner from the list of people."
    estimate = _number(form.estimate)
    if estimate is None:
        errors["estimate"] = "Write the estimate as a number of working days, e.g. 2 or 0.5."
    elif estimate <= 0:
        errors["estimate"] = "The estimate must be more than 0 working days."
    elif estimate > MAX_ESTIMATE_DAYS:
        errors["estimate"] = f"The estimate must be at most {MAX_ESTIMATE_DAYS} working days (a year)."
    due = _date(form.due)
    if form.due and due is None:
        errors["due"] = "Pick a date from the calendar."
    elif due is not None and due > target_date:
        errors["due"] = f"The due date is after the launch's target date ({target_date.isoformat()})."
    predecessors, problem = _predecessors(form.dependencies, task_key, keys, blocking)
    if problem:
        errors["dependencies"] = problem
    if errors:
        return errors
    assert estimate is not None
    return ValidEdit(title=title, owner=owner, estimate_days=round(estimate, 3), due=due, predecessors=predecessors)


def _number(text: str) -> float | None:
    try:
        value = float((text or "").strip().replace(",", "."))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _predecessors(
    wanted: list[str], task_key: str, keys: Collection[str], blocking: Iterable[tuple[str, str]]
) -> tuple[list[str], str | None]:
    """The chosen keys as the launch spells them, or what is wrong: unknown keys, itself, or a cycle."""
    by_upper = {key.upper(): key for key in keys}
    chosen = list(dict.fromkeys(by_upper.get(k.strip().upper(), k.strip()) for k in wanted if k.strip()))
    unknown = [k for k in chosen if k not in keys]
    if unknown:
        shown = ", ".join(unknown[:5]) + ("…" if len(unknown) > 5 else "")
        return chosen, f"No task with the key {shown} in this launch."
    if task_key in chosen:
        return chosen, "A task cannot depend on itself."
    # What the task would wait on must not already wait on the task: drop its own incoming edges and look.
    graph = nx.DiGraph((a, b) for a, b in blocking if b != task_key)
    graph.add_node(task_key)
    downstream = nx.descendants(graph, task_key)
    looping = [k for k in chosen if k in downstream]
    if looping:
        return chosen, f"{looping[0]} already depends on this task, so that would make a cycle."
    return chosen, None


@dataclass(frozen=True)
class EditSubject:
    """What checking an edit reads: the launch, the task, its decision in this version (if any), the graph."""

    launch: Launch
    task: Task
    earlier: TaskReview | None
    edges: list[Dependency]
    key_of: dict[int, str]  # task id -> key, of every task of the launch


@dataclass(frozen=True)
class _Checked:
    """An edit that may be saved, with what saving it needs."""

    decision: Decision
    edit: ValidEdit


async def load_edit(db: Database, workspace_id: str, task_id: int) -> EditSubject | ReviewResult:
    """Before the ack, reads only (no lock, no write): what judge_edit needs, or why there is nothing to edit."""
    async with db.reader() as session:
        return await load_edit_in(session, workspace_id, task_id)


async def load_edit_in(session: AsyncSession, workspace_id: str, task_id: int) -> EditSubject | ReviewResult:
    """load_edit within a session the caller already holds (one connection for the whole request)."""
    scope = Scope(workspace_id)
    found = await TaskUpdateRepository(session, scope).task_with_launch(task_id)
    if found is None:
        return await decided_or_missing(ReviewRepository(session, scope), task_id)
    return await _load(session, scope, found.launch, found.task)


def judge_edit(subject: EditSubject, actor: Actor, form: EditForm) -> ReviewResult | None:
    """None when `actor` may save this edit as it stands; else why not (INVALID: errors by field)."""
    judged = _judge(subject, actor, form)
    return judged if isinstance(judged, ReviewResult) else None


async def save_edit(db: Database, actor: Actor, task_id: int, form: EditForm) -> ReviewResult:
    """Check and save an edit of a flagged task, once; INVALID (nothing saved) with errors by field.

    The launch's analysis is marked stale: the caller enqueues the recompute after the commit.
    """
    scope = Scope(actor.workspace_id, actor.user_id)
    async with db.reader() as session:
        reviews = ReviewRepository(session, scope)
        launch_id = await reviews.launch_of_task(task_id)
        if launch_id is None:
            return await decided_or_missing(reviews, task_id)
    try:
        async with launch_turn(db, scope.workspace_id, launch_id), db.session() as session:
            return await _save_edit(session, scope, actor, launch_id, task_id, form)
    except IntegrityError:
        async with db.reader() as session:
            earlier = await ReviewRepository(session, scope).decision_of_task(task_id)
        return ReviewResult(ReviewOutcome.ALREADY, earlier=earlier)


async def _load(session: AsyncSession, scope: Scope, launch: Launch, task: Task) -> EditSubject:
    launches = LaunchRepository(session, scope)
    earlier = await ReviewRepository(session, scope).decision(launch.id, launch.version, task.key)
    key_of = {t.id: t.key for t in await launches.tasks(launch.id)}
    return EditSubject(launch, task, earlier, await launches.dependencies(launch.id), key_of)


def _judge(subject: EditSubject, actor: Actor, form: EditForm) -> ReviewResult | _Checked:
    launch, task, key_of = subject.launch, subject.task, subject.key_of
    target = f"task:{task.id}"
    decision = decide(actor, Action.TASK_REVIEW, launch=launch, task=task)
    if not decision.allowed:
        return ReviewResult(ReviewOutcome.DENIED, launch, decision, target)
    if subject.earlier is not None:
        return ReviewResult(ReviewOutcome.ALREADY, launch, decision, target, earlier=subject.earlier)
    if task.review_state != ReviewState.OPEN:
        return ReviewResult(ReviewOutcome.NOT_OPEN, launch, decision, target)
    blocking = [(key_of[d.from_task_id], key_of[d.to_task_id]) for d in subject.edges
                if d.kind == EdgeKind.BLOCKS and d.from_task_id in key_of and d.to_task_id in key_of]
    checked = validate_edit(form, task_key=task.key, target_date=launch.target_date, keys=set(key_of.values()),
                            blocking=blocking)
    if not isinstance(checked, ValidEdit):
        return ReviewResult(ReviewOutcome.INVALID, launch, decision, target, errors=checked)
    return _Checked(decision, checked)


async def _save_edit(
    session: AsyncSession, scope: Scope, actor: Actor, launch_id: int, task_id: int, form: EditForm
) -> ReviewResult:
    reviews = ReviewRepository(session, scope)
    launch = await reviews.lock_launch(launch_id)  # an edit changes the graph: one at a time per launch
    locked = await reviews.lock_tasks(launch_id, [task_id]) if launch is not None else []
    if launch is None or not locked:
        return await decided_or_missing(reviews, task_id)
    task = locked[0]
    subject = await _load(session, scope, launch, task)
    found = _judge(subject, actor, form)
    if isinstance(found, ReviewResult):
        return found
    checked, edges, key_of = found.edit, subject.edges, subject.key_of
    target = f"task:{task.id}"
    try:
        # The modal showed the originals this person may see; the stored title holds placeholders again.
        checked = replace(checked, title=await launch_pii.redact_for_launch(session, scope, launch, checked.title))
    except GuardrailError as exc:
        return ReviewResult(ReviewOutcome.INVALID, launch, found.decision, target, errors={"title": str(exc)})
    touched = [p for p in dict.fromkeys([task.assignee_slack_id, checked.owner, launch.created_by]) if p]
    before = _fields(task, [key_of[d.from_task_id] for d in edges if d.to_task_id == task.id
                            and d.kind == EdgeKind.BLOCKS and d.from_task_id in key_of])
    await _apply_fields(session, scope, launch, task, checked)
    id_of = {key: task_id for task_id, key in key_of.items()}
    await _replace_predecessors(session, scope, launch, task, edges, [id_of[k] for k in checked.predecessors],
                                EDIT_SOURCE.format(user=actor.user_id))
    now = utcnow()
    task.review_state, task.updated_at = ReviewState.EDITED, now
    await reviews.record_decision(launch.id, launch.version, task, ReviewState.EDITED, actor.user_id, now)
    # Decided, so announced now: its owner (new or not) hears of it, grouped with the launch's other assignments.
    await notify_assignments(session, scope, launch, [task], actor=actor.user_id)
    await AuditLog(session, scope).append(
        actor=actor.user_id, action=AuditAction.TASK_EDITED, target=target,
        before=before | {"review_state": ReviewState.OPEN},
        after=_fields(task, checked.predecessors) | {"review_state": ReviewState.EDITED},
        note=f"{launch.name} v{launch.version} {task.key}",
    )
    await AnalysisRepository(session, scope).mark_stale(launch.id)
    return ReviewResult(ReviewOutcome.DECIDED, launch, found.decision, target, [task.key], touched=touched,
                        stale=True)


def _fields(task: Task, predecessors: list[str]) -> dict[str, object]:
    return {"title": task.title, "assignee": task.assignee, "assignee_slack_id": task.assignee_slack_id,
            "estimate_days": task.estimate_days, "due": task.due.isoformat() if task.due else None,
            "depends_on": sorted(predecessors)}


async def _apply_fields(session: AsyncSession, scope: Scope, launch: Launch, task: Task, edit: ValidEdit) -> None:
    task.title = edit.title
    task.estimate_days = edit.estimate_days
    task.due = edit.due
    if edit.owner != task.assignee_slack_id:
        task.assignee_slack_id = edit.owner
        task.assignee = await _person_name(session, scope, launch, edit.owner)


async def _person_name(session: AsyncSession, scope: Scope, launch: Launch, slack_id: str | None) -> str | None:
    """The owner's name as the team knows it (their Slack id is what mentions use)."""
    if slack_id is None:
        return None
    for member in launch.members:
        if member.slack_id == slack_id and member.name:
            return member.name
    user = await WorkspaceRepository(session, scope).user(slack_id)
    return user.name if user is not None and user.name else slack_id


async def _replace_predecessors(
    session: AsyncSession, scope: Scope, launch: Launch, task: Task, edges: list[Dependency], wanted: list[int],
    source: str,
) -> None:
    """Make `wanted` exactly the tasks this one waits on (blocks edges); a suggestion picked becomes one."""
    incoming = [d for d in edges if d.to_task_id == task.id]
    for edge in incoming:
        if edge.from_task_id in wanted:
            if edge.kind != EdgeKind.BLOCKS:
                edge.kind, edge.source = EdgeKind.BLOCKS, source
        elif edge.kind == EdgeKind.BLOCKS:
            await session.delete(edge)
    have = {edge.from_task_id for edge in incoming}
    new = [(from_id, task.id) for from_id in wanted if from_id not in have]
    await ReviewRepository(session, scope).add_edges(launch.id, new, kind=EdgeKind.BLOCKS, source=source)
