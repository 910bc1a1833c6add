"""Task status changes from Slack: finding a task, locking its launch, saving the recomputed analysis."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.launches import PlanAnalysis
from storage.models import Launch, Task
from storage.scope import Scope


@dataclass(frozen=True)
class KeyMatch:
    """A task found by its key, with the launch it belongs to."""

    task: Task
    launch: Launch


class TaskUpdateRepository:
    def __init__(self, session: AsyncSession, scope: Scope) -> None:
        self.session = session
        self.scope = scope

    async def task(self, task_id: int) -> Task | None:
        return await self.session.scalar(
            select(Task).where(Task.workspace_id == self.scope.workspace_id, Task.id == task_id)
        )

    async def task_with_launch(self, task_id: int) -> KeyMatch | None:
        task = await self.task(task_id)
        if task is None:
            return None
        launch = await self.session.scalar(
            select(Launch).where(Launch.workspace_id == self.scope.workspace_id, Launch.id == task.launch_id)
        )
        return KeyMatch(task, launch) if launch is not None else None

    async def lock_for_update(self, task_id: int) -> KeyMatch | None:
        """The task and its launch, the launch row locked (then the task's): one update per launch at a time.

        On PostgreSQL the second of two concurrent updates waits here and then reads the first one's result;
        SQLite's single writer serialises them anyway.
        """
        launch_id = await self.session.scalar(
            select(Task.launch_id).where(Task.workspace_id == self.scope.workspace_id, Task.id == task_id)
        )
        if launch_id is None:
            return None
        launch = await self.session.scalar(
            select(Launch)
            .where(Launch.workspace_id == self.scope.workspace_id, Launch.id == launch_id)
            .options(selectinload(Launch.members))
            .with_for_update(of=Launch)
            .execution_options(populate_existing=True)
        )
        task = await self.session.scalar(
            select(Task)
            .where(Task.workspace_id == self.scope.workspace_id, Task.id == task_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if launch is None or task is None:
            return None
        return KeyMatch(task, launch)

    async def by_key(self, key: str, limit: int = 20) -> list[KeyMatch]:
        """Tasks with this key (any case) across the workspace's launches, soonest launch first."""
        rows = await self.session.execute(
            select(Task, Launch)
            .join(Launch, Launch.id == Task.launch_id)
            .where(
                Task.workspace_id == self.scope.workspace_id,
                Launch.workspace_id == self.scope.workspace_id,
                func.upper(Task.key) == key.strip().upper(),
            )
            .order_by(Launch.target_date, Launch.id)
            .limit(limit)
        )
        return [KeyMatch(task, launch) for task, launch in rows.all()]

    async def keys(self, limit: int = 5000) -> list[str]:
        """The distinct task keys of the workspace, for "did you mean" suggestions."""
        query = select(Task.key).where(Task.workspace_id == self.scope.workspace_id).distinct().limit(limit)
        return list(await self.session.scalars(query))

    async def save_analysis(
        self, launch: Launch, tasks: list[Task], analysis: PlanAnalysis, slack_days: Mapping[str, float]
    ) -> None:
        """Store a recomputed critical path, risks and score on the launch and each task's slack.

        `launch` and `tasks` are rows of this session; only changed values are written.
        """
        assert launch.workspace_id == self.scope.workspace_id
        launch.critical_path = list(analysis.critical_path)
        launch.critical_path_days = analysis.critical_path_days
        launch.risks = list(analysis.risks)
        launch.quality_score = analysis.quality_score
        for task in tasks:
            assert task.workspace_id == self.scope.workspace_id and task.launch_id == launch.id
            slack = round(slack_days.get(task.key, task.slack_days), 6)
            if slack != task.slack_days:
                task.slack_days = slack
        await self.session.flush()
