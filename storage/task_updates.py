"""Task status changes from Slack: finding a task, and locking it (with its launch) for a change."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.enums import TaskStatus
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
        """The task and its launch, read in one round trip (not locked)."""
        row = (
            await self.session.execute(
                select(Task, Launch)
                .join(Launch, Launch.id == Task.launch_id)
                .where(
                    Task.workspace_id == self.scope.workspace_id,
                    Launch.workspace_id == self.scope.workspace_id,
                    Task.id == task_id,
                )
            )
        ).first()
        return KeyMatch(row[0], row[1]) if row is not None else None

    async def launch_of_task(self, task_id: int) -> int | None:
        return await self.session.scalar(
            select(Task.launch_id).where(Task.workspace_id == self.scope.workspace_id, Task.id == task_id)
        )

    async def progress(self, launch_id: int) -> tuple[int, int]:
        """(done, total) tasks of a launch, counted in the database."""
        row = (await self.session.execute(
            select(func.count().filter(Task.status == TaskStatus.DONE), func.count())
            .where(Task.workspace_id == self.scope.workspace_id, Task.launch_id == launch_id)
        )).one()
        return int(row[0]), int(row[1])

    async def lock_for_update(self, task_id: int) -> KeyMatch | None:
        """The task and its launch, both rows locked: the launch row first, as every writer of a launch takes it.

        The transaction that holds them is short (the change, its audit entry, outbox rows, the stale mark); the
        recompute runs later, in a job. Both locks are FOR NO KEY UPDATE, so a decision or dependency that only
        references the launch or the task does not wait on them.
        """
        launch_id = await self.launch_of_task(task_id)
        if launch_id is None:
            return None
        launch = await self.session.scalar(
            select(Launch)
            .where(Launch.workspace_id == self.scope.workspace_id, Launch.id == launch_id)
            .options(selectinload(Launch.members))
            .with_for_update(of=Launch, key_share=True)
            .execution_options(populate_existing=True)
        )
        task = await self.session.scalar(
            select(Task)
            .where(Task.workspace_id == self.scope.workspace_id, Task.id == task_id, Task.launch_id == launch_id)
            .with_for_update(key_share=True)
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
