"""The jobs themselves: each composes agents, storage and Slack delivery for one id."""

from __future__ import annotations

from agents import orchestrator
from bot import delivery
from bot.jobs import JobName
from bot.services import Services
from bot.team_directory import resolve_team


async def plan_launch(services: Services, workspace_id: str, launch_id: int) -> None:
    client = await services.slack.for_workspace(workspace_id)
    await resolve_team(services.db, client, workspace_id, int(launch_id))
    outcome = await orchestrator.plan_launch(services.db, workspace_id, int(launch_id), llm=services.llm)
    if outcome in (orchestrator.PlanOutcome.PLANNED, orchestrator.PlanOutcome.FAILED):
        await services.jobs.enqueue(JobName.DRAIN_SLACK_OUTBOX, workspace_id)


async def replan_launch(services: Services, workspace_id: str, launch_id: int, version: int) -> None:
    from agents import replan
    from bot.replan_delivery import refresh_homes

    client = await services.slack.for_workspace(workspace_id)
    if not await replan.prepare_replan(services.db, workspace_id, int(launch_id), int(version)):
        return
    await resolve_team(services.db, client, workspace_id, int(launch_id))
    result = await replan.replan_launch(services.db, workspace_id, int(launch_id), int(version), llm=services.llm)
    if result.outcome in (replan.ReplanOutcome.REPLANNED, replan.ReplanOutcome.FAILED):
        await services.jobs.enqueue(JobName.DRAIN_SLACK_OUTBOX, workspace_id)
    await refresh_homes(services, client, workspace_id, result.touched)


async def drain_slack_outbox(services: Services, workspace_id: str) -> None:
    client = await services.slack.for_workspace(workspace_id)
    await delivery.drain_slack_outbox(services.db, client, workspace_id)


async def okr_report(services: Services, workspace_id: str, channel: str, period: str, user_id: str) -> None:
    from bot.okr_delivery import post_quarterly_review

    client = await services.slack.for_workspace(workspace_id)
    await post_quarterly_review(services.db, client, workspace_id, channel, period, user_id)
