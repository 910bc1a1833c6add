"""The tracker sync window: every 5 minutes (a scheduler tick claims the window in schedule_runs, so two
schedulers enqueue once) a SYNC_TRACKER job per active connection with rows to sync, a RECONCILE_TRACKER job per
active connection, and a REFRESH_JQL job per workspace counting JQL with Jira; and right after a plan save or a
task change committed, the syncs for that workspace, so a change does not wait for the window."""

from __future__ import annotations

from datetime import datetime

from agents.tracker_sync import SYNC_WINDOW
from bot.jobs import JobName
from bot.services import Services
from storage.notifications import ScheduleRuns
from storage.tracker_inbound import active_connections, workspaces_counting_jql
from storage.trackers import connections_with_due_rows

WINDOW_JOB = "tracker_sync_window"


async def enqueue_due_syncs(services: Services, workspace_id: str | None = None) -> list[tuple[str, int]]:
    """A SYNC_TRACKER job per active connection (of one workspace, or all) with rows to sync."""
    if not services.settings.encryption_key:
        return []  # no key, no credentials to read: nothing can be synced
    async with services.db.reader() as session:
        due = await connections_with_due_rows(session, workspace_id)
    for workspace, connection_id in due:
        await services.jobs.enqueue(JobName.SYNC_TRACKER, workspace, connection_id)
    return due


async def sync_window(services: Services, now: datetime) -> list[tuple[str, int]]:
    """Called by each scheduler tick; enqueues the window's syncs when SYNC_WINDOW has passed since the last."""
    async with services.db.session() as session:
        runs = ScheduleRuns(session)
        last = await runs.last_run(WINDOW_JOB)
        if last is not None and now - last < SYNC_WINDOW:
            return []
        if not await runs.advance(WINDOW_JOB, last, now):
            return []
    due = await enqueue_due_syncs(services)
    await enqueue_inbound(services)
    return due


async def enqueue_inbound(services: Services) -> None:
    """The window's inbound work: a reconcile per active connection (changes a lost webhook carried), and the
    JQL-count key results of each workspace that has a Jira connection."""
    if not services.settings.encryption_key:
        return
    async with services.db.reader() as session:
        connections = await active_connections(session)
        counting = await workspaces_counting_jql(session)
    for workspace, connection_id in connections:
        await services.jobs.enqueue(JobName.RECONCILE_TRACKER, workspace, connection_id)
    for workspace in counting:
        await services.jobs.enqueue(JobName.REFRESH_JQL, workspace)
