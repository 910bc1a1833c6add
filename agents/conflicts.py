"""Conflicts in a scheduled plan: order and timeline problems, and people booked over capacity.

Schedule conflicts look at one launch; resource conflicts look across every concurrent launch of a
workspace, because the same person is often on several at once.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from agents.plan import Edge, PlannedTask
from agents.scheduler import (
    blocking_pairs,
    business_days_between,
    from_business_day,
    gap_after,
    is_business_day,
    slots,
    to_business_day,
    topological_order,
)

DUE_BEFORE_PREDECESSOR = "due_before_predecessor"
OUT_OF_ORDER = "out_of_order"
TIMELINE_TOO_SHORT = "timeline_too_short"


@dataclass(frozen=True)
class ScheduleConflict:
    kind: str
    detail: str
    task_key: str | None = None
    predecessor_key: str | None = None
    shortfall_days: float = 0.0


@dataclass
class ResourceConflict:
    """A person booked over capacity in one week, across the launches they are on."""

    person: str
    week_start: date
    booked_days: float
    capacity_days: float
    tasks: list[tuple[int, str]] = field(default_factory=list)  # (launch index, task key)

    @property
    def overbooked_days(self) -> float:
        return round(self.booked_days - self.capacity_days, 2)

    @property
    def launches(self) -> list[int]:
        return sorted({launch for launch, _ in self.tasks})


def schedule_conflicts(
    tasks: list[PlannedTask],
    edges: list[Edge],
    target_date: date,
    today: date,
    critical_path_days: float | None = None,
) -> list[ScheduleConflict]:
    """Tasks due before a predecessor can finish, and a critical path longer than the days left."""
    conflicts: list[ScheduleConflict] = []
    days_left = business_days_between(today, target_date)
    if critical_path_days is not None and math.ceil(critical_path_days - 1e-9) > days_left:
        needed = math.ceil(critical_path_days - 1e-9)
        conflicts.append(
            ScheduleConflict(
                kind=TIMELINE_TOO_SHORT,
                detail=(
                    f"the critical path needs {needed} business days but only {days_left} are left "
                    f"before {target_date.isoformat()}"
                ),
                shortfall_days=float(needed - days_left),
            )
        )
    by_key = {t.key: t for t in tasks}
    keys = [t.key for t in tasks]
    pairs = blocking_pairs(edges, set(keys))
    preds: dict[str, list[str]] = {k: [] for k in keys}
    for a, b in pairs:
        preds[b].append(a)

    # Earliest finish of each task if work started today, in business-day numbers.
    first_day = to_business_day(today) + (0 if is_business_day(today) else 1)
    finish: dict[str, int] = {}
    for key in topological_order(keys, pairs):
        task = by_key[key]
        begin = max([first_day, *(finish[p] + gap_after(by_key[p]) for p in preds[key] if p in finish)])
        finish[key] = begin + max(slots(task) - 1, 0)

    for key in keys:
        task = by_key[key]
        if task.due is None:
            continue
        due = to_business_day(task.due)
        for pred_key in preds[key]:
            pred = by_key[pred_key]
            can_start = finish[pred_key] + gap_after(pred)
            if due < can_start + max(slots(task) - 1, 0):
                conflicts.append(
                    ScheduleConflict(
                        kind=DUE_BEFORE_PREDECESSOR,
                        task_key=key,
                        predecessor_key=pred_key,
                        detail=(
                            f"{key} is due {task.due.isoformat()} but {pred_key} cannot finish before "
                            f"{from_business_day(finish[pred_key]).isoformat()}"
                        ),
                        shortfall_days=float(can_start + max(slots(task) - 1, 0) - due),
                    )
                )
                break
            if pred.due is not None and task.start is not None and task.start < pred.due and gap_after(pred):
                conflicts.append(
                    ScheduleConflict(
                        kind=OUT_OF_ORDER,
                        task_key=key,
                        predecessor_key=pred_key,
                        detail=f"{key} starts {task.start.isoformat()}, before {pred_key} is due {pred.due}",
                    )
                )
                break
    return conflicts


def _week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def resource_conflicts(
    launches: list[list[PlannedTask]], capacity_days_per_week: float = 5
) -> list[ResourceConflict]:
    """Every (person, week) booked over capacity across concurrent launches.

    A task's effort (estimate x effort share) is spread evenly over the business days from its start
    to its due date.
    """
    booked: dict[tuple[str, int], float] = defaultdict(float)
    holders: dict[tuple[str, int], list[tuple[int, str]]] = defaultdict(list)
    for launch_index, tasks in enumerate(launches):
        for task in tasks:
            if not task.assignee or task.start is None or task.due is None or task.effort_days <= 0:
                continue
            first = to_business_day(task.start) + (0 if is_business_day(task.start) else 1)
            last = max(first, to_business_day(task.due))
            per_day = task.effort_days / (last - first + 1)
            week = first // 5
            while week * 5 <= last:
                days = min(last, week * 5 + 4) - max(first, week * 5) + 1
                slot = (task.assignee, week)
                booked[slot] += per_day * days
                holders[slot].append((launch_index, task.key))
                week += 1
    conflicts = [
        ResourceConflict(
            person=person,
            week_start=_week_start(from_business_day(week * 5)),
            booked_days=round(days, 2),
            capacity_days=capacity_days_per_week,
            tasks=holders[(person, week)],
        )
        for (person, week), days in booked.items()
        if days > capacity_days_per_week + 1e-9
    ]
    conflicts.sort(key=lambda c: (c.week_start, c.person))
    return conflicts
