"""The orchestrator: runs the pipeline for a stored launch and records the outcome, idempotently."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import date
from enum import StrEnum

from agents import launch_pii, notification, notification_events
from agents.access import AuditAction
from agents.executor import store_plan
from agents.guardrail import GuardrailError, PiiMapping
from agents.llm_planner import PlanModels
from agents.pipeline import build_plan
from agents.plan import Brief, Plan, PlannedTask, TeamMember
from agents.planning import plan_stored_launch
from agents.review_request import request_review
from storage.audit import AuditLog
from storage.db import Database
from storage.enums import LaunchStatus
from storage.launches import LaunchRepository
from storage.models import Launch, Task
from storage.outbox import OutboxRepository
from storage.scope import Scope
from storage.workspaces import WorkspaceRepository

log = logging.getLogger(__name__)


class PlanOutcome(StrEnum):
    PLANNED = "planned"
    ALREADY_DONE = "already_done"
    MISSING = "missing"
    FAILED = "failed"


def booked_work(task: Task) -> PlannedTask:
    """A stored task as the resource check sees it: who, when, how much."""
    return PlannedTask(
        key=task.key, title=task.title, description="", team=task.team, role=task.role,
        estimate_days=task.estimate_days, assignee=task.assignee, start=task.start, due=task.due,
    )


def brief_of(launch: Launch) -> Brief:
    return Brief(
        name=launch.name,
        target_date=launch.target_date,
        text=launch.brief,
        launch_type=launch.launch_type,
        team=tuple(TeamMember(name=m.name, role=m.role, slack_id=m.slack_id) for m in launch.members),
        channel=launch.channel_id,
    )


async def plan_launch(
    db: Database, workspace_id: str, launch_id: int, *, today: date | None = None, llm: PlanModels | None = None
) -> PlanOutcome:
    """Plan a draft launch. Running it again, or twice at once, plans and announces it once."""
    scope = Scope(workspace_id)
    async with db.session() as session:
        launches = LaunchRepository(session, scope)
        launch = await launches.get(launch_id)
        if launch is None:
            return PlanOutcome.MISSING
        if launch.status in (LaunchStatus.PLANNED, LaunchStatus.FAILED):
            return PlanOutcome.ALREADY_DONE
        if not await launches.claim_for_planning(launch_id):
            return PlanOutcome.ALREADY_DONE
        brief = brief_of(launch)
        slack_ids = {m.name: m.slack_id for m in launch.members if m.slack_id}
        concurrent = await launches.concurrent_tasks(launch_id, today or date.today())
        other_launches = [[booked_work(t) for t in tasks] for tasks in concurrent.values()]

    try:
        async with db.reader() as session:
            mapping = await launch_pii.stored_mapping(session, scope, launch_id)
        plan = await make_plan(db, scope, launch_id, brief, today, llm, other_launches, mapping)
        async with db.session() as session:
            launches = LaunchRepository(session, scope)
            if not await store_plan(launches, launch_id, plan, slack_ids):
                return PlanOutcome.ALREADY_DONE
            await launch_pii.save_mapping(session, scope, launch_id, mapping)
            launch = await launches.get(launch_id)
            assert launch is not None
            await notification.announce_plan(OutboxRepository(session, scope), launch)
            # After the plan's own row, so the review message threads under the posted plan.
            await request_review(session, scope, launch)
            # After the review opened: flagged tasks are announced to their owners once it is decided.
            tasks = await launches.tasks(launch_id)
            await notification_events.notify_assignments(session, scope, launch, tasks)
            await notification_events.record_plan_health(session, scope, launch, tasks, today)
            await AuditLog(session, scope).append(
                actor="liftoff", action=AuditAction.LAUNCH_PLANNED, target=f"launch:{launch_id}",
                before={"status": LaunchStatus.PLANNING},
                after={"status": launch.status, "tasks": len(plan.tasks), "quality_score": launch.quality_score},
            )
    except Exception as exc:
        error_id = uuid.uuid4().hex[:8]
        log.exception("planning launch %s failed (error id %s)", launch_id, error_id)
        reason = f"{_reason(exc)} (error id {error_id})"
        await _record_failure(db, scope, launch_id, reason, alert_admins=isinstance(exc, GuardrailError))
        return PlanOutcome.FAILED
    return PlanOutcome.PLANNED


async def make_plan(
    db: Database, scope: Scope, launch_id: int, brief: Brief, today: date | None, llm: PlanModels | None,
    other_launches: list[list[PlannedTask]], mapping: PiiMapping | None = None,
) -> Plan:
    """The pipeline for a stored launch's brief (first plan or re-plan); raises GuardrailError like build_plan.

    `mapping` is the launch's PII mapping, updated in place; the caller stores it with the plan.
    """
    if llm is not None:
        # LLM providers first (usage recorded per call), then the templates; see agents/planning.py.
        return (await plan_stored_launch(db, scope, launch_id, brief, today, llm, other_launches, mapping)).plan
    # CPU-bound: off the event loop so an in-process app keeps acking while it plans.
    return await asyncio.to_thread(build_plan, brief, today, other_launches, mapping)


def _reason(exc: Exception) -> str:
    # The guardrail's message is written for people; any other failure stays generic.
    if isinstance(exc, GuardrailError):
        return str(exc)
    return "Liftoff could not build a plan from this brief"


async def _record_failure(db: Database, scope: Scope, launch_id: int, reason: str, *, alert_admins: bool) -> None:
    async with db.session() as session:
        launches = LaunchRepository(session, scope)
        if await launches.mark_failed(launch_id, reason):
            launch = await launches.get(launch_id)
            assert launch is not None
            outbox = OutboxRepository(session, scope)
            await notification.announce_planning_failed(outbox, launch, reason)
            if alert_admins:
                admins = [user.slack_id for user in await WorkspaceRepository(session, scope).admins()]
                await notification.alert_admins(outbox, launch, reason, admins)
            await AuditLog(session, scope).append(
                actor="liftoff", action=AuditAction.LAUNCH_FAILED, target=f"launch:{launch_id}",
                before={"status": LaunchStatus.PLANNING}, after={"status": LaunchStatus.FAILED}, note=reason,
            )
