"""The schedule: one `scheduler_tick` job a minute, run by rq's CronScheduler (`liftoff scheduler`, production)
or by a task of the serving process (the embedded default, no REDIS_URL).

A tick looks at each scheduled job's last run, kept in the database (schedule_runs): a window job (digests)
covers (last run, now], so a scheduler that was down catches a missed hour up once, when it is back; a daily job
(audit purge, people refresh) claims the day, and an hourly one (the notification sweep) the hour, with a
compare-and-set before enqueueing. Digests and notifications
carry unique keys, so two schedulers, a retried tick or a worker killed mid-way never send anything twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from slack_sdk.errors import SlackApiError
from sqlalchemy import select

from bot.digest_sweep import queue_digests
from bot.jobs import JobName
from bot.notification_delivery import deliver_due
from bot.services import Services
from bot.settings import Settings
from bot.tracker_window import sync_window
from integrations.email import EmailSender, SmtpConfig
from integrations.slack_sender import SlackSender
from storage.models import User, Workspace, utcnow
from storage.notifications import Notification, NotificationStatus, ScheduleRuns

log = logging.getLogger(__name__)

TICK_EVERY = timedelta(minutes=1)
FIRST_TICK_AFTER_SECONDS = 60.0
DIGESTS = "digests"
DAILY = {"audit_purge": JobName.AUDIT_PURGE, "people_refresh": JobName.REFRESH_PEOPLE, "okr_sync": JobName.OKR_SYNC}
# Each person's morning begins at a different UTC hour: the sweep takes those whose morning has begun.
HOURLY = {"notification_sweep": JobName.NOTIFICATION_SWEEP}


@dataclass
class TickReport:
    digests_queued: int = 0
    delivered_to: list[str] = field(default_factory=list)
    daily: list[str] = field(default_factory=list)
    hourly: list[str] = field(default_factory=list)


@lru_cache(maxsize=1)
def email_config() -> SmtpConfig:
    """SMTP settings, read once per process."""
    return SmtpConfig.from_env()


async def tick(services: Services, now: datetime | None = None, *, deliver: bool = True) -> TickReport:
    """Everything due at `now`: digests queued, daily jobs enqueued, due notifications delivered."""
    now = now or utcnow()
    report = TickReport()
    db = services.db
    async with db.reader() as session:
        workspaces = list(await session.scalars(select(Workspace.id).order_by(Workspace.id)))
        previous = await ScheduleRuns(session).last_run(DIGESTS)
    since = previous or now - TICK_EVERY
    for workspace_id in workspaces:
        report.digests_queued += (await queue_digests(db, workspace_id, since, now)).queued
    async with db.session() as session:
        await ScheduleRuns(session).advance(DIGESTS, previous, now)
    for job, name in DAILY.items():
        if await claim_period(services, job, now, DAY):
            report.daily.append(job)
            await services.jobs.enqueue(name, now.date().isoformat())
    for job, name in HOURLY.items():
        if await claim_period(services, job, now, HOUR):
            report.hourly.append(job)
            await services.jobs.enqueue(name, now.strftime("%Y-%m-%dT%H"))
    await sync_window(services, now)  # bot/tracker_window.py: tracker syncs every 5 minutes
    if deliver:
        for workspace_id in await workspaces_with_due(services, now):
            report.delivered_to.append(workspace_id)
            await services.jobs.enqueue(JobName.DELIVER_NOTIFICATIONS, workspace_id)
    return report


DAY = "%Y-%m-%d"
HOUR = "%Y-%m-%dT%H"


async def claim_period(services: Services, job: str, now: datetime, period: str) -> bool:
    """True for the one caller that moves this job's last run into the current day or hour (a strftime form)."""
    async with services.db.session() as session:
        runs = ScheduleRuns(session)
        last = await runs.last_run(job)
        if last is not None and last.tzinfo is None:  # SQLite hands back naive UTC
            last = last.replace(tzinfo=UTC)
        if last is not None and last.astimezone(now.tzinfo).strftime(period) >= now.strftime(period):
            return False
        return await runs.advance(job, last, now)


async def workspaces_with_due(services: Services, now: datetime) -> list[str]:
    async with services.db.reader() as session:
        return list(await session.scalars(select(Notification.workspace_id).where(
            Notification.status.in_([NotificationStatus.PENDING, NotificationStatus.SENDING]),
            Notification.due_at <= now).distinct()))


async def deliver_notifications(services: Services, workspace_id: str) -> None:
    """The job: send this workspace's due notifications (Slack, then email, then retry)."""
    client = await services.slack.for_workspace(workspace_id)
    config = email_config()
    await deliver_due(services.db, SlackSender(client), EmailSender(config) if config.enabled else None,
                      workspace_id)


async def scheduler_tick(services: Services) -> None:
    await tick(services)


async def refresh_people(services: Services, day: str = "") -> None:
    """The daily job: each known person's timezone and email from Slack (users.list, 200 a page)."""
    async with services.db.reader() as session:
        workspaces = list(await session.scalars(select(Workspace.id)))
    for workspace_id in workspaces:
        try:
            client = await services.slack.for_workspace(workspace_id)
            profiles: dict[str, dict] = {}
            cursor = None
            while True:
                response = await client.users_list(limit=200, cursor=cursor)
                profiles |= {str(u.get("id")): u for u in response.get("members", [])}
                cursor = (response.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    break
        except (SlackApiError, LookupError) as exc:
            log.warning("could not refresh people of %s: %s", workspace_id, exc)
            continue
        async with services.db.session() as session:
            for user in await session.scalars(select(User).where(User.workspace_id == workspace_id)):
                profile = profiles.get(user.slack_id)
                if profile is not None:
                    user.tz = profile.get("tz") or user.tz
                    user.email = (profile.get("profile") or {}).get("email") or user.email
    log.info("people refreshed (%s)", day or utcnow().date())


class InProcessScheduler:
    """The embedded default: a task of the serving loop enqueues a tick every minute (jobs run in-process)."""

    def __init__(self, services: Services, *, every: float = TICK_EVERY.total_seconds(),
                 first_after: float = FIRST_TICK_AFTER_SECONDS) -> None:
        self.services = services
        self.every = every
        self.first_after = first_after
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="liftoff-scheduler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        await asyncio.sleep(self.first_after)
        while True:
            try:
                await self.services.jobs.enqueue(JobName.SCHEDULER_TICK)
            except Exception:
                log.warning("could not enqueue the scheduler tick", exc_info=True)
            await asyncio.sleep(self.every)


def run_cron(settings: Settings) -> None:
    """`liftoff scheduler`: rq's CronScheduler enqueues the tick every minute; workers run it."""
    from redis import Redis
    from rq.cron import CronScheduler

    from bot.jobs import perform

    cron = CronScheduler(connection=Redis.from_url(settings.redis_url or ""))
    cron.register(perform, queue_name=settings.queue_name, args=(str(JobName.SCHEDULER_TICK), []),
                  interval=int(TICK_EVERY.total_seconds()), job_timeout=600)
    cron.start()
