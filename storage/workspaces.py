"""Workspaces and their people."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import Role
from storage.models import Base, User, Workspace
from storage.scope import Scope


class WorkspaceRepository:
    def __init__(self, session: AsyncSession, scope: Scope) -> None:
        self.session = session
        self.scope = scope

    async def ensure(self, name: str = "") -> Workspace:
        """The scope's workspace row, created on first sight (safe when first requests race)."""
        workspace = await self.session.get(Workspace, self.scope.workspace_id)
        if workspace is None:
            await self.session.execute(
                insert_ignoring_duplicates(self.session, Workspace).values(id=self.scope.workspace_id, name=name)
            )
            workspace = await self.session.get(Workspace, self.scope.workspace_id)
            assert workspace is not None
        return workspace

    async def user(self, slack_id: str) -> User | None:
        return await self.session.scalar(
            select(User).where(User.workspace_id == self.scope.workspace_id, User.slack_id == slack_id)
        )

    async def admins(self) -> list[User]:
        return list(
            await self.session.scalars(
                select(User)
                .where(User.workspace_id == self.scope.workspace_id, User.role == Role.ADMIN)
                .order_by(User.slack_id)
            )
        )

    async def emails(self, slack_ids: list[str]) -> dict[str, str]:
        """Slack id -> email of those of `slack_ids` whose email is known (in chunks: the IN list stays small)."""
        wanted = sorted({s for s in slack_ids if s})
        found: dict[str, str] = {}
        for start in range(0, len(wanted), 500):
            rows = await self.session.execute(
                select(User.slack_id, User.email).where(
                    User.workspace_id == self.scope.workspace_id,
                    User.slack_id.in_(wanted[start:start + 500]),
                    User.email.is_not(None),
                )
            )
            found |= {slack_id: email for slack_id, email in rows if email}
        return found

    async def ensure_user(self, slack_id: str, name: str = "") -> User:
        user = await self.user(slack_id)
        if user is None:
            await self.session.execute(
                insert_ignoring_duplicates(self.session, User).values(
                    workspace_id=self.scope.workspace_id, slack_id=slack_id, name=name, role=Role.MEMBER
                )
            )
            user = await self.user(slack_id)
            assert user is not None
        return user


def insert_ignoring_duplicates(session: AsyncSession, model: type[Base]) -> Any:
    """INSERT … ON CONFLICT DO NOTHING for the session's dialect (SQLite or PostgreSQL)."""
    if session.bind.dialect.name == "postgresql":
        return postgresql.insert(model).on_conflict_do_nothing()
    return sqlite.insert(model).on_conflict_do_nothing()
