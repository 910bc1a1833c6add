"""The tracker sync window: every 5 minutes (a scheduler tick claims the window in schedule_runs, so two
schedulers enqueue once) a SYNC_TRACKER job per active connection with rows to sync; and right after a plan
save or a task change committed, the same for that workspace, so a change does not wait for the window."""

from __future__ import annotations

from datetime import datetime

from agents.tracker_sync import SYNC_WINDOW
from bot.jobs import JobName
from bot.services import Services
from storage.notifications import ScheduleRuns
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
    return await enqueue_due_syncs(services)
