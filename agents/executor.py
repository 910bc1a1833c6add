"""The executor agent: writes a finished plan into storage, once."""

from __future__ import annotations

from agents import tracker_sync
from agents.plan import Plan, PlannedTask
from storage.launches import LaunchRepository, NewDependency, NewTask, PlanAnalysis
from storage.versions import VersionRepository


async def store_plan(
    launches: LaunchRepository, launch_id: int, plan: Plan, slack_ids: dict[str, str]
) -> bool:
    """Persist tasks, edges and analysis; False when this launch was already planned.

    `slack_ids` maps a team member's name to their Slack id so assignees can be mentioned.
    """
    tasks = [new_task(t, slack_ids, plan.slack_days.get(t.key, 0.0)) for t in plan.tasks]
    edges = [
        NewDependency(
            from_key=e.from_key, to_key=e.to_key, kind=str(e.kind), source=e.source, confidence=e.confidence
        )
        for e in plan.edges
    ]
    analysis = PlanAnalysis(
        critical_path=list(plan.critical_path),
        critical_path_days=plan.critical_path_days,
        risks=[r.to_json() for r in plan.risks],
        quality_score=plan.quality_score,
    )
    if not await launches.save_plan(launch_id, tasks, edges, analysis):
        return False
    # The first version stays readable after re-plans (`/launch status NAME v1`).
    await VersionRepository(launches.session, launches.scope).record_saved(launch_id, plan.to_json())
    # The launch's tracker (if it has one) gets its tasks, in this same transaction (agents/tracker_sync.py).
    await tracker_sync.queue_launch(launches.session, launches.scope, launch_id)
    return True


def new_task(t: PlannedTask, slack_ids: dict[str, str], slack_days: float = 0.0) -> NewTask:
    """A planned task as storage writes it; the assignee's Slack id comes from the team's names."""
    return NewTask(
        key=t.key,
        title=t.title,
        description=t.description,
        team=t.team,
        role=t.role,
        assignee=t.assignee,
        assignee_slack_id=slack_ids.get(t.assignee) if t.assignee else None,
        estimate_days=t.estimate_days,
        start=t.start,
        due=t.due,
        priority=str(t.priority),
        confidence=t.confidence,
        flags=list(t.flags),
        milestone=t.milestone,
        slack_days=slack_days,
    )
