"""The jobs of inbound tracker status: an item a webhook only named, the reconcile of a connection, and the
JQL-count key results; and what follows applied changes (the launch recompute, the PM's alert out)."""

from __future__ import annotations

from agents.tracker_inbound import ApplyResult, any_alerted, fetch_and_apply, launches_to_recompute, reconcile
from bot.jobs import JobName
from bot.services import Services


async def after_changes(services: Services, workspace_id: str, results: list[ApplyResult]) -> None:
    """The same effects as a status change from Slack: recompute each launch a change touched (coalesced),
    and send a PM alert the change wrote."""
    for launch_id in launches_to_recompute(results):
        await services.jobs.enqueue(JobName.RECOMPUTE_LAUNCH, workspace_id, launch_id)
    if any_alerted(results):  # the PM's urgent notification (agents/notification_events.py) goes out now
        await services.jobs.enqueue(JobName.DELIVER_NOTIFICATIONS, workspace_id)


async def fetch_tracker_item(services: Services, workspace_id: str, connection_id: int, item_id: str) -> None:
    if not services.settings.encryption_key:
        return
    result = await fetch_and_apply(services.db, workspace_id, int(connection_id), str(item_id),
                                   encryption_key=services.settings.encryption_key)
    await after_changes(services, workspace_id, [result])


async def reconcile_tracker(services: Services, workspace_id: str, connection_id: int) -> None:
    if not services.settings.encryption_key:
        return
    report = await reconcile(services.db, workspace_id, int(connection_id),
                             encryption_key=services.settings.encryption_key)
    await after_changes(services, workspace_id, report.results)


async def refresh_jql(services: Services, workspace_id: str) -> None:
    from agents.tracker_jql import refresh_jql as refresh

    if services.settings.encryption_key:
        await refresh(services.db, workspace_id, encryption_key=services.settings.encryption_key)
