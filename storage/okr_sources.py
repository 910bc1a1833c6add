"""Reads for automatic OKR progress: which key results follow a launch, and that launch's task statuses."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Launch, Task, Workspace
from storage.okr_enums import ProgressSource
from storage.okr_models import KeyResult
from storage.scope import Scope


class LaunchProgressRepository:
    def __init__(self, session: AsyncSession, scope: Scope) -> None:
        self.session = session
        self.scope = scope

    @property
    def ws(self) -> str:
        return self.scope.workspace_id

    async def followers(self, launch_id: int) -> list[KeyResult]:
        """Key results whose source is this launch, named by its id or (any case) its name."""
        name_key = select(Launch.name_key).where(Launch.workspace_id == self.ws, Launch.id == launch_id)
        return list(await self.session.scalars(
            select(KeyResult).where(
                KeyResult.workspace_id == self.ws, KeyResult.source == ProgressSource.LAUNCH,
                or_(KeyResult.source_ref == str(launch_id), func.lower(KeyResult.source_ref).in_(name_key)),
            ).order_by(KeyResult.key)
        ))

    async def task_statuses(self, launch_id: int) -> list[str]:
        return list(await self.session.scalars(
            select(Task.status).where(Task.workspace_id == self.ws, Task.launch_id == launch_id)
        ))

    async def followed_launches(self) -> list[int]:
        """Ids of the workspace's launches that some key result follows (by id or by name)."""
        refs = [str(r).strip() for r in await self.session.scalars(
            select(KeyResult.source_ref).distinct().where(KeyResult.workspace_id == self.ws,
                                                          KeyResult.source == ProgressSource.LAUNCH)) if r]
        ids = [int(r) for r in refs if r.isascii() and r.isdigit() and len(r) < 10]
        names = [r.lower() for r in refs]
        return list(await self.session.scalars(
            select(Launch.id).where(Launch.workspace_id == self.ws, or_(Launch.id.in_(ids), Launch.name_key.in_(names)))
            .order_by(Launch.id)
        ))


async def workspaces_with_sources(session: AsyncSession) -> list[str]:
    """Workspaces with a key result that follows a launch or a JQL query (for the scheduled sync)."""
    return list(await session.scalars(
        select(KeyResult.workspace_id).distinct().join(Workspace, Workspace.id == KeyResult.workspace_id)
        .where(KeyResult.source.in_([ProgressSource.LAUNCH, ProgressSource.JIRA]))
    ))
