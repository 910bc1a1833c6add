"""Workspaces and their people."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import User, Workspace
from storage.scope import Scope


class WorkspaceRepository:
    def __init__(self, session: AsyncSession, scope: Scope) -> None:
        self.session = session
        self.scope = scope

    async def ensure(self, name: str = "") -> Workspace:
        """The scope's workspace row, created on first sight."""
        workspace = await self.session.get(Workspace, self.scope.workspace_id)
        if workspace is None:
            workspace = Workspace(id=self.scope.workspace_id, name=name)
            self.session.add(workspace)
            await self.session.flush()
        return workspace

    async def user(self, slack_id: str) -> User | None:
        return await self.session.scalar(
            select(User).where(User.workspace_id == self.scope.workspace_id, User.slack_id == slack_id)
        )

    async def ensure_user(self, slack_id: str, name: str = "") -> User:
        user = await self.user(slack_id)
        if user is None:
            user = User(workspace_id=self.scope.workspace_id, slack_id=slack_id, name=name)
            self.session.add(user)
            await self.session.flush()
        return user
