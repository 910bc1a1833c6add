"""Plan versions: the LaunchVersion rows and the writes a re-plan makes, filtered by the scope's workspace.

A re-plan request is the next version's row while it waits: its plan document holds only
{"pending": {...the request...}}. The job that plans it replaces that with the plan document.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.enums import LaunchStatus
from storage.launches import NewDependency, NewTask, dependency_rows, name_key
from storage.models import Dependency, Launch, LaunchMember, LaunchVersion, Task, User, utcnow
from storage.scope import Scope

PENDING = "pending"
FAILED = "failed"


def is_pending(row: LaunchVersion) -> bool:
    return PENDING in row.plan and "tasks" not in row.plan


def task_document(task: Task) -> dict[str, Any]:
    """A stored task in the shape of `liftoff plan --json`, plus its status."""
    return {
        "key": task.key,
        "title": task.title,
        "description": task.description,
        "team": task.team,
        "role": task.role,
        "assignee": task.assignee,
        "estimate_days": task.estimate_days,
        "start": task.start.isoformat() if task.start else None,
        "due": task.due.isoformat() if task.due else None,
        "priority": task.priority,
        "confidence": round(task.confidence, 3),
        "flags": list(task.flags or []),
        "status": task.status,
        "added_in_version": task.added_in_version,
    }


def plan_document(launch: Launch, tasks: Sequence[Task], dependencies: Sequence[Dependency]) -> dict[str, Any]:
    """The launch's stored plan in the shape of `liftoff plan --json` (Plan.to_json)."""
    keys = {task.id: task.key for task in tasks}
    return {
        "launch": {
            "name": launch.name,
            "target_date": launch.target_date.isoformat(),
            "launch_type": launch.launch_type,
        },
        "tasks": [task_document(task) for task in tasks],
        "dependencies": [
            {"from": keys[d.from_task_id], "to": keys[d.to_task_id], "kind": d.kind, "source": d.source}
            for d in dependencies
            if d.from_task_id in keys and d.to_task_id in keys
        ],
        "critical_path": list(launch.critical_path),
        "critical_path_days": launch.critical_path_days,
        "risks": list(launch.risks),
        "quality_score": round(launch.quality_score, 3),
    }


@dataclass(frozen=True)
class TaskWrite:
    """One task of a merged plan, in order: an existing row (kept as is when `values` is None) or a new one."""

    key: str
    existing_id: int | None
    values: NewTask | None
    added_in_version: int


@dataclass(frozen=True)
class LaunchChanges:
    """What a re-plan changes on the launch row itself."""

    name: str
    brief: str
    target_date: date
    launch_type: str
    channel_id: str | None
    critical_path: list[str]
    critical_path_days: float
    risks: list[dict[str, Any]]
    quality_score: float


@dataclass(frozen=True)
class TaskLine:
    key: str
    title: str
    team: str = ""
    assignee: str | None = None
    due: str | None = None
    status: str | None = None


@dataclass(frozen=True)
class FieldChange:
    field: str  # title, owner, due, estimate
    before: str
    after: str


@dataclass(frozen=True)
class TaskChange:
    key: str
    title: str
    fields: tuple[FieldChange, ...]


@dataclass
class PlanChanges:
    """What a new version changed: added, removed and changed tasks, and worked-on tasks kept outside it."""

    added: list[TaskLine] = field(default_factory=list)
    removed: list[TaskLine] = field(default_factory=list)
    changed: list[TaskChange] = field(default_factory=list)
    kept: list[TaskLine] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def to_json(self) -> dict[str, Any]:
        return {
            "added": [vars(line) for line in self.added],
            "removed": [vars(line) for line in self.removed],
            "changed": [
                {"key": c.key, "title": c.title, "fields": [vars(f) for f in c.fields]} for c in self.changed
            ],
            "kept": [vars(line) for line in self.kept],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> PlanChanges:
        data = data or {}
        return cls(
            added=[TaskLine(**line) for line in data.get("added", [])],
            removed=[TaskLine(**line) for line in data.get("removed", [])],
            changed=[
                TaskChange(c["key"], c["title"], tuple(FieldChange(**f) for f in c.get("fields", [])))
                for c in data.get("changed", [])
            ],
            kept=[TaskLine(**line) for line in data.get("kept", [])],
        )


@dataclass(frozen=True)
class ReplanTarget:
    """The launch a re-plan submission names, as its check reads it before the ack; the request's audit entry
    records it as it stood."""

    id: int
    workspace_id: str
    name: str
    status: str
    version: int
    created_by: str
    target_date: date
    launch_type: str
    channel_id: str | None
    team: tuple[str, ...]  # the members' Slack ids: sorted as the check reads them, in entry order from `of`

    @classmethod
    def of(cls, launch: Launch) -> ReplanTarget:
        """A stored launch, its members loaded."""
        return cls(launch.id, launch.workspace_id, launch.name, launch.status, launch.version, launch.created_by,
                   launch.target_date, launch.launch_type, launch.channel_id,
                   tuple(m.slack_id for m in launch.members if m.slack_id))

    def state(self) -> dict[str, Any]:
        """The launch's plan settings, as the audit log records them before a change."""
        return {"version": self.version, "name": self.name, "target_date": self.target_date,
                "launch_type": self.launch_type, "channel_id": self.channel_id, "team": list(self.team)}


@dataclass(frozen=True)
class ReplanCheck:
    role: str | None  # None: never seen
    launch: ReplanTarget | None  # None: no such launch in the workspace
    name_taken: bool  # by another launch of the workspace
    pending: bool  # the launch's next version is already asked for


def _replan_check_statements() -> tuple[Any, Any]:
    """The re-plan submission's check, and the role alone (when no launch matched), built once with parameters
    :ws, :launch_id, :slack_id and :name_key. Built per submission, with the launch as an ORM entity and its
    team, this one read cost ~2 ms of CPU before the ack; that is 40 ms for the last of 20 arriving at once."""
    ws, launch_id = bindparam("ws"), bindparam("launch_id")
    role = (select(User.role).where(User.workspace_id == ws, User.slack_id == bindparam("slack_id"))
            .scalar_subquery())
    other = aliased(Launch, name="other_launch")
    name_taken = (select(other.id)
                  .where(other.workspace_id == ws, other.name_key == bindparam("name_key"), other.id != launch_id)
                  .exists())
    pending = (select(LaunchVersion.id)
               .where(LaunchVersion.workspace_id == ws, LaunchVersion.launch_id == launch_id,
                      LaunchVersion.version == Launch.version + 1)
               .exists())
    team = (select(func.aggregate_strings(LaunchMember.slack_id, " "))
            .where(LaunchMember.launch_id == Launch.id, LaunchMember.slack_id.is_not(None))
            .scalar_subquery())
    check = (select(Launch.id, Launch.workspace_id, Launch.name, Launch.status, Launch.version, Launch.created_by,
                    Launch.target_date, Launch.launch_type, Launch.channel_id, team.label("team"),
                    role.label("role"), name_taken.label("name_taken"), pending.label("pending"))
             .where(Launch.workspace_id == ws, Launch.id == launch_id))
    return check, select(role)


_REPLAN_CHECK, _ROLE = _replan_check_statements()


class VersionRepository:
    def __init__(self, session: AsyncSession, scope: Scope) -> None:
        self.session = session
        self.scope = scope

    def _versions(self, launch_id: int) -> Any:
        return select(LaunchVersion).where(
            LaunchVersion.workspace_id == self.scope.workspace_id, LaunchVersion.launch_id == launch_id
        )

    async def get(self, launch_id: int, version: int) -> LaunchVersion | None:
        return await self.session.scalar(self._versions(launch_id).where(LaunchVersion.version == version))

    async def replan_check(self, slack_id: str, launch_id: int, name: str) -> ReplanCheck:
        """What a re-plan's submission checks before its ack, in one round trip: the person's role, the launch,
        whether another launch of the workspace has the name, and whether the next version is already asked for."""
        params = {"ws": self.scope.workspace_id, "launch_id": launch_id, "slack_id": slack_id,
                  "name_key": name_key(name)}
        # Plain rows on the session's connection: no ORM objects to build for a check.
        connection = await self.session.connection()
        row = (await connection.execute(_REPLAN_CHECK, params)).one_or_none()
        if row is None:
            return ReplanCheck((await connection.execute(_ROLE, params)).scalar(), None, False, False)
        target = ReplanTarget(row.id, row.workspace_id, row.name, row.status, row.version, row.created_by,
                              row.target_date, row.launch_type, row.channel_id, tuple(sorted((row.team or "").split())))
        return ReplanCheck(row.role, target, bool(row.name_taken), bool(row.pending))

    async def list(self, launch_id: int) -> list[LaunchVersion]:
        return list(await self.session.scalars(self._versions(launch_id).order_by(LaunchVersion.version)))

    async def add(self, launch: Launch, version: int, plan: dict[str, Any], *, brief: str | None = None,
                  target_date: date | None = None, created_by: str | None = None) -> LaunchVersion:
        row = LaunchVersion(
            workspace_id=self.scope.workspace_id,
            launch_id=launch.id,
            version=version,
            brief=launch.brief if brief is None else brief,
            target_date=target_date or launch.target_date,
            plan=plan,
            created_by=created_by or launch.created_by,
        )
        self.session.add(row)
        await self.session.flush()
        return row

    async def record_saved(self, launch_id: int, plan: dict[str, Any]) -> None:
        """Store the version a plan was just saved as (version 1 of a new launch), once."""
        launch = await self.session.scalar(
            select(Launch).where(Launch.workspace_id == self.scope.workspace_id, Launch.id == launch_id)
        )
        if launch is not None and await self.get(launch_id, launch.version) is None:
            await self.add(launch, launch.version, plan)

    async def snapshot(self, launch: Launch) -> LaunchVersion:
        """The launch's current version, stored from its rows when no earlier save stored it."""
        existing = await self.get(launch.id, launch.version)
        if existing is not None:
            return existing
        tasks = await self._tasks(launch.id)
        dependencies = list(
            await self.session.scalars(
                select(Dependency).where(
                    Dependency.workspace_id == self.scope.workspace_id, Dependency.launch_id == launch.id
                )
            )
        )
        return await self.add(launch, launch.version, plan_document(launch, tasks, dependencies))

    async def request(self, launch_id: int, version: int, request: dict[str, Any], *, brief: str,
                      target_date: date, created_by: str) -> None:
        """Record a re-plan request as the pending row of `version` (unique per launch and version: a second
        request raises IntegrityError). A plain INSERT: it runs after the submission's ack, beside the acks of
        others, and nothing reads the row back here."""
        await self.session.execute(insert(LaunchVersion).values(
            workspace_id=self.scope.workspace_id, launch_id=launch_id, version=version, brief=brief,
            target_date=target_date, plan={PENDING: request}, created_by=created_by,
        ))

    async def discard(self, row: LaunchVersion) -> None:
        await self.session.delete(row)
        await self.session.flush()

    async def sync_members(self, launch: Launch, slack_ids: Sequence[str]) -> None:
        """Make the launch's team exactly these people; newcomers get names and roles from Slack later."""
        wanted = list(dict.fromkeys(slack_ids))
        for member in list(launch.members):
            if member.slack_id not in wanted:
                launch.members.remove(member)
        present = {m.slack_id for m in launch.members}
        for slack_id in wanted:
            if slack_id not in present:
                launch.members.append(
                    LaunchMember(workspace_id=self.scope.workspace_id, name="", role="", slack_id=slack_id)
                )
        await self.session.flush()

    async def claim_next_version(self, launch_id: int, current: int) -> bool:
        """Move a planned launch from `current` to the next version, once; False when another run did."""
        result = await self.session.execute(
            update(Launch)
            .where(
                Launch.workspace_id == self.scope.workspace_id,
                Launch.id == launch_id,
                Launch.version == current,
                Launch.status == LaunchStatus.PLANNED,
            )
            .values(version=current + 1)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def write_merged_plan(
        self,
        launch_id: int,
        tasks: Sequence[TaskWrite],
        removed_ids: Sequence[int],
        dependencies: Sequence[NewDependency],
        slack_days: dict[str, float],
    ) -> list[Task]:
        """Replace the launch's tasks and dependencies with a merged plan; returns the tasks in order."""
        await self.session.execute(
            delete(Dependency).where(
                Dependency.workspace_id == self.scope.workspace_id, Dependency.launch_id == launch_id
            )
        )
        if removed_ids:
            await self.session.execute(
                delete(Task).where(
                    Task.workspace_id == self.scope.workspace_id,
                    Task.launch_id == launch_id,
                    Task.id.in_(list(removed_ids)),
                )
            )
        existing = {task.id: task for task in await self._tasks(launch_id)}
        now = utcnow()
        rows: list[Task] = []
        for position, write in enumerate(tasks):
            row = existing.get(write.existing_id) if write.existing_id is not None else None
            if row is None:
                assert write.values is not None, "a new task needs its values"
                row = Task(workspace_id=self.scope.workspace_id, launch_id=launch_id, key=write.key,
                           added_in_version=write.added_in_version, updated_at=now)
                _assign(row, write.values)
                self.session.add(row)
            elif write.values is not None:
                _assign(row, write.values)
                row.updated_at = now
            row.position = position
            row.slack_days = slack_days.get(write.key, 0.0)
            rows.append(row)
        await self.session.flush()
        ids = {row.key: row.id for row in rows}
        kept = [d for d in dependencies if d.from_key in ids and d.to_key in ids]
        self.session.add_all(dependency_rows(self.scope.workspace_id, launch_id, ids, kept))
        await self.session.flush()
        return rows

    async def update_launch(self, launch_id: int, changes: LaunchChanges) -> None:
        await self.session.execute(
            update(Launch)
            .where(Launch.workspace_id == self.scope.workspace_id, Launch.id == launch_id)
            .values(
                name=changes.name,
                name_key=name_key(changes.name),
                brief=changes.brief,
                target_date=changes.target_date,
                launch_type=changes.launch_type,
                channel_id=changes.channel_id,
                critical_path=changes.critical_path,
                critical_path_days=changes.critical_path_days,
                risks=changes.risks,
                quality_score=changes.quality_score,
                planned_at=utcnow(),
                error=None,
            )
            .execution_options(synchronize_session=False)
        )

    async def _tasks(self, launch_id: int) -> list[Task]:
        return list(
            await self.session.scalars(
                select(Task)
                .where(Task.workspace_id == self.scope.workspace_id, Task.launch_id == launch_id)
                .order_by(Task.position)
            )
        )


def _assign(row: Task, values: NewTask) -> None:
    row.title = values.title
    row.description = values.description
    row.team = values.team
    row.role = values.role
    row.assignee = values.assignee
    row.assignee_slack_id = values.assignee_slack_id
    row.estimate_days = values.estimate_days
    row.start = values.start
    row.due = values.due
    row.priority = values.priority
    row.confidence = values.confidence
    row.flags = list(values.flags)
    row.milestone = values.milestone
