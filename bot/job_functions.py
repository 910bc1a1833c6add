"""The jobs themselves: each composes agents, storage and Slack delivery for one id."""

from __future__ import annotations

from agents import orchestrator
from bot import delivery
from bot.jobs import JobName
from bot.services import Services
from bot.team_directory import resolve_team
from bot.tracker_window import enqueue_due_syncs


async def plan_launch(services: Services, workspace_id: str, launch_id: int) -> None:
    client = await services.slack.for_workspace(workspace_id)
    await resolve_team(services.db, client, workspace_id, int(launch_id))
    outcome = await orchestrator.plan_launch(services.db, workspace_id, int(launch_id), llm=services.llm)
    if outcome in (orchestrator.PlanOutcome.PLANNED, orchestrator.PlanOutcome.FAILED):
        await services.jobs.enqueue(JobName.DRAIN_SLACK_OUTBOX, workspace_id)
    if outcome is orchestrator.PlanOutcome.PLANNED:
        await enqueue_due_syncs(services, workspace_id)  # the plan's tasks to the launch's tracker


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
    if result.outcome is replan.ReplanOutcome.REPLANNED:
        await enqueue_due_syncs(services, workspace_id)
    await refresh_homes(services, client, workspace_id, result.touched)


async def recompute_launch(services: Services, workspace_id: str, launch_id: int) -> None:
    """The launch's critical path, slack and risks after changes (coalesced); the PM's Home when its health moved."""
    from agents.launch_analysis import refresh_analysis
    from agents.okr_sources import sync_launch_key_results
    from bot.replan_delivery import refresh_homes

    refreshed = await refresh_analysis(services.db, workspace_id, int(launch_id))
    await enqueue_due_syncs(services, workspace_id)  # the changed tasks to the launch's tracker
    # Key results following this launch take its share of tasks done (a check-in by Liftoff when it moved).
    await sync_launch_key_results(services.db, workspace_id, int(launch_id))
    if refreshed.alerted:  # the PM's urgent "launch at risk" goes out now, not at the next tick
        await services.jobs.enqueue(JobName.DELIVER_NOTIFICATIONS, workspace_id)
    if refreshed.health_changed and refreshed.pm:
        client = await services.slack.for_workspace(workspace_id)
        await refresh_homes(services, client, workspace_id, {refreshed.pm})


async def drain_slack_outbox(services: Services, workspace_id: str) -> None:
    client = await services.slack.for_workspace(workspace_id)
    await delivery.drain_slack_outbox(services.db, client, workspace_id)


async def sync_tracker(services: Services, workspace_id: str, connection_id: int) -> None:
    """Drain one tracker connection's outbox; a stopped connection's Admin notice goes out through Slack."""
    from agents.tracker_sync import sync_destination

    if not services.settings.encryption_key:
        return
    report = await sync_destination(services.db, workspace_id, int(connection_id),
                                    encryption_key=services.settings.encryption_key)
    if report.stopped and report.error:
        await services.jobs.enqueue(JobName.DRAIN_SLACK_OUTBOX, workspace_id)


async def okr_sync(services: Services, day: str = "") -> None:
    """The daily sync of automatic OKR progress (launch shares; JQL counts once the tracker provides counters)."""
    from agents.okr_sources import sync_sources

    await sync_sources(services.db)


async def okr_report(services: Services, workspace_id: str, channel: str, period: str, user_id: str) -> None:
    from bot.okr_delivery import post_quarterly_review

    client = await services.slack.for_workspace(workspace_id)
    await post_quarterly_review(services.db, client, workspace_id, channel, period, user_id)


async def refresh_home(services: Services, workspace_id: str, user_id: str, pages: str = "", notice: str = "",
                       view_hash: str = "") -> None:
    """Rebuild one person's Home tab (coalesced: one waiting rebuild covers every change before it starts)."""
    from bot import surface_refresh

    await surface_refresh.refresh_home(services, workspace_id, user_id, pages, notice, view_hash)


async def review_decided(services: Services, workspace_id: str, launch_id: int, page: int = 0, key: str = "") -> None:
    """After a review decision: the review message and the plan message updated in place."""
    from bot import surface_refresh

    await surface_refresh.review_decided(services, workspace_id, int(launch_id), int(page), key)


async def show_review_page(services: Services, workspace_id: str, launch_id: int, page: int = 0) -> None:
    from bot import surface_refresh

    await surface_refresh.show_review_page(services, workspace_id, int(launch_id), int(page))


async def share_health_card(services: Services, workspace_id: str, outbox_id: int) -> None:
    """Deliver the one outbox row of a Share to channel click (a row already sent is not sent again)."""
    from storage.scope import Scope

    client = await services.slack.for_workspace(workspace_id)
    await delivery.deliver(services.db, client, Scope(workspace_id), int(outbox_id))
