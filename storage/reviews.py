"""Reviews of flagged tasks: decisions per plan version, the review message, and a rejected task's removal.

Every query is filtered by the scope's workspace. A decision is one TaskReview row whose unique key
(launch_id, version, task_key) makes it happen once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.enums import ReviewDestination, ReviewState
from storage.models import Dependency, Launch, Task, TaskReview, Workspace
from storage.scope import Scope
from storage.workspaces import WorkspaceRepository


@dataclass(frozen=True)
class ReviewItem:
    """One flagged task as the review message shows it; a rejected task lives on only here."""

    key: str
    title: str
    task_id: int | None
    state: ReviewState
    evidence: tuple[str, ...] = ()
    assignee: str | None = None
    assignee_slack_id: str | None = None
    estimate_days: float | None = None
    due: date | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None


@dataclass(frozen=True)
class ReviewPage:
    """One page of a launch's review message, with the counts of the whole review."""

    launch: Launch
    version: int
    page: int
    pages: int
    items: tuple[ReviewItem, ...]
    total: int
    open: int
    approved: int
    rejected: int
    edited: int


class ReviewRepository:
    def __init__(self, session: AsyncSession, scope: Scope) -> None:
        self.session = session
        self.scope = scope

    # --- launches and tasks ------------------------------------------------------------------------------

    async def lock_launch(self, launch_id: int) -> Launch | None:
        """The launch with its team, its row locked until the transaction ends: one graph change at a time.

        Reject and Edit change the dependency graph, so they take it (before any task row, as every writer of
        a launch does); Approve locks only its task rows. FOR NO KEY UPDATE: a decision row that merely
        references the launch does not wait on it. On PostgreSQL a second reviewer waits here and then reads the
        first one's decision; SQLite's single writer serialises them anyway.
        """
        return await self.session.scalar(
            select(Launch)
            .where(Launch.workspace_id == self.scope.workspace_id, Launch.id == launch_id)
            .options(selectinload(Launch.members))
            .with_for_update(of=Launch, key_share=True)
            .execution_options(populate_existing=True)
        )

    async def launch(self, launch_id: int) -> Launch | None:
        """The launch with its team, read as it is now (not locked)."""
        return await self.session.scalar(
            select(Launch)
            .where(Launch.workspace_id == self.scope.workspace_id, Launch.id == launch_id)
            .options(selectinload(Launch.members))
            .execution_options(populate_existing=True)
        )

    async def lock_tasks(self, launch_id: int, task_ids: Iterable[int]) -> list[Task]:
        """These tasks of the launch, their rows locked in id order (so two lockers never wait on each other)."""
        wanted = sorted(set(task_ids))
        if not wanted:
            return []
        return list(
            await self.session.scalars(
                select(Task)
                .where(Task.workspace_id == self.scope.workspace_id, Task.launch_id == launch_id,
                       Task.id.in_(wanted))
                .order_by(Task.id)
                .with_for_update(key_share=True)
                .execution_options(populate_existing=True)
            )
        )

    async def launch_of_task(self, task_id: int) -> int | None:
        return await self.session.scalar(
            select(Task.launch_id).where(Task.workspace_id == self.scope.workspace_id, Task.id == task_id)
        )

    async def task(self, task_id: int) -> Task | None:
        return await self.session.scalar(
            select(Task)
            .where(Task.workspace_id == self.scope.workspace_id, Task.id == task_id)
            .execution_options(populate_existing=True)
        )

    async def reviewed_tasks(self, launch_id: int) -> list[Task]:
        """Tasks that were ever flagged for review (open or decided), in plan order."""
        return list(
            await self.session.scalars(
                select(Task)
                .where(
                    Task.workspace_id == self.scope.workspace_id,
                    Task.launch_id == launch_id,
                    Task.review_state.is_not(None),
                )
                .order_by(Task.position)
            )
        )

    async def open_flagged(self, launch_id: int, version: int) -> int:
        """Open a review on every flagged task this version added that was never reviewed; how many."""
        tasks = await self.session.scalars(
            select(Task).where(
                Task.workspace_id == self.scope.workspace_id,
                Task.launch_id == launch_id,
                Task.added_in_version == version,
                Task.review_state.is_(None),
            )
        )
        flagged = [task for task in tasks if task.flags]
        for task in flagged:
            task.review_state = ReviewState.OPEN
        await self.session.flush()
        return len(flagged)

    async def remove_task(self, task: Task) -> None:
        """Delete a task and every edge touching it."""
        assert task.workspace_id == self.scope.workspace_id
        await self.session.execute(
            delete(Dependency).where(
                Dependency.workspace_id == self.scope.workspace_id,
                Dependency.launch_id == task.launch_id,
                or_(Dependency.from_task_id == task.id, Dependency.to_task_id == task.id),
            )
        )
        await self.session.delete(task)
        await self.session.flush()

    async def add_edges(
        self, launch_id: int, pairs: Iterable[tuple[int, int]], *, kind: str, source: str
    ) -> list[Dependency]:
        rows = [
            Dependency(
                workspace_id=self.scope.workspace_id,
                launch_id=launch_id,
                from_task_id=from_id,
                to_task_id=to_id,
                kind=kind,
                source=source[:200],
                confidence=1.0,
            )
            for from_id, to_id in pairs
        ]
        self.session.add_all(rows)
        await self.session.flush()
        return rows

    # --- decisions ---------------------------------------------------------------------------------------

    async def decisions(self, launch_id: int, version: int) -> list[TaskReview]:
        return list(
            await self.session.scalars(
                select(TaskReview)
                .where(
                    TaskReview.workspace_id == self.scope.workspace_id,
                    TaskReview.launch_id == launch_id,
                    TaskReview.version == version,
                )
                .order_by(TaskReview.id)
            )
        )

    async def decision(self, launch_id: int, version: int, task_key: str) -> TaskReview | None:
        return await self.session.scalar(
            select(TaskReview).where(
                TaskReview.workspace_id == self.scope.workspace_id,
                TaskReview.launch_id == launch_id,
                TaskReview.version == version,
                TaskReview.task_key == task_key,
            )
        )

    async def decision_of_task(self, task_id: int) -> TaskReview | None:
        """The latest decision on a task, by its id: still found after a reject deleted the task."""
        return await self.session.scalar(
            select(TaskReview)
            .where(TaskReview.workspace_id == self.scope.workspace_id, TaskReview.task_id == task_id)
            .order_by(TaskReview.version.desc())
            .limit(1)
        )

    async def record_decision(
        self, launch_id: int, version: int, task: Task, decision: ReviewState, decided_by: str, at: datetime
    ) -> TaskReview:
        """Insert the decision; a second one for the same task and version raises IntegrityError."""
        row = TaskReview(
            workspace_id=self.scope.workspace_id,
            launch_id=launch_id,
            version=version,
            task_key=task.key,
            task_id=task.id,
            task_title=task.title,
            decision=decision,
            decided_by=decided_by,
            decided_at=at,
        )
        self.session.add(row)
        await self.session.flush()
        return row

    # --- where the messages are -------------------------------------------------------------------------

    async def record_review_message(self, launch_id: int, channel_id: str, ts: str) -> None:
        await self.session.execute(
            update(Launch)
            .where(Launch.workspace_id == self.scope.workspace_id, Launch.id == launch_id)
            .values(review_channel_id=channel_id, review_ts=ts)
        )

    async def record_plan_message(self, launch_id: int, channel_id: str, ts: str) -> None:
        await self.session.execute(
            update(Launch)
            .where(Launch.workspace_id == self.scope.workspace_id, Launch.id == launch_id)
            .values(plan_channel_id=channel_id, plan_ts=ts)
        )

    async def destination(self) -> ReviewDestination:
        workspace = await self.session.get(Workspace, self.scope.workspace_id)
        if workspace is None or workspace.review_in not in ReviewDestination.__members__.values():
            return ReviewDestination.THREAD
        return ReviewDestination(workspace.review_in)

    async def set_destination(self, destination: ReviewDestination) -> ReviewDestination:
        """Change where review messages go; returns the setting it had before."""
        workspace = await WorkspaceRepository(self.session, self.scope).ensure()
        before = await self.destination()
        workspace.review_in = destination
        await self.session.flush()
        return before
