"""Merging a new plan version into a launch's stored tasks, and the diff people read.

Rules: a task someone already worked on (in progress, blocked, done, or with a start or completion
time) is kept exactly as it is: status, owner, dates. New tasks are matched to stored ones by key and
title, then by title, then (for untouched tasks of the same team) by key; a matched untouched task takes
the new plan's values and keeps its key. New tasks nobody matched are added with the new version
number; untouched tasks the new plan no longer has are removed. Dependencies are rebuilt from the new
plan (plus the old edges of worked-on tasks it no longer has) and the critical path is recomputed over
the remaining work.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from agents import dependency
from agents.executor import new_task
from agents.plan import Edge, EdgeKind, Phase, Plan, PlannedTask, Priority
from storage.enums import TaskStatus
from storage.launches import NewDependency, NewTask
from storage.models import Dependency, Task
from storage.versions import FieldChange, PlanChanges, TaskChange, TaskLine, TaskWrite

WORKED_ON = {TaskStatus.IN_PROGRESS, TaskStatus.BLOCKED, TaskStatus.DONE}
KEY_LIMIT = 32
_NUMBERED = re.compile(r"^(.*-)(\d+)$")


def worked_on(task: Task) -> bool:
    return task.status in WORKED_ON or task.started_at is not None or task.completed_at is not None


@dataclass
class PlanMerge:
    tasks: list[TaskWrite]
    removed_ids: list[int]
    dependencies: list[NewDependency]
    changes: PlanChanges
    critical_path: list[str]
    critical_path_days: float
    slack_days: dict[str, float]


def merge_plan(
    old_tasks: Sequence[Task],
    old_edges: Sequence[Dependency],
    plan: Plan,
    *,
    version: int,
    slack_ids: dict[str, str],
) -> PlanMerge:
    """Merge `plan` (the next version, `version`) into the stored tasks; pure, nothing is written."""
    old = sorted(old_tasks, key=lambda t: t.position)
    matches = match_tasks(old, plan.tasks)
    used_keys = {t.key for t in old}
    final_key: dict[str, str] = {}  # new plan key -> stored key
    writes: list[TaskWrite] = []
    views: list[PlannedTask] = []
    changes = PlanChanges()
    for planned in plan.tasks:
        stored = matches.get(planned.key)
        values = new_task(planned, slack_ids)
        if stored is not None and worked_on(stored):
            final_key[planned.key] = stored.key
            writes.append(TaskWrite(stored.key, stored.id, None, stored.added_in_version))
            views.append(_view_of_row(stored, planned.phase))
        elif stored is not None:
            final_key[planned.key] = stored.key
            writes.append(TaskWrite(stored.key, stored.id, replace(values, key=stored.key), stored.added_in_version))
            views.append(replace(_copy(planned), key=stored.key))
            fields = compare(stored, values)
            if fields:
                changes.changed.append(TaskChange(stored.key, values.title, fields))
        else:
            key = fresh_key(planned.key, used_keys)
            used_keys.add(key)
            final_key[planned.key] = key
            writes.append(TaskWrite(key, None, replace(values, key=key), version))
            views.append(replace(_copy(planned), key=key))
            changes.added.append(_line(values, key))
    matched_ids = {t.id for t in matches.values()}
    removed_ids: list[int] = []
    orphans: dict[int, str] = {}
    for stored in old:
        if stored.id in matched_ids:
            continue
        if worked_on(stored):
            orphans[stored.id] = stored.key
            writes.append(TaskWrite(stored.key, stored.id, None, stored.added_in_version))
            views.append(_view_of_row(stored, Phase.PRE))
            changes.kept.append(TaskLine(stored.key, stored.title, stored.team, stored.assignee,
                                         _iso(stored.due), stored.status))
        else:
            removed_ids.append(stored.id)
            changes.removed.append(TaskLine(stored.key, stored.title, stored.team, stored.assignee, _iso(stored.due)))
    edges = _edges(plan.edges, final_key, old, old_edges, orphans, {w.key for w in writes})
    analysis = dependency.analyze(views, edges)
    return PlanMerge(
        tasks=writes,
        removed_ids=removed_ids,
        dependencies=[
            NewDependency(from_key=e.from_key, to_key=e.to_key, kind=str(e.kind), source=e.source,
                          confidence=e.confidence)
            for e in analysis.edges
        ],
        changes=changes,
        critical_path=analysis.critical_path,
        critical_path_days=analysis.critical_path_days,
        slack_days=dict(analysis.slack),
    )


def match_tasks(old: Sequence[Task], new: Sequence[PlannedTask]) -> dict[str, Task]:
    """New plan key -> the stored task it continues: key and title, then title, then key (untouched, same team)."""
    free = {t.id: t for t in old}
    matches: dict[str, Task] = {}
    by_key = {t.key: t for t in old}

    def take(planned: PlannedTask, stored: Task) -> None:
        matches[planned.key] = stored
        del free[stored.id]

    for planned in new:
        stored = by_key.get(planned.key)
        if stored is not None and _norm(stored.title) == _norm(planned.title):
            take(planned, stored)
    for planned in new:
        if planned.key in matches:
            continue
        same_title = [t for t in free.values() if _norm(t.title) == _norm(planned.title)]
        if same_title:
            take(planned, min(same_title, key=lambda t: t.position))
    for planned in new:
        if planned.key in matches:
            continue
        stored = by_key.get(planned.key)
        if stored is not None and stored.id in free and not worked_on(stored) and stored.team == planned.team:
            take(planned, stored)
    return matches


def compare(stored: Task, values: NewTask) -> tuple[FieldChange, ...]:
    """The fields people care about that differ: title, owner, due date, estimate."""
    pairs = (
        ("title", stored.title, values.title),
        ("owner", stored.assignee or "unassigned", values.assignee or "unassigned"),
        ("due", _iso(stored.due) or "no date", _iso(values.due) or "no date"),
        ("estimate", f"{stored.estimate_days:g}d", f"{values.estimate_days:g}d"),
    )
    return tuple(FieldChange(name, before, after) for name, before, after in pairs if before != after)


def fresh_key(wanted: str, used: set[str]) -> str:
    """`wanted`, or the next free number of its prefix (ENG-12 taken -> ENG-31 when ENG-30 is the highest)."""
    if wanted not in used:
        return wanted
    found = _NUMBERED.match(wanted)
    prefix = found.group(1) if found else f"{wanted[: KEY_LIMIT - 6]}-"
    numbers = [int(m.group(2)) for k in used if (m := _NUMBERED.match(k)) and m.group(1) == prefix]
    number = max(numbers, default=0) + 1
    while f"{prefix}{number}" in used:
        number += 1
    return f"{prefix}{number}"[:KEY_LIMIT]


def _edges(
    planned: Sequence[Edge],
    final_key: dict[str, str],
    old: Sequence[Task],
    old_edges: Sequence[Dependency],
    orphans: dict[int, str],
    keys: set[str],
) -> list[Edge]:
    edges: dict[tuple[str, str], Edge] = {}
    for edge in planned:
        a, b = final_key.get(edge.from_key), final_key.get(edge.to_key)
        if a and b and a != b:
            edges.setdefault((a, b), replace(edge, from_key=a, to_key=b))
    # A kept task the new plan does not know still waits on, and holds up, what it did before.
    by_id = {t.id: t.key for t in old}
    for dep in old_edges:
        if dep.from_task_id not in orphans and dep.to_task_id not in orphans:
            continue
        a, b = by_id.get(dep.from_task_id), by_id.get(dep.to_task_id)
        if a in keys and b in keys and a and b and a != b:
            edges.setdefault((a, b), Edge(a, b, EdgeKind(dep.kind), dep.source, dep.confidence))
    return list(edges.values())


def _view_of_row(task: Task, phase: Phase) -> PlannedTask:
    """A stored task as the critical-path method sees it: done work takes no more time."""
    return PlannedTask(
        key=task.key, title=task.title, description="", team=task.team, role=task.role,
        estimate_days=0.0 if task.status == TaskStatus.DONE else task.estimate_days,
        priority=Priority(task.priority) if task.priority in Priority.__members__ else Priority.P2,
        confidence=task.confidence, milestone=task.milestone, assignee=task.assignee,
        start=task.start, due=task.due, flags=list(task.flags or []), phase=phase,
    )


def _copy(task: PlannedTask) -> PlannedTask:
    return replace(task, flags=list(task.flags))


def _line(values: NewTask, key: str) -> TaskLine:
    return TaskLine(key, values.title, values.team, values.assignee, _iso(values.due))


def _iso(day: Any) -> str | None:
    return day.isoformat() if day is not None else None


def _norm(title: str) -> str:
    return " ".join(title.casefold().split())
