"""The executor agent: writes a finished plan into storage, once."""

from __future__ import annotations

from agents.plan import Plan
from storage.launches import LaunchRepository, NewDependency, NewTask, PlanAnalysis


async def store_plan(
    launches: LaunchRepository, launch_id: int, plan: Plan, slack_ids: dict[str, str]
) -> bool:
    """Persist tasks, edges and analysis; False when this launch was already planned.

    `slack_ids` maps a team member's name to their Slack id so assignees can be mentioned.
    """
    tasks = [
        NewTask(
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
            slack_days=plan.slack_days.get(t.key, 0.0),
        )
        for t in plan.tasks
    ]
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
    return await launches.save_plan(launch_id, tasks, edges, analysis)
