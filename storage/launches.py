"""Launches, their team, tasks and dependencies: every query filtered by the scope's workspace."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.enums import LaunchStatus, ReviewState, TaskStatus
from storage.models import Dependency, Launch, LaunchMember, Task, User, utcnow
from storage.scope import Scope


def name_key(name: str) -> str:
    """How a launch's name is compared (and kept unique in its workspace): trimmed and case-folded."""
    return name.strip().casefold()


@dataclass(frozen=True)
class NewTask:
    key: str
    title: str
    description: str
    team: str
    role: str
    assignee: str | None
    assignee_slack_id: str | None
    estimate_days: float
    start: date | None
    due: date | None
    priority: str
    confidence: float
    flags: list[str]
    milestone: bool
    slack_days: float


@dataclass(frozen=True)
class NewDependency:
    from_key: str
    to_key: str
    kind: str
    source: str
    confidence: float


@dataclass(frozen=True)
class PlanAnalysis:
    critical_path: list[str]
    critical_path_days: float
    risks: list[dict[str, Any]]
    quality_score: float


class LaunchRepository:
    def __init__(self, session: AsyncSession, scope: Scope) -> None:
        self.session = session
        self.scope = scope

    def _launches(self) -> Any:
        return select(Launch).where(Launch.workspace_id == self.scope.workspace_id)

    async def create_draft(
        self,
        *,
        name: str,
        brief: str,
        target_date: date,
        launch_type: str,
        channel_id: str | None,
        created_by: str,
        members: Sequence[tuple[str, str, str | None]],
    ) -> Launch:
        """A new launch in draft; `members` are (name, role, slack_id)."""
        launch = Launch(
            workspace_id=self.scope.workspace_id,
            name=name,
            name_key=name_key(name),
            brief=brief,
            target_date=target_date,
            launch_type=launch_type,
            channel_id=channel_id,
            created_by=created_by,
            status=LaunchStatus.DRAFT,
            critical_path=[],
            risks=[],
        )
        launch.members = [
            LaunchMember(workspace_id=self.scope.workspace_id, name=n, role=r, slack_id=s) for n, r, s in members
        ]
        self.session.add(launch)
        await self.session.flush()
        return launch

    async def get(self, launch_id: int) -> Launch | None:
        return await self.session.scalar(
            self._launches().where(Launch.id == launch_id).options(selectinload(Launch.members))
        )

    def _named(self, name: str) -> Any:
        """The condition for this workspace's launch under `name` (compared as stored: trimmed, case-folded)."""
        return and_(Launch.workspace_id == self.scope.workspace_id, Launch.name_key == name_key(name))

    def role_of(self, slack_id: str) -> Any:
        """A scalar subquery: the person's stored role in this workspace (NULL when never seen)."""
        return select(User.role).where(User.workspace_id == self.scope.workspace_id,
                                       User.slack_id == slack_id).scalar_subquery()

    async def by_name(self, name: str) -> Launch | None:
        return await self.session.scalar(select(Launch).where(self._named(name)))

    async def name_taken(self, name: str) -> bool:
        return await self.session.scalar(select(Launch.id).where(self._named(name)).limit(1)) is not None

    async def creator_check(self, slack_id: str, name: str) -> tuple[str | None, bool]:
        """What a new launch's submission checks before its ack, in one round trip: the person's role (None when
        never seen) and whether the name is taken in the workspace."""
        taken = select(Launch.id).where(self._named(name)).exists()
        row = (await self.session.execute(select(self.role_of(slack_id), taken))).one()
        return row[0], bool(row[1])

    async def list(self, *, channel_id: str | None = None, limit: int = 50) -> list[Launch]:
        query = self._launches().order_by(Launch.target_date, Launch.id).limit(limit)
        if channel_id is not None:
            query = query.where(Launch.channel_id == channel_id)
        return list(await self.session.scalars(query))

    async def names(self) -> list[str]:
        query = select(Launch.name).where(Launch.workspace_id == self.scope.workspace_id)
        return list(await self.session.scalars(query))

    async def tasks(self, launch_id: int) -> list[Task]:
        return list(
            await self.session.scalars(
                select(Task)
                .where(Task.workspace_id == self.scope.workspace_id, Task.launch_id == launch_id)
                .order_by(Task.position)
            )
        )

    async def syncable_tasks(self, launch_id: int) -> list[Task]:
        """The tasks that may be announced or synced outward: all but those whose review is still open."""
        return list(
            await self.session.scalars(
                select(Task)
                .where(
                    Task.workspace_id == self.scope.workspace_id,
                    Task.launch_id == launch_id,
                    or_(Task.review_state.is_(None), Task.review_state != ReviewState.OPEN),
                )
                .order_by(Task.position)
            )
        )

    async def task_count(self, launch_id: int) -> int:
        return int(
            await self.session.scalar(
                select(func.count(Task.id)).where(
                    Task.workspace_id == self.scope.workspace_id, Task.launch_id == launch_id
                )
            )
            or 0
        )

    async def dependencies(self, launch_id: int) -> list[Dependency]:
        return list(
            await self.session.scalars(
                select(Dependency).where(
                    Dependency.workspace_id == self.scope.workspace_id, Dependency.launch_id == launch_id
                )
            )
        )

    async def concurrent_tasks(self, launch_id: int, today: date) -> dict[int, list[Task]]:
        """Open, scheduled tasks of the workspace's other planned launches still ahead, by launch id."""
        query = (
            select(Task)
            .join(Launch, Launch.id == Task.launch_id)
            .where(
                Task.workspace_id == self.scope.workspace_id,
                Launch.workspace_id == self.scope.workspace_id,
                Launch.id != launch_id,
                Launch.status == LaunchStatus.PLANNED,
                Launch.target_date >= today,
                Task.status != TaskStatus.DONE,
                Task.assignee.is_not(None),
            )
            .order_by(Task.launch_id, Task.position)
        )
        by_launch: dict[int, list[Task]] = {}
        for task in await self.session.scalars(query):
            by_launch.setdefault(task.launch_id, []).append(task)
        return by_launch

    async def claim_for_planning(self, launch_id: int) -> bool:
        """Move a draft to planning; False when another run already took or finished it."""
        result = await self.session.execute(
            update(Launch)
            .where(
                Launch.workspace_id == self.scope.workspace_id,
                Launch.id == launch_id,
                Launch.status.in_([LaunchStatus.DRAFT, LaunchStatus.PLANNING]),
            )
            .values(status=LaunchStatus.PLANNING)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def save_plan(
        self,
        launch_id: int,
        tasks: Sequence[NewTask],
        dependencies: Sequence[NewDependency],
        analysis: PlanAnalysis,
    ) -> bool:
        """Store a plan and mark the launch planned, once: False (and nothing written) if already planned.

        The conditional update is the guard: on PostgreSQL a second writer waits on the row lock
        and then sees status=planned; SQLite serialises writers.
        """
        result = await self.session.execute(
            update(Launch)
            .where(
                Launch.workspace_id == self.scope.workspace_id,
                Launch.id == launch_id,
                Launch.status.in_([LaunchStatus.DRAFT, LaunchStatus.PLANNING]),
            )
            .values(
                status=LaunchStatus.PLANNED,
                critical_path=analysis.critical_path,
                critical_path_days=analysis.critical_path_days,
                risks=analysis.risks,
                quality_score=analysis.quality_score,
                planned_at=utcnow(),
                error=None,
            )
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            return False
        rows = [
            Task(
                workspace_id=self.scope.workspace_id,
                launch_id=launch_id,
                position=position,
                key=t.key,
                title=t.title,
                description=t.description,
                team=t.team,
                role=t.role,
                assignee=t.assignee,
                assignee_slack_id=t.assignee_slack_id,
                estimate_days=t.estimate_days,
                start=t.start,
                due=t.due,
                priority=t.priority,
                confidence=t.confidence,
                flags=list(t.flags),
                milestone=t.milestone,
                slack_days=t.slack_days,
            )
            for position, t in enumerate(tasks)
        ]
        self.session.add_all(rows)
        await self.session.flush()
        ids = {row.key: row.id for row in rows}
        self.session.add_all(dependency_rows(self.scope.workspace_id, launch_id, ids, dependencies))
        await self.session.flush()
        return True

    async def mark_failed(self, launch_id: int, error: str) -> bool:
        result = await self.session.execute(
            update(Launch)
            .where(
                Launch.workspace_id == self.scope.workspace_id,
                Launch.id == launch_id,
                Launch.status.in_([LaunchStatus.DRAFT, LaunchStatus.PLANNING]),
            )
            .values(status=LaunchStatus.FAILED, error=error[:2000])
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]



def dependency_rows(workspace_id: str, launch_id: int, ids: dict[str, int],
                    dependencies: Iterable[NewDependency]) -> list[Dependency]:
    """Dependency rows for edges given by task key, with the saved tasks' ids (`ids` by key)."""
    return [
        Dependency(
            workspace_id=workspace_id,
            launch_id=launch_id,
            from_task_id=ids[d.from_key],
            to_task_id=ids[d.to_key],
            kind=d.kind,
            source=d.source,
            confidence=d.confidence,
        )
        for d in dependencies
    ]


class PersonalRepository:
    """What one person sees: their launches and their open tasks, within the scope's workspace."""

    def __init__(self, session: AsyncSession, scope: Scope) -> None:
        assert scope.user_id, "a personal view needs the user in its scope"
        self.session = session
        self.scope = scope

    async def launches(self, limit: int = 10) -> list[Launch]:
        member_of = select(LaunchMember.launch_id).where(
            LaunchMember.workspace_id == self.scope.workspace_id, LaunchMember.slack_id == self.scope.user_id
        )
        query = (
            select(Launch)
            .where(
                Launch.workspace_id == self.scope.workspace_id,
                (Launch.created_by == self.scope.user_id) | Launch.id.in_(member_of),
            )
            .order_by(Launch.target_date, Launch.id)
            .limit(limit)
        )
        return list(await self.session.scalars(query))

    async def open_tasks(self, limit: int = 10) -> list[Task]:
        query = (
            select(Task)
            .where(
                Task.workspace_id == self.scope.workspace_id,
                Task.assignee_slack_id == self.scope.user_id,
                Task.status != "done",
            )
            .order_by(Task.due, Task.id)
            .limit(limit)
        )
        return list(await self.session.scalars(query))
