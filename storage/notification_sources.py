"""The reads behind notification events: open tasks near their due date, key results waiting for a check-in,
people's timezones and the launch health last recorded (the audit log keeps each health change)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.audit import AuditEntry
from storage.enums import LaunchStatus, ReviewState, TaskStatus
from storage.models import Launch, Task, User
from storage.okr_enums import ApprovalState, ProgressSource
from storage.okr_models import KeyResult, Objective, OkrPeriod
from storage.scope import Scope


@dataclass(frozen=True)
class DueTask:
    task: Task
    launch_name: str


@dataclass(frozen=True)
class StaleKeyResult:
    key_result: KeyResult
    period_start: date
    period_end: date


class NotificationSources:
    def __init__(self, session: AsyncSession, scope: Scope) -> None:
        self.session = session
        self.ws = scope.workspace_id

    async def open_tasks_due_by(self, latest: date) -> list[DueTask]:
        """Open, assigned, announced tasks of planned launches due on or before `latest` (overdue ones too)."""
        rows = await self.session.execute(
            select(Task, Launch.name).join(Launch, Launch.id == Task.launch_id).where(
                Task.workspace_id == self.ws, Launch.workspace_id == self.ws, Launch.status == LaunchStatus.PLANNED,
                Task.status != TaskStatus.DONE, Task.assignee_slack_id.is_not(None), Task.due.is_not(None),
                Task.due <= latest,
                # A flagged task waiting for its review is not announced yet.
                or_(Task.review_state.is_(None), Task.review_state != ReviewState.OPEN),
            ).order_by(Task.due, Task.launch_id, Task.position))
        return [DueTask(task, name) for task, name in rows]

    async def stale_manual_key_results(self, today: date, every_days: int) -> list[StaleKeyResult]:
        """Key results of approved objectives in a running period, updated by hand, whose last check-in is
        `every_days` old or more (or that have none, `every_days` into the period). `today` is the latest local
        day of anyone in the workspace; the caller checks each owner's own day."""
        cutoff = today - timedelta(days=every_days)
        rows = await self.session.execute(
            select(KeyResult, OkrPeriod.start, OkrPeriod.end)
            .join(Objective, Objective.id == KeyResult.objective_id)
            .join(OkrPeriod, OkrPeriod.id == Objective.period_id)
            .where(
                KeyResult.workspace_id == self.ws, Objective.workspace_id == self.ws,
                Objective.approval == ApprovalState.APPROVED, KeyResult.source == ProgressSource.MANUAL,
                OkrPeriod.start <= today, OkrPeriod.end >= today - timedelta(days=2),
                or_(KeyResult.last_checkin_on <= cutoff,
                    and_(KeyResult.last_checkin_on.is_(None), OkrPeriod.start <= cutoff)),
            ).order_by(KeyResult.owner_id, KeyResult.key))
        return [StaleKeyResult(kr, start, end) for kr, start, end in rows]

    async def zones(self, slack_ids: set[str]) -> dict[str, str | None]:
        """Each person's IANA timezone as Slack last told us (None when unknown)."""
        found: dict[str, str | None] = {}
        wanted = sorted(slack_ids)
        for start in range(0, len(wanted), 500):
            rows = await self.session.execute(select(User.slack_id, User.tz).where(
                User.workspace_id == self.ws, User.slack_id.in_(wanted[start:start + 500])))
            found |= {slack_id: tz for slack_id, tz in rows}
        return found

    async def names(self, slack_ids: set[str]) -> dict[str, str]:
        rows = await self.session.execute(select(User.slack_id, User.name).where(
            User.workspace_id == self.ws, User.slack_id.in_(sorted(slack_ids))))
        return {slack_id: name for slack_id, name in rows if name}

    async def last_audited(self, action: str, target: str) -> Any:
        """The `after` of the latest audit entry of this action on this target (None when there is none)."""
        return await self.session.scalar(select(AuditEntry.after).where(
            AuditEntry.workspace_id == self.ws, AuditEntry.action == action, AuditEntry.target == target,
        ).order_by(AuditEntry.id.desc()).limit(1))
