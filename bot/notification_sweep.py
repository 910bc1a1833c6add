"""The `notification_sweep` job: every hour (bot/scheduler.py HOURLY), each workspace's due-tomorrow, overdue and
check-in-due notifications for the people whose morning has begun (agents/notification_sweep.py); the delivery
job sends them when they are due."""

from __future__ import annotations

import logging

from sqlalchemy import select

from agents.notification_sweep import sweep
from bot.services import Services
from storage.models import Workspace, utcnow

log = logging.getLogger(__name__)


async def notification_sweep(services: Services, day: str = "") -> None:
    """Sweep every workspace; one failing workspace does not stop the others (a rerun records nothing twice)."""
    async with services.db.reader() as session:
        workspaces = list(await session.scalars(select(Workspace.id).order_by(Workspace.id)))
    now = utcnow()
    for workspace_id in workspaces:
        try:
            report = await sweep(services.db, workspace_id, now)
        except Exception:
            log.exception("notification sweep of %s failed", workspace_id)
            continue
        log.info("notification sweep of %s (%s): %d due tomorrow, %d overdue, %d check-ins due", workspace_id,
                 day or now.date(), report.due_tomorrow, report.overdue, report.checkin_due)
