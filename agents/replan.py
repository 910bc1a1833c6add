"""Re-planning a launch: a new plan version from an edited brief, merged with the work already done.

The request is stored as the next version's pending LaunchVersion row (one per version, so two
submissions cannot both start one). The job then snapshots the current version, brings the team in
line with the request, plans the new brief with the same pipeline as the first plan, and, once, merges
it (agents/plan_merge.py), bumps the version and posts the diff through the outbox.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from agents import launch_pii, notification, notification_events, orchestrator, tracker_sync
from agents.access import AuditAction
from agents.guardrail import GuardrailError
from agents.intake import ValidBrief
from agents.llm_planner import PlanModels
from agents.plan import Brief, Plan, Risk, Severity, TeamMember
from agents.plan_merge import merge_plan
from agents.review_request import request_review
from agents.task_updates import progress_risks
from storage.audit import AuditLog
from storage.db import Database
from storage.enums import Destination, OutboxKind
from storage.launches import LaunchRepository
from storage.models import Launch, LaunchVersion
from storage.outbox import OutboxRepository
from storage.scope import Scope
from storage.versions import PENDING, LaunchChanges, ReplanTarget, VersionRepository, is_pending, plan_document
from storage.workspaces import WorkspaceRepository

log = logging.getLogger(__name__)

_SEVERITY_ORDER = {Severity.HIGH: 0, Severity.MEDIUM: 1, Severity.LOW: 2}


class ReplanOutcome(StrEnum):
    REPLANNED = "replanned"
    ALREADY_DONE = "already_done"
    MISSING = "missing"
    FAILED = "failed"


@dataclass(frozen=True)
class ReplanRequest:
    """What the PM asked for in the re-plan modal (the brief text and date live on the version row)."""

    name: str
    launch_type: str
    channel_id: str | None
    team: list[str]

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "launch_type": self.launch_type, "channel_id": self.channel_id, "team": self.team}

    @classmethod
    def of(cls, row: LaunchVersion) -> ReplanRequest:
        data = row.plan.get(PENDING) or {}
        return cls(str(data["name"]), str(data["launch_type"]), data.get("channel_id"), list(data.get("team", [])))


@dataclass
class ReplanResult:
    outcome: ReplanOutcome
    # People whose work or launch changed: their Home tabs are rebuilt.
    touched: set[str] = field(default_factory=set)


def launch_state(launch: Launch) -> dict[str, Any]:
    """The launch's plan settings, as the audit log records them (the same shape as a re-plan request's)."""
    return ReplanTarget.of(launch).state()


async def request_replan(db: Database, scope: Scope, launch: ReplanTarget, checked: ValidBrief,
                         user_id: str) -> int:
    """Store the request as the launch's next version's pending row and audit it, with the launch as its check
    read it; returns that version.

    Raises IntegrityError when a re-plan of this version was already requested.
    """
    version = launch.version + 1
    request = ReplanRequest(checked.name, checked.launch_type, checked.channel, list(checked.team))
    async with db.session() as session:
        await VersionRepository(session, scope).request(
            launch.id, version, request.to_json(), brief=checked.brief, target_date=checked.target_date,
            created_by=user_id,
        )
        await AuditLog(session, scope).append(
            actor=user_id, action=AuditAction.LAUNCH_REPLAN_REQUESTED, target=f"launch:{launch.id}",
            before=launch.state(),
            after={**request.to_json(), "version": version, "target_date": checked.target_date},
        )
    return version


async def prepare_replan(db: Database, workspace_id: str, launch_id: int, version: int) -> bool:
    """Snapshot the current version and make the team the requested one; False when there is nothing to do."""
    scope = Scope(workspace_id)
    async with db.session() as session:
        launch = await LaunchRepository(session, scope).get(launch_id)
        versions = VersionRepository(session, scope)
        row = await versions.get(launch_id, version)
        if launch is None or row is None or not is_pending(row) or launch.version != version - 1:
            return False
        await versions.snapshot(launch)
        await versions.sync_members(launch, ReplanRequest.of(row).team)
    return True


async def replan_launch(
    db: Database, workspace_id: str, launch_id: int, version: int, *, today: date | None = None,
    llm: PlanModels | None = None,
) -> ReplanResult:
    """Plan the requested version and merge it in. Running it again, or twice at once, changes it once."""
    scope = Scope(workspace_id)
    today = today or date.today()
    async with db.reader() as session:
        launches = LaunchRepository(session, scope)
        launch = await launches.get(launch_id)
        row = await VersionRepository(session, scope).get(launch_id, version)
        if launch is None or row is None:
            return ReplanResult(ReplanOutcome.MISSING)
        if launch.version >= version or not is_pending(row):
            return ReplanResult(ReplanOutcome.ALREADY_DONE)
        request = ReplanRequest.of(row)
        brief = Brief(
            name=request.name, target_date=row.target_date, text=row.brief, launch_type=request.launch_type,
            team=tuple(TeamMember(m.name, m.role, m.slack_id) for m in launch.members), channel=request.channel_id,
        )
        slack_ids = {m.name: m.slack_id for m in launch.members if m.slack_id}
        concurrent = await launches.concurrent_tasks(launch_id, today)
        other_launches = [[orchestrator.booked_work(t) for t in tasks] for tasks in concurrent.values()]
    try:
        async with db.reader() as session:
            # The numbers of the first plan's placeholders stay: the kept tasks' text uses them.
            mapping = await launch_pii.stored_mapping(session, scope, launch_id)
        plan = await orchestrator.make_plan(db, scope, launch_id, brief, today, llm, other_launches, mapping)
        async with db.session() as session:
            result = await _save(session, scope, launch_id, version, request, plan, slack_ids, today)
            if result.outcome is ReplanOutcome.REPLANNED:
                await launch_pii.save_mapping(session, scope, launch_id, mapping)
            return result
    except Exception as exc:
        error_id = uuid.uuid4().hex[:8]
        log.exception("re-planning launch %s v%s failed (error id %s)", launch_id, version, error_id)
        reason = str(exc) if isinstance(exc, GuardrailError) else "Liftoff could not build a plan from this brief"
        await _record_failure(db, scope, launch_id, version, f"{reason} (error id {error_id})",
                              alert_admins=isinstance(exc, GuardrailError))
        return ReplanResult(ReplanOutcome.FAILED)


async def _save(session: AsyncSession, scope: Scope, launch_id: int, version: int, request: ReplanRequest, plan: Plan,
                slack_ids: dict[str, str], today: date) -> ReplanResult:
    launches = LaunchRepository(session, scope)
    versions = VersionRepository(session, scope)
    # The guard: on PostgreSQL a second run waits on the row lock, then finds the version taken.
    if not await versions.claim_next_version(launch_id, version - 1):
        return ReplanResult(ReplanOutcome.ALREADY_DONE)
    launch = await launches.get(launch_id)
    row = await versions.get(launch_id, version)
    assert launch is not None and row is not None
    before = launch_state(launch) | {"version": version - 1}
    old_tasks = await launches.tasks(launch_id)
    owners_before = {t.id: t.assignee_slack_id for t in old_tasks}  # before the merge rewrites these rows
    merge = merge_plan(old_tasks, await launches.dependencies(launch_id), plan, version=version, slack_ids=slack_ids)
    touched = {launch.created_by, row.created_by}
    touched |= {t.assignee_slack_id for t in old_tasks if t.id in merge.removed_ids and t.assignee_slack_id}
    touched |= {w.values.assignee_slack_id for w in merge.tasks if w.values and w.values.assignee_slack_id}
    rows = await versions.write_merged_plan(launch_id, merge.tasks, merge.removed_ids, merge.dependencies,
                                            merge.slack_days)
    name = request.name
    taken = await launches.by_name(name)
    if taken is not None and taken.id != launch_id:
        name = launch.name  # another launch took the name after the modal was checked: keep the old one
    risks: list[Risk] = progress_risks(rows, set(merge.critical_path), today) + list(plan.risks)
    risks.sort(key=lambda r: _SEVERITY_ORDER.get(r.severity, 3))
    await versions.update_launch(launch_id, LaunchChanges(
        name=name, brief=row.brief, target_date=row.target_date, launch_type=request.launch_type,
        channel_id=request.channel_id, critical_path=merge.critical_path,
        critical_path_days=merge.critical_path_days, risks=[r.to_json() for r in risks],
        quality_score=plan.quality_score,
    ))
    await session.refresh(launch)
    row.plan = {**plan_document(launch, rows, await launches.dependencies(launch_id)),
                "changes": merge.changes.to_json()}
    await announce_diff(OutboxRepository(session, scope), launch, version,
                        in_thread=before["channel_id"] == launch.channel_id)
    # The launch's tracker (if any) gets added, changed and removed tasks, in this transaction.
    await tracker_sync.queue_launch(session, scope, launch_id)
    # Flagged tasks this version added wait for the PM's review, like a first plan's (after the diff: it threads).
    await request_review(session, scope, launch)
    # New tasks and changed owners are told, grouped per person (after the review: flagged ones wait for it).
    await notification_events.notify_assignments(session, scope, launch, rows, owners_before)
    await notification_events.record_plan_health(session, scope, launch, rows, today)
    await AuditLog(session, scope).append(
        actor=row.created_by, action=AuditAction.LAUNCH_REPLANNED, target=f"launch:{launch_id}",
        before=before | {"tasks": len(old_tasks)},
        after=launch_state(launch) | {
            "tasks": len(rows), "added": len(merge.changes.added), "removed": len(merge.changes.removed),
            "changed": len(merge.changes.changed), "kept": len(merge.changes.kept),
        },
    )
    return ReplanResult(ReplanOutcome.REPLANNED, touched)


async def announce_diff(outbox: OutboxRepository, launch: Launch, version: int, *, in_thread: bool) -> None:
    """The diff goes in the plan's thread when there is one (and the channel did not change), else to the channel."""
    payload: dict[str, Any] = {"launch_id": launch.id, "version": version, "pm": launch.created_by}
    if in_thread and launch.plan_channel_id and launch.plan_ts:
        payload |= {"channel": launch.plan_channel_id, "thread_ts": launch.plan_ts}
    else:
        payload["channel"] = notification.plan_recipient(launch)
    await outbox.add(
        workspace_id=launch.workspace_id, destination=Destination.SLACK, kind=OutboxKind.PLAN_DIFF,
        idempotency_key=f"launch:{launch.id}:v{version}:diff", payload=payload,
    )


async def _record_failure(db: Database, scope: Scope, launch_id: int, version: int, reason: str, *,
                          alert_admins: bool) -> None:
    """Drop the pending request (the PM may try again), tell the requester why, and audit it."""
    async with db.session() as session:
        versions = VersionRepository(session, scope)
        launch = await LaunchRepository(session, scope).get(launch_id)
        row = await versions.get(launch_id, version)
        if launch is None or row is None or not is_pending(row):
            return
        requester, request_id = row.created_by, row.id
        await versions.discard(row)
        outbox = OutboxRepository(session, scope)
        await outbox.add(
            workspace_id=launch.workspace_id, destination=Destination.SLACK, kind=OutboxKind.REPLAN_FAILED,
            idempotency_key=f"launch:{launch_id}:replan:{request_id}:failed",
            payload={"launch_id": launch_id, "version": version, "channel": requester, "reason": reason},
        )
        if alert_admins:
            admins = [user.slack_id for user in await WorkspaceRepository(session, scope).admins()]
            await notification.alert_admins(outbox, launch, reason, admins)
        await AuditLog(session, scope).append(
            actor="liftoff", action=AuditAction.LAUNCH_REPLAN_FAILED, target=f"launch:{launch_id}",
            before={"version": launch.version}, after={"version": launch.version, "requested": version},
            note=reason,
        )
