"""Calendar feeds: a secret, revocable token per person (and per person and launch), and what the feeds show.

Only the SHA-256 of a token is stored, like an API key: the URL is shown once, when it is made, and a lost URL
is replaced by a new one (which revokes the old). A token has 256 random bits, so a plain hash is enough.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.enums import TaskStatus
from storage.home import HIDDEN_REVIEW_STATES
from storage.models import Base, Launch, LaunchMember, Task, User, UtcDateTime, utcnow
from storage.scope import Scope

TOKEN_BYTES = 32
MAX_LAUNCH_CHOICES = 100


class FeedKind(StrEnum):
    PERSON = "person"
    LAUNCH = "launch"


class CalendarFeed(Base):
    """One secret feed URL: a person's own, or a person's URL for one launch. Revoked rows are kept (audit)."""

    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    owner: Mapped[str] = mapped_column(String(32))  # the Slack id of the person who made it
    kind: Mapped[str] = mapped_column(String(8))
    launch_id: Mapped[int | None] = mapped_column(ForeignKey("launches.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    app_id: Mapped[str | None] = mapped_column(String(32))  # the Slack app, for links back into it
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def feed_for_token(session: AsyncSession, kind: FeedKind, token: str) -> CalendarFeed | None:
    """The live feed a URL's token opens, or None; the one query not scoped by workspace: the token names it."""
    if not token or len(token) > 100:
        return None
    return await session.scalar(
        select(CalendarFeed).where(CalendarFeed.token_hash == token_hash(token), CalendarFeed.kind == kind,
                                   CalendarFeed.revoked_at.is_(None))
    )


@dataclass
class FeedData:
    """What one feed shows, read within one workspace."""

    tasks: list[Task] = field(default_factory=list)  # open tasks with a due date, and milestones
    launches: dict[int, Launch] = field(default_factory=dict)
    roster: list[str] = field(default_factory=list)  # every name known in the workspace, for the redaction
    me: str | None = None  # the subscriber's own name: theirs to export


class CalendarRepository:
    def __init__(self, session: AsyncSession, scope: Scope) -> None:
        self.session = session
        self.ws = scope.workspace_id

    # --- tokens --------------------------------------------------------------------------------------

    async def active(self, owner: str, kind: FeedKind, launch_id: int | None = None) -> CalendarFeed | None:
        return await self.session.scalar(self._active(owner, kind, launch_id))

    def _active(self, owner: str, kind: FeedKind, launch_id: int | None) -> Any:
        query = select(CalendarFeed).where(CalendarFeed.workspace_id == self.ws, CalendarFeed.owner == owner,
                                           CalendarFeed.kind == kind, CalendarFeed.revoked_at.is_(None))
        if launch_id is not None:
            query = query.where(CalendarFeed.launch_id == launch_id)
        return query

    async def revoke(self, owner: str, kind: FeedKind, launch_id: int | None = None) -> list[CalendarFeed]:
        """Turn off the person's live URL(s) of this kind (and launch); returns what was revoked."""
        rows = list(await self.session.scalars(self._active(owner, kind, launch_id)))
        now = utcnow()
        for row in rows:
            row.revoked_at = now
        await self.session.flush()
        return rows

    async def create(self, owner: str, kind: FeedKind, launch_id: int | None = None, *,
                     app_id: str | None = None) -> tuple[CalendarFeed, str, list[CalendarFeed]]:
        """A new URL for the person, revoking the one before it: (the row, its token, the revoked rows)."""
        revoked = await self.revoke(owner, kind, launch_id)
        token = new_token()
        row = CalendarFeed(workspace_id=self.ws, owner=owner, kind=kind, launch_id=launch_id,
                           token_hash=token_hash(token), app_id=app_id)
        self.session.add(row)
        await self.session.flush()
        return row, token, revoked

    # --- what feeds show ------------------------------------------------------------------------------

    async def launch(self, launch_id: int) -> Launch | None:
        return await self.session.scalar(select(Launch).where(Launch.workspace_id == self.ws, Launch.id == launch_id))

    def _my_launch_ids(self, slack_id: str) -> Any:
        member_of = select(LaunchMember.launch_id).where(LaunchMember.workspace_id == self.ws,
                                                         LaunchMember.slack_id == slack_id)
        owner_of = select(Task.launch_id).where(Task.workspace_id == self.ws, Task.assignee_slack_id == slack_id)
        return select(Launch.id).where(
            Launch.workspace_id == self.ws,
            or_(Launch.created_by == slack_id, Launch.id.in_(member_of), Launch.id.in_(owner_of)),
        )

    async def my_launches(self, slack_id: str, limit: int = MAX_LAUNCH_CHOICES) -> list[Launch]:
        query = (select(Launch).where(Launch.workspace_id == self.ws, Launch.id.in_(self._my_launch_ids(slack_id)))
                 .order_by(Launch.target_date, Launch.id).limit(limit))
        return list(await self.session.scalars(query))

    def _shown_tasks(self) -> Any:
        """Tasks a feed may show: with a date, not waiting for (or removed by) review; open ones or milestones."""
        return select(Task).where(
            Task.workspace_id == self.ws,
            Task.due.is_not(None),
            or_(Task.review_state.is_(None), Task.review_state.not_in(HIDDEN_REVIEW_STATES)),
            or_(Task.status != TaskStatus.DONE, Task.milestone.is_(True)),
        )

    async def person_feed(self, slack_id: str) -> FeedData:
        """My open tasks with a due date, the milestones of the launches I am on, and those launches."""
        launches = await self.my_launches(slack_id, limit=10_000)
        ids = [launch.id for launch in launches]
        query = self._shown_tasks().where(
            or_(Task.assignee_slack_id == slack_id, and_(Task.launch_id.in_(ids), Task.milestone.is_(True)))
        )
        tasks = list(await self.session.scalars(query.order_by(Task.due, Task.id)))
        data = FeedData(tasks=tasks, launches={launch.id: launch for launch in launches})
        missing = {t.launch_id for t in tasks} - set(data.launches)
        if missing:
            extra = await self.session.scalars(select(Launch).where(Launch.workspace_id == self.ws,
                                                                    Launch.id.in_(missing)))
            data.launches.update({launch.id: launch for launch in extra})
        await self._add_roster(data, slack_id)
        return data

    async def launch_feed(self, launch_id: int, subscriber: str) -> FeedData | None:
        """One launch: its open tasks with a due date, its milestones and its target date."""
        launch = await self.launch(launch_id)
        if launch is None:
            return None
        query = self._shown_tasks().where(Task.launch_id == launch_id).order_by(Task.due, Task.id)
        data = FeedData(tasks=list(await self.session.scalars(query)), launches={launch.id: launch})
        await self._add_roster(data, subscriber)
        return data

    async def _add_roster(self, data: FeedData, subscriber: str) -> None:
        users = list(await self.session.scalars(select(User).where(User.workspace_id == self.ws)))
        members = await self.session.scalars(select(LaunchMember.name).where(LaunchMember.workspace_id == self.ws))
        names = {u.name for u in users if u.name} | {n for n in members if n}
        names |= {t.assignee for t in data.tasks if t.assignee}
        data.me = next((u.name for u in users if u.slack_id == subscriber and u.name), None)
        data.roster = sorted(names)
