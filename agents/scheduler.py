"""Backward scheduling on business days (Mon-Fri).

Work is placed as late as it can go: each task is due the business day before its earliest successor
starts, tasks with no successor are due on the target date, and the launch-day milestone sits on the
target date. Work that follows the launch milestone (launch-day and post-launch tasks) is scheduled
forward from the target date. A task is counted in whole business days; a zero-length milestone is a
point at the start of its day, so its predecessors finish the day before and its successors may start
on the same day.

With resource levelling on (the default), a task whose owner is already fully booked on those days
moves earlier (later, for post-launch work) to the nearest days the owner has free, but never before
today: a plan that needs someone at 300% in launch week is not a plan.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable
from datetime import date, timedelta

from agents.plan import Edge, EdgeKind, Phase, PlannedTask

STARTS_IN_PAST = "starts_in_past"
# How far levelling may move a task away from its ideal days, in business days.
MAX_LEVELLING_SHIFT = 40
_DAY_CAPACITY = 1.0
# A Monday long ago: business-day numbers count from it, so date <-> number is plain arithmetic.
_EPOCH = date(2000, 1, 3)


def to_business_day(day: date) -> int:
    """The business-day number of a date; a Saturday or Sunday counts as the Friday before."""
    weeks, weekday = divmod((day - _EPOCH).days, 7)
    return weeks * 5 + min(weekday, 4)


def from_business_day(number: int) -> date:
    weeks, weekday = divmod(number, 5)
    return _EPOCH + timedelta(days=weeks * 7 + weekday)


def is_business_day(day: date) -> bool:
    return day.weekday() < 5


def business_days_between(start: date, end: date) -> int:
    """Business days from `start` (counted if it is one) up to but not including `end`."""
    first = to_business_day(start) + (0 if is_business_day(start) else 1)
    last = to_business_day(end) - (0 if is_business_day(end) else -1)
    return max(0, last - first)


def slots(task: PlannedTask) -> int:
    """Whole business days a task occupies on the calendar (0 for a milestone)."""
    if task.milestone or task.estimate_days <= 0:
        return 0
    return max(1, math.ceil(task.estimate_days - 1e-9))


def gap_after(task: PlannedTask) -> int:
    """Business days between a task's due day and its successor's start: a milestone needs none."""
    return 0 if slots(task) == 0 else 1


def blocking_pairs(edges: Iterable[Edge], keys: set[str]) -> list[tuple[str, str]]:
    return [
        (e.from_key, e.to_key)
        for e in edges
        if e.kind == EdgeKind.BLOCKS and e.from_key in keys and e.to_key in keys and e.from_key != e.to_key
    ]


def topological_order(keys: list[str], pairs: list[tuple[str, str]]) -> list[str]:
    """Kahn's order, ties broken by the tasks' listed order; tasks left in a cycle come last."""
    position = {k: i for i, k in enumerate(keys)}
    indegree = dict.fromkeys(keys, 0)
    successors: dict[str, list[str]] = {k: [] for k in keys}
    for a, b in pairs:
        successors[a].append(b)
        indegree[b] += 1
    ready = [(position[k], k) for k in keys if indegree[k] == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, key = heapq.heappop(ready)
        order.append(key)
        for nxt in successors[key]:
            indegree[nxt] -= 1
            if indegree[nxt] == 0:
                heapq.heappush(ready, (position[nxt], nxt))
    if len(order) < len(keys):
        placed = set(order)
        order.extend(k for k in keys if k not in placed)
    return order


def launch_milestone(tasks: list[PlannedTask]) -> PlannedTask | None:
    """The launch-day milestone: a milestone in the launch phase (the last one listed, if several)."""
    found = [t for t in tasks if t.milestone and t.phase == Phase.LAUNCH]
    return found[-1] if found else None


def _after_launch(tasks: list[PlannedTask], pairs: list[tuple[str, str]], anchor: str | None) -> set[str]:
    """Tasks scheduled forward: everything reachable from the launch milestone, plus unlinked post work."""
    forward: set[str] = set()
    if anchor is not None:
        successors: dict[str, list[str]] = {}
        for a, b in pairs:
            successors.setdefault(a, []).append(b)
        stack = [anchor]
        while stack:
            for nxt in successors.get(stack.pop(), []):
                if nxt not in forward:
                    forward.add(nxt)
                    stack.append(nxt)
    forward.update(t.key for t in tasks if t.phase == Phase.POST)
    forward.discard(anchor or "")
    return forward


class _Bookings:
    """Effort booked per person per business day, for levelling."""

    def __init__(self) -> None:
        self.booked: dict[tuple[str, int], float] = {}

    def fits(self, person: str, first: int, last: int, per_day: float) -> bool:
        return all(
            self.booked.get((person, d), 0.0) + per_day <= _DAY_CAPACITY + 1e-9
            for d in range(first, last + 1)
        )

    def book(self, person: str, first: int, last: int, per_day: float) -> None:
        for day in range(first, last + 1):
            self.booked[(person, day)] = self.booked.get((person, day), 0.0) + per_day


def _place(task: PlannedTask, ideal_start: int, step: int, floor: int, bookings: _Bookings | None) -> int:
    """The start day for a task: its ideal one, or the nearest (moving by `step`) its owner has free."""
    length = max(slots(task) - 1, 0)
    if bookings is None or not task.assignee or slots(task) == 0 or task.effort_days <= 0:
        return ideal_start
    # Launch-day work stays on launch day even when it overbooks someone: that is the point of the day.
    if task.phase == Phase.LAUNCH:
        bookings.book(task.assignee, ideal_start, ideal_start + length, task.effort_days / (length + 1))
        return ideal_start
    per_day = task.effort_days / (length + 1)
    start = ideal_start
    for _ in range(MAX_LEVELLING_SHIFT + 1):
        if start < floor:
            break
        if bookings.fits(task.assignee, start, start + length, per_day):
            bookings.book(task.assignee, start, start + length, per_day)
            return start
        start += step
    bookings.book(task.assignee, ideal_start, ideal_start + length, per_day)
    return ideal_start


def schedule_backwards(
    tasks: list[PlannedTask],
    edges: list[Edge],
    target_date: date,
    today: date,
    level_resources: bool = True,
) -> None:
    """Set start and due on every task (see the module docstring); flag starts before today."""
    by_key = {t.key: t for t in tasks}
    keys = [t.key for t in tasks]
    pairs = blocking_pairs(edges, set(keys))
    order = topological_order(keys, pairs)
    preds: dict[str, list[str]] = {k: [] for k in keys}
    succs: dict[str, list[str]] = {k: [] for k in keys}
    for a, b in pairs:
        preds[b].append(a)
        succs[a].append(b)

    target = to_business_day(target_date)
    milestone = launch_milestone(tasks)
    anchor = milestone.key if milestone else None
    forward = _after_launch(tasks, pairs, anchor)
    start: dict[str, int] = {}
    due: dict[str, int] = {}
    today_number = to_business_day(today) + (0 if is_business_day(today) else 1)
    bookings = _Bookings() if level_resources else None

    for key in reversed(order):
        if key in forward:
            continue
        task = by_key[key]
        if key == anchor:
            latest = target
        else:
            limits = [start[s] - gap_after(task) for s in succs[key] if s in start]
            latest = min(limits) if limits else target
        length = max(slots(task) - 1, 0)
        start[key] = _place(task, latest - length, -1, today_number, bookings)
        due[key] = start[key] + length

    for key in order:
        if key not in forward:
            continue
        task = by_key[key]
        earliest = [due[p] + gap_after(by_key[p]) for p in preds[key] if p in due]
        # Post-launch work starts the day after launch at the earliest, whatever it hangs off.
        floor = target + 1 if task.phase == Phase.POST else target
        first = max([floor, *earliest])
        start[key] = _place(task, first, 1, first, bookings)
        due[key] = start[key] + max(slots(task) - 1, 0)

    for task in tasks:
        task.start = from_business_day(start[task.key])
        task.due = from_business_day(due[task.key])
        if start[task.key] < today_number and STARTS_IN_PAST not in task.flags:
            task.flags.append(STARTS_IN_PAST)
