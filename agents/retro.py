"""The post-launch retro: planned against actual dates, lateness, velocity, cycle time and scope creep.

Pure: it reads task rows (or any object with their fields) and computes; nothing is stored or sent.
Dates of completion are UTC days. Velocity counts tasks done per ISO week, per team, over every week
from the team's first to its last completion (weeks with none count as zero). Cycle time is
started_at → completed_at in days, for done tasks that have both; p90 is the nearest-rank percentile.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Protocol

from storage.enums import TaskStatus
from storage.retro_snapshot import (
    ALL_TEAMS,
    AddedTask,
    CycleTime,
    LateTask,
    RetroReport,
    TeamDates,
    TeamLateness,
    TeamVelocity,
    WeekCount,
)


class RetroTask(Protocol):
    key: str
    title: str
    team: str
    status: str
    due: date | None
    started_at: datetime | None
    completed_at: datetime | None
    added_in_version: int


def retro_available(target_date: date, today: date) -> bool:
    """A retro looks back: it opens the day after the target date."""
    return today > target_date


def available_from(target_date: date) -> date:
    return target_date + timedelta(days=1)


def build_retro(name: str, target_date: date, tasks: Sequence[RetroTask]) -> RetroReport:
    done = [t for t in tasks if t.status == TaskStatus.DONE]
    finished = [t for t in done if t.completed_at is not None]
    last = max((_day(t.completed_at) for t in finished), default=None)
    return RetroReport(
        launch_name=name,
        target_date=target_date,
        done=len(done),
        total=len(tasks),
        last_completion=last,
        teams=team_dates(tasks),
        late_by_team=lateness_by_team(done),
        late_tasks=late_tasks(finished),
        velocity=velocity(finished),
        cycle_times=cycle_times(finished),
        scope_creep=scope_creep(tasks),
    )


def team_dates(tasks: Sequence[RetroTask]) -> list[TeamDates]:
    by_team = _by_team(tasks)
    return [
        TeamDates(
            team=team,
            planned_end=max((t.due for t in group if t.due), default=None),
            last_completion=max((_day(t.completed_at) for t in group if t.completed_at), default=None),
            open_tasks=sum(t.status != TaskStatus.DONE for t in group),
        )
        for team, group in by_team.items()
    ]


def is_late(task: RetroTask) -> bool:
    return task.due is not None and task.completed_at is not None and _day(task.completed_at) > task.due


def lateness_by_team(done: Sequence[RetroTask]) -> list[TeamLateness]:
    """Per team: how many of its done tasks were completed after their due date (most late first)."""
    rows = [TeamLateness(team, sum(is_late(t) for t in group), len(group)) for team, group in _by_team(done).items()]
    return sorted(rows, key=lambda r: (-r.late, r.team))


def late_tasks(finished: Sequence[RetroTask]) -> list[LateTask]:
    late = [
        LateTask(t.key, t.title, t.team, t.due, _day(t.completed_at))
        for t in finished
        if is_late(t) and t.due is not None and t.completed_at is not None
    ]
    return sorted(late, key=lambda t: (-t.days_late, t.key))


def velocity(finished: Sequence[RetroTask]) -> list[TeamVelocity]:
    result = []
    for team, group in _by_team(finished).items():
        counts = Counter(_week_start(_day(t.completed_at)) for t in group if t.completed_at)
        first, last = min(counts), max(counts)
        weeks = []
        monday = first
        while monday <= last:
            weeks.append(WeekCount(_iso_week(monday), counts.get(monday, 0)))
            monday += timedelta(days=7)
        result.append(TeamVelocity(team, weeks))
    return result


def cycle_times(finished: Sequence[RetroTask]) -> list[CycleTime]:
    """Median and p90 of started → completed, for all teams and then per team (teams with none left out)."""
    durations: dict[str, list[float]] = defaultdict(list)
    for task in finished:
        if task.started_at is None or task.completed_at is None or task.completed_at < task.started_at:
            continue
        days = (task.completed_at - task.started_at).total_seconds() / 86400
        durations[ALL_TEAMS].append(days)
        durations[task.team].append(days)
    if not durations:
        return []
    order = [ALL_TEAMS] + sorted(team for team in durations if team != ALL_TEAMS)
    return [
        CycleTime(team, len(durations[team]), statistics.median(durations[team]), percentile(durations[team], 90))
        for team in order
    ]


def percentile(values: Iterable[float], rank: float) -> float:
    """Nearest-rank percentile: the smallest value with at least `rank`% of the values at or below it."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    return ordered[max(math.ceil(rank / 100 * len(ordered)), 1) - 1]


def scope_creep(tasks: Sequence[RetroTask]) -> list[AddedTask]:
    added = [AddedTask(t.key, t.title, t.team, t.added_in_version, t.status) for t in tasks if t.added_in_version > 1]
    return sorted(added, key=lambda t: (t.version, t.team, t.key))


def _by_team(tasks: Iterable[RetroTask]) -> dict[str, list[RetroTask]]:
    groups: dict[str, list[RetroTask]] = defaultdict(list)
    for task in tasks:
        groups[task.team].append(task)
    return dict(sorted(groups.items()))


def _day(moment: datetime | None) -> date:
    assert moment is not None
    return moment.date()


def _week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"
