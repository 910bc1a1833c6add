"""A launch's analysis (critical path, slack, risks): marking it stale after a change, and saving a recompute.

Locks: every writer that touches a launch and its tasks takes the launch row first, then task rows, all as
FOR NO KEY UPDATE (so rows that only reference them, e.g. a new decision or dependency, never wait on them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.launches import PlanAnalysis
from storage.models import Launch, Task
from storage.scope import Scope


@dataclass(frozen=True)
class AnalysisProgress:
    """How many analysis-changing changes the launch has had, and how many its stored analysis covers."""

    changes: int
    analyzed_changes: int

    @property
    def current(self) -> bool:
        return self.analyzed_changes >= self.changes


class AnalysisRepository:
    def __init__(self, session: AsyncSession, scope: Scope) -> None:
        self.session = session
        self.scope = scope

    async def progress(self, launch_id: int) -> AnalysisProgress | None:
        row = (
            await self.session.execute(
                select(Launch.changes, Launch.analyzed_changes).where(
                    Launch.workspace_id == self.scope.workspace_id, Launch.id == launch_id
                )
            )
        ).first()
        return AnalysisProgress(int(row[0] or 0), int(row[1] or 0)) if row is not None else None

    async def lock_launch(self, launch_id: int) -> Launch | None:
        """The launch with its team, its row locked until the transaction ends (the launch lock, taken first)."""
        return await self.session.scalar(
            select(Launch)
            .where(Launch.workspace_id == self.scope.workspace_id, Launch.id == launch_id)
            .options(selectinload(Launch.members))
            .with_for_update(of=Launch, key_share=True)
            .execution_options(populate_existing=True)
        )

    async def mark_stale(self, launch_id: int) -> None:
        """One more change the analysis does not cover yet (in the change's own transaction)."""
        await self.session.execute(
            update(Launch)
            .where(Launch.workspace_id == self.scope.workspace_id, Launch.id == launch_id)
            .values(changes=Launch.changes + 1)
            .execution_options(synchronize_session=False)
        )

    async def save(
        self,
        launch: Launch,
        tasks: list[Task],
        analysis: PlanAnalysis,
        slack_days: Mapping[str, float],
        *,
        analyzed_changes: int,
    ) -> None:
        """Store a recomputed critical path, risks and score on the launch, each task's slack, and what it covers.

        `launch` (locked) and `tasks` are rows of this session; only changed values are written.
        """
        assert launch.workspace_id == self.scope.workspace_id
        launch.critical_path = list(analysis.critical_path)
        launch.critical_path_days = analysis.critical_path_days
        launch.risks = list(analysis.risks)
        launch.quality_score = analysis.quality_score
        launch.analyzed_changes = max(launch.analyzed_changes or 0, analyzed_changes)
        for task in tasks:
            assert task.workspace_id == self.scope.workspace_id and task.launch_id == launch.id
            slack = round(slack_days.get(task.key, task.slack_days), 6)
            if slack != task.slack_days:
                task.slack_days = slack
        await self.session.flush()
