"""Launch health: progress, lateness and the state a health card shows."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from storage.enums import TaskStatus
from storage.models import Launch, Task
from storage.snapshots import HealthState, LaunchHealth, TeamProgress


def business_days_between(start: date, end: date) -> int:
    """Weekdays after `start` up to and including `end`; negative when `end` is before `start`."""
    if end < start:
        return -business_days_between(end, start)
    weeks, extra = divmod((end - start).days, 7)
    count = weeks * 5
    for offset in range(1, extra + 1):
        count += (start + timedelta(days=offset)).weekday() < 5
    return count


def launch_health(launch: Launch, tasks: list[Task], today: date) -> LaunchHealth:
    """Progress, the open critical path, overdue and blocked work and the next milestones: one pass, no I/O."""
    open_tasks = [t for t in tasks if t.status != TaskStatus.DONE]
    by_key = {t.key: t for t in tasks}
    teams: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for task in tasks:
        teams[task.team][1] += 1
        teams[task.team][0] += task.status == TaskStatus.DONE
    overdue = sorted((t for t in open_tasks if t.due and t.due < today), key=lambda t: (t.due, t.position))
    on_path = [by_key[k] for k in launch.critical_path if k in by_key]
    critical = {t.key for t in on_path}
    # Blocked work on the critical path first: it moves the launch date.
    blocked = sorted((t for t in open_tasks if t.status == TaskStatus.BLOCKED),
                     key=lambda t: (t.key not in critical, t.due or date.max, t.position))
    milestones = sorted((t for t in open_tasks if t.milestone and t.due), key=lambda t: (t.due, t.position))[
        :3
    ]
    health = LaunchHealth(
        launch=launch,
        state=HealthState.ON_TRACK,
        done=len(tasks) - len(open_tasks),
        total=len(tasks),
        business_days_left=business_days_between(today, launch.target_date),
        by_team=[TeamProgress(team, d, n) for team, (d, n) in sorted(teams.items())],
        # What is left of the critical path: done work no longer holds the launch.
        critical_path=[t for t in on_path if t.status != TaskStatus.DONE],
        overdue=overdue,
        blocked=blocked,
        next_milestones=milestones,
    )
    health.state = _state(launch, health)
    return health


def _state(launch: Launch, health: LaunchHealth) -> HealthState:
    if health.total and health.done == health.total:
        return HealthState.DONE
    critical = {t.key for t in health.critical_path}
    severities = {r.get("severity") for r in launch.risks}
    late_on_critical = any(t.key in critical for t in health.overdue + health.blocked)
    if late_on_critical or "high" in severities:
        return HealthState.OFF_TRACK
    if health.overdue or health.blocked or "medium" in severities:
        return HealthState.AT_RISK
    return HealthState.ON_TRACK
