"""LLM calls per launch: tokens and cost of each call, the budget check, and the summary a plan message shows.

A call made for no launch (an `/okr ask` question) belongs to the workspace alone (launch_id NULL); its spend
is summed per workspace and month for the questions' budget.

Also the read the planner's retrieval needs: the workspace's past planned launches with their tasks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from sqlalchemy import DateTime, Float, ForeignKey, Index, Integer, String, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column, selectinload

from storage.enums import LaunchStatus
from storage.models import Base, Launch, Task, utcnow
from storage.scope import Scope


class CallOutcome(StrEnum):
    """What became of one LLM answer."""

    ACCEPTED = "accepted"  # its plan was used
    MALFORMED = "malformed"  # not valid JSON / not the schema
    REJECTED = "rejected"  # parsed, but the plan was unusable


class LlmUsage(Base):
    __tablename__ = "llm_usage"
    __table_args__ = (Index("ix_llm_usage_workspace_created", "workspace_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    # NULL: a call for the workspace (an OKR question), not for a launch.
    launch_id: Mapped[int | None] = mapped_column(ForeignKey("launches.id", ondelete="CASCADE"), index=True,
                                                  nullable=True)
    provider: Mapped[str] = mapped_column(String(32))
    model: Mapped[str] = mapped_column(String(100))
    purpose: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(16))
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cache_read_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cache_write_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


@dataclass(frozen=True)
class UsageRecord:
    provider: str
    model: str
    purpose: str
    outcome: str
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cost_usd: float

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens + self.cache_read_tokens + self.cache_write_tokens


@dataclass(frozen=True)
class UsageSummary:
    """What the plan message says about how the plan was made."""

    calls: int
    total_tokens: int
    cost_usd: float
    # The model whose plan was used; None when the plan came from the templates.
    planned_by: str | None

    @property
    def used_llm(self) -> bool:
        return self.calls > 0


@dataclass(frozen=True)
class PastLaunch:
    launch_id: int
    name: str
    launch_type: str
    brief: str
    member_names: tuple[str, ...]
    tasks: tuple[tuple[str, str, float], ...]  # (title, role, estimate_days)


class LlmUsageRepository:
    def __init__(self, session: AsyncSession, scope: Scope) -> None:
        self.session = session
        self.scope = scope

    async def record(self, launch_id: int | None, usage: UsageRecord) -> None:
        """One call's usage; `launch_id` None for a call the workspace made for no launch (a question)."""
        self.session.add(
            LlmUsage(
                workspace_id=self.scope.workspace_id,
                launch_id=launch_id,
                provider=usage.provider,
                model=usage.model,
                purpose=usage.purpose,
                outcome=usage.outcome,
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
                cache_read_tokens=usage.cache_read_tokens,
                cache_write_tokens=usage.cache_write_tokens,
                cost_usd=usage.cost_usd,
            )
        )
        await self.session.flush()

    async def calls(self, launch_id: int) -> list[LlmUsage]:
        return list(
            await self.session.scalars(
                select(LlmUsage)
                .where(LlmUsage.workspace_id == self.scope.workspace_id, LlmUsage.launch_id == launch_id)
                .order_by(LlmUsage.id)
            )
        )

    async def spent_usd(self, launch_id: int) -> float:
        total = await self.session.scalar(
            select(func.coalesce(func.sum(LlmUsage.cost_usd), 0.0)).where(
                LlmUsage.workspace_id == self.scope.workspace_id, LlmUsage.launch_id == launch_id
            )
        )
        return float(total or 0.0)

    async def workspace_spent_usd(self, since: datetime) -> float:
        """What calls for no launch (OKR questions) cost this workspace since `since`."""
        total = await self.session.scalar(
            select(func.coalesce(func.sum(LlmUsage.cost_usd), 0.0)).where(
                LlmUsage.workspace_id == self.scope.workspace_id, LlmUsage.launch_id.is_(None),
                LlmUsage.created_at >= since,
            )
        )
        return float(total or 0.0)

    async def workspace_calls(self, since: datetime) -> list[LlmUsage]:
        """The calls for no launch since `since`, oldest first."""
        return list(
            await self.session.scalars(
                select(LlmUsage)
                .where(LlmUsage.workspace_id == self.scope.workspace_id, LlmUsage.launch_id.is_(None),
                       LlmUsage.created_at >= since)
                .order_by(LlmUsage.id)
            )
        )

    async def summary(self, launch_id: int) -> UsageSummary:
        rows = await self.calls(launch_id)
        accepted = [r.model for r in rows if r.outcome == CallOutcome.ACCEPTED]
        return UsageSummary(
            calls=len(rows),
            total_tokens=sum(r.input_tokens + r.output_tokens + r.cache_read_tokens + r.cache_write_tokens
                             for r in rows),
            cost_usd=sum(r.cost_usd for r in rows),
            planned_by=accepted[-1] if accepted else None,
        )


class PastLaunchRepository:
    """Planned launches of the scope's workspace, for the planner's examples."""

    def __init__(self, session: AsyncSession, scope: Scope) -> None:
        self.session = session
        self.scope = scope

    async def candidates(self, exclude_id: int | None, limit: int = 200) -> list[PastLaunch]:
        """The most recently planned launches, newest first, without their tasks (see with_tasks)."""
        query = (
            select(Launch)
            .where(Launch.workspace_id == self.scope.workspace_id, Launch.status == LaunchStatus.PLANNED)
            .options(selectinload(Launch.members))
            .order_by(Launch.planned_at.desc(), Launch.id.desc())
            .limit(limit)
        )
        if exclude_id is not None:
            query = query.where(Launch.id != exclude_id)
        return [
            PastLaunch(
                launch_id=launch.id,
                name=launch.name,
                launch_type=launch.launch_type,
                brief=launch.brief,
                member_names=tuple(m.name for m in launch.members),
                tasks=(),
            )
            for launch in await self.session.scalars(query)
        ]

    async def with_tasks(self, launches: Sequence[PastLaunch], max_tasks: int = 60) -> list[PastLaunch]:
        """The same launches with their first `max_tasks` tasks (title, role, estimate) in plan order."""
        if not launches:
            return []
        ids = [launch.launch_id for launch in launches]
        rows = await self.session.scalars(
            select(Task)
            .where(Task.workspace_id == self.scope.workspace_id, Task.launch_id.in_(ids))
            .order_by(Task.launch_id, Task.position)
        )
        by_launch: dict[int, list[tuple[str, str, float]]] = {i: [] for i in ids}
        for task in rows:
            if len(by_launch[task.launch_id]) < max_tasks:
                by_launch[task.launch_id].append((task.title, task.role, task.estimate_days))
        return [replace(launch, tasks=tuple(by_launch[launch.launch_id])) for launch in launches]
