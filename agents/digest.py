"""The weekly digest: when each person's is due (their own timezone, across DST) and what it says.

Due times are pure functions of the person's zone and preferences. The content is built from data loaded once
per workspace (DigestData), so ten thousand digests cost a handful of queries, not ten thousand.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from agents.health import _state as health_state  # the health agent's rule, shared
from agents.notification import DIGEST_KIND, local_instant, zone
from storage.enums import LaunchStatus, TaskStatus
from storage.models import Launch, LaunchMember, Task, User
from storage.notifications import Preferences
from storage.okr_enums import ObjectiveLevel, OkrStatus
from storage.okr_models import KeyResult, Objective
from storage.scope import Scope
from storage.snapshots import HealthState, LaunchHealth

CHECKIN_EVERY = timedelta(days=7)
# How far back a scheduler that was down catches up: a digest missed by more than this waits for next week.
CATCH_UP = timedelta(days=2)


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def digest_key(workspace_id: str, slack_id: str, week: str) -> str:
    return f"{DIGEST_KIND}:{workspace_id}:{slack_id}:{week}"


def due_in_week(monday: date, prefs: Preferences, tz: ZoneInfo) -> datetime:
    """The person's digest time in the ISO week starting `monday` (their local calendar), as UTC."""
    return local_instant(monday + timedelta(days=prefs.digest_weekday), prefs.digest_hour, tz)


def digest_due_between(prefs: Preferences, tz: ZoneInfo, since: datetime,
                       until: datetime) -> list[tuple[datetime, str]]:
    """Each (due time UTC, ISO week) of this person's digest in (since, until]: usually none, at most one a week."""
    if not prefs.digest_enabled or until <= since:
        return []
    found = []
    first = since.astimezone(tz).date()
    monday = first - timedelta(days=first.weekday())
    last = until.astimezone(tz).date()
    while monday <= last:
        due = due_in_week(monday, prefs, tz)
        if since < due <= until:
            found.append((due, iso_week(monday)))
        monday += timedelta(days=7)
    return found


def next_digest_due(prefs: Preferences, tz: ZoneInfo, after: datetime) -> datetime:
    """The first digest time strictly after `after`."""
    local = after.astimezone(tz).date()
    monday = local - timedelta(days=local.weekday())
    while True:
        due = due_in_week(monday, prefs, tz)
        if due > after:
            return due
        monday += timedelta(days=7)


@dataclass(frozen=True)
class Person:
    slack_id: str
    name: str
    tz: str | None
    email: str | None


@dataclass(frozen=True)
class TaskLine:
    task_id: int
    title: str
    launch: str
    due: date | None
    overdue: bool
    blocked: bool


@dataclass(frozen=True)
class LaunchLine:
    launch_id: int
    name: str
    state: HealthState
    percent_done: int
    target_date: date
    risks: list[str]


@dataclass(frozen=True)
class KrLine:
    kr_id: int
    key: str
    title: str
    progress: float
    status: str
    last_checkin_on: date | None


@dataclass
class Digest:
    person: Person
    week: str
    today: date
    due_this_week: list[TaskLine] = field(default_factory=list)
    overdue: list[TaskLine] = field(default_factory=list)
    launches: list[LaunchLine] = field(default_factory=list)
    checkins: list[KrLine] = field(default_factory=list)
    at_risk: list[str] = field(default_factory=list)
    department: str | None = None  # the insight agent's summary, for department heads
    held: list[str] = field(default_factory=list)  # nudges the cap kept back this week

    @property
    def empty(self) -> bool:
        return not (self.due_this_week or self.overdue or self.launches or self.checkins or self.at_risk
                    or self.department or self.held)


@dataclass
class DigestData:
    """Everything digests of one workspace need, loaded once."""

    tasks_by_person: dict[str, list[tuple[Task, str]]] = field(default_factory=dict)
    launches_by_person: dict[str, list[LaunchLine]] = field(default_factory=dict)
    krs_by_person: dict[str, list[KeyResult]] = field(default_factory=dict)
    departments_by_head: dict[str, list[str]] = field(default_factory=dict)
    department_summaries: dict[str, str] = field(default_factory=dict)


def build_digest(person: Person, data: DigestData, today: date, week: str, held: list[str] | None = None) -> Digest:
    """One person's digest from the workspace's loaded data. Pure and fast (no I/O)."""
    digest = Digest(person=person, week=week, today=today, held=list(held or []))
    week_end = today + timedelta(days=6 - today.weekday())
    for task, launch_name in data.tasks_by_person.get(person.slack_id, []):
        line = TaskLine(task.id, task.title, launch_name, task.due, bool(task.due and task.due < today),
                        task.status == TaskStatus.BLOCKED)
        if line.overdue:
            digest.overdue.append(line)
        elif task.due and task.due <= week_end:
            digest.due_this_week.append(line)
    digest.overdue.sort(key=lambda t: (t.due or date.max, t.task_id))
    digest.due_this_week.sort(key=lambda t: (t.due or date.max, t.task_id))
    digest.launches = list(data.launches_by_person.get(person.slack_id, []))
    for line in digest.launches:
        if line.state != HealthState.ON_TRACK:
            why = "; ".join(line.risks[:2]) or line.state.replace("_", " ")
            digest.at_risk.append(f"Launch *{line.name}* ({line.state.replace('_', ' ')}): {why}")
    for kr in data.krs_by_person.get(person.slack_id, []):
        stale = kr.last_checkin_on is None or kr.last_checkin_on <= today - CHECKIN_EVERY
        if kr.status != OkrStatus.DONE and stale:
            digest.checkins.append(KrLine(kr.id, kr.key, kr.title, kr.progress, kr.status, kr.last_checkin_on))
        if kr.status in (OkrStatus.AT_RISK, OkrStatus.OFF_TRACK):
            last = f"last check-in {kr.last_checkin_on.isoformat()}" if kr.last_checkin_on else "no check-in yet"
            digest.at_risk.append(f"Key result *{kr.key}* {kr.status.replace('_', ' ')}: "
                                  f"{round(100 * kr.progress)}% done, {last}")
    summaries = [data.department_summaries[d] for d in data.departments_by_head.get(person.slack_id, [])
                 if d in data.department_summaries]
    digest.department = "\n\n".join(summaries) or None
    return digest


async def load_people(session: AsyncSession, scope: Scope, *, zones: list[str | None] | None = None,
                      also: list[str] | None = None) -> list[Person]:
    """The workspace's people; with `zones`, only those in these zones and those named in `also`."""
    query = select(User.slack_id, User.name, User.tz, User.email).where(User.workspace_id == scope.workspace_id)
    if zones is not None:
        named = [z for z in zones if z is not None]
        wanted = [User.tz.in_(named), User.slack_id.in_(also or [])]
        if None in zones:
            wanted.append(User.tz.is_(None))
        query = query.where(or_(*wanted))
    return [Person(*row) for row in await session.execute(query.order_by(User.id))]


async def zones_in_use(session: AsyncSession, scope: Scope) -> list[str | None]:
    return list(await session.scalars(select(User.tz).where(User.workspace_id == scope.workspace_id).distinct()))


async def load_digest_data(session: AsyncSession, scope: Scope, people: set[str], today: date,
                           insights: dict[str, str] | None = None) -> DigestData:
    """Open tasks, launches with health, key results and department heads of these people: a few queries, each
    touching only these people's rows (and, for launch health, counts and the late or blocked tasks)."""
    data = DigestData(department_summaries=dict(insights or {}))
    ws = scope.workspace_id
    wanted = sorted(people)
    members: dict[int, set[str]] = defaultdict(set)
    mine: list[Task] = []
    for chunk in _chunks(wanted):
        for launch_id, slack_id in await session.execute(select(LaunchMember.launch_id, LaunchMember.slack_id).where(
                LaunchMember.workspace_id == ws, LaunchMember.slack_id.in_(chunk))):
            members[launch_id].add(slack_id)
        mine += await session.scalars(select(Task).where(Task.workspace_id == ws, Task.assignee_slack_id.in_(chunk),
                                                         Task.status != TaskStatus.DONE))
        for launch_id, created_by in await session.execute(select(Launch.id, Launch.created_by).where(
                Launch.workspace_id == ws, Launch.created_by.in_(chunk))):
            members[launch_id].add(created_by)
    for task in mine:
        members[task.launch_id].add(str(task.assignee_slack_id))
    launches = {launch.id: launch for chunk in _chunks(sorted(members)) for launch in await session.scalars(
        select(Launch).where(Launch.workspace_id == ws, Launch.id.in_(chunk), Launch.status == LaunchStatus.PLANNED))}
    for task in sorted(mine, key=lambda t: t.id):
        if task.launch_id in launches:
            data.tasks_by_person.setdefault(str(task.assignee_slack_id), []).append(
                (task, launches[task.launch_id].name))
    for line in await launch_lines(session, ws, list(launches.values()), today):
        for slack_id in members[line.launch_id]:
            data.launches_by_person.setdefault(slack_id, []).append(line)
    for chunk in _chunks(wanted):
        for kr in await session.scalars(select(KeyResult).where(KeyResult.workspace_id == ws,
                                                                KeyResult.owner_id.in_(chunk)).order_by(KeyResult.key)):
            data.krs_by_person.setdefault(kr.owner_id, []).append(kr)
    heads = await session.execute(select(Objective.owner_id, Objective.department).where(
        Objective.workspace_id == ws, Objective.level == ObjectiveLevel.DEPARTMENT,
        Objective.department.is_not(None)))
    for owner, department in heads:
        if owner in people and department and department not in data.departments_by_head.get(owner, []):
            data.departments_by_head.setdefault(owner, []).append(department)
    return data


async def launch_lines(session: AsyncSession, ws: str, launches: list[Launch], today: date) -> list[LaunchLine]:
    """Each launch's health from task counts and its late or blocked tasks (not every task: digests run in bulk).

    The state is the health agent's rule (agents.health), applied to the tasks it looks at."""
    ids = [launch.id for launch in launches]
    counts: dict[int, tuple[int, int]] = {}
    trouble: dict[int, list[Task]] = defaultdict(list)
    for chunk in _chunks(ids):
        done = func.sum(case((Task.status == TaskStatus.DONE, 1), else_=0))
        for launch_id, total, finished in await session.execute(
                select(Task.launch_id, func.count(), done).where(Task.launch_id.in_(chunk)).group_by(Task.launch_id)):
            counts[launch_id] = (int(total), int(finished or 0))
        for task in await session.scalars(select(Task).where(
                Task.launch_id.in_(chunk), Task.status != TaskStatus.DONE,
                or_(Task.status == TaskStatus.BLOCKED, Task.due < today))):
            trouble[task.launch_id].append(task)
    lines = []
    for launch in launches:
        total, finished = counts.get(launch.id, (0, 0))
        late = trouble[launch.id]
        critical = set(launch.critical_path or [])
        health = LaunchHealth(launch=launch, state=HealthState.ON_TRACK, done=finished, total=total,
                              business_days_left=0,
                              critical_path=[t for t in late if t.key in critical],
                              overdue=[t for t in late if t.due and t.due < today],
                              blocked=[t for t in late if t.status == TaskStatus.BLOCKED])
        risks = [str(r.get("evidence") or r.get("code")) if isinstance(r, dict) else str(r)
                 for r in (launch.risks or [])][:3]
        lines.append(LaunchLine(launch.id, launch.name, health_state(launch, health), health.percent_done,
                                launch.target_date, risks))
    return lines


def _chunks(items: list, size: int = 500) -> list[list]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def person_zone(person: Person) -> ZoneInfo:
    return zone(person.tz)
