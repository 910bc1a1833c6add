"""Jobs by name and ids: in-process after the ack without REDIS_URL, on RQ workers with it.

The same job code runs both ways. Jobs take ids, never objects, and are idempotent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Any, Protocol

from bot.settings import Settings

log = logging.getLogger(__name__)


class JobName(StrEnum):
    PLAN_LAUNCH = "plan_launch"
    REPLAN_LAUNCH = "replan_launch"
    RECOMPUTE_LAUNCH = "recompute_launch"
    DRAIN_SLACK_OUTBOX = "drain_slack_outbox"
    SYNC_TRACKER = "sync_tracker"  # (workspace_id, connection_id): drain one tracker connection's outbox
    OKR_REPORT = "okr_report"
    OKR_SYNC = "okr_sync"  # key results following a launch (or a JQL count) take its progress, daily
    AUDIT_PURGE = "audit_purge"
    SCHEDULER_TICK = "scheduler_tick"  # bot/scheduler.py: digests, daily jobs, due notifications
    DELIVER_NOTIFICATIONS = "deliver_notifications"
    REFRESH_PEOPLE = "refresh_people"


JobArg = str | int


class JobQueue(Protocol):
    async def enqueue(self, name: JobName, *args: JobArg) -> None: ...


JobFunction = Callable[..., Awaitable[None]]


def job_table() -> dict[JobName, JobFunction]:
    """Job name -> coroutine(services, *ids). Imported lazily: the table pulls in the whole pipeline."""
    from bot import job_functions, retention, scheduler

    return {
        JobName.PLAN_LAUNCH: job_functions.plan_launch,
        JobName.REPLAN_LAUNCH: job_functions.replan_launch,
        JobName.RECOMPUTE_LAUNCH: job_functions.recompute_launch,
        JobName.DRAIN_SLACK_OUTBOX: job_functions.drain_slack_outbox,
        JobName.SYNC_TRACKER: job_functions.sync_tracker,
        JobName.OKR_REPORT: job_functions.okr_report,
        JobName.OKR_SYNC: job_functions.okr_sync,
        JobName.AUDIT_PURGE: retention.purge_audit,
        JobName.SCHEDULER_TICK: scheduler.scheduler_tick,
        JobName.DELIVER_NOTIFICATIONS: scheduler.deliver_notifications,
        JobName.REFRESH_PEOPLE: scheduler.refresh_people,
    }


class InlineJobs:
    """Runs each job as a task on the running loop, after the listener has acked."""

    def __init__(self) -> None:
        self.services: Any = None
        self._running: set[asyncio.Task[None]] = set()

    def bind(self, services: Any) -> None:
        self.services = services

    async def enqueue(self, name: JobName, *args: JobArg) -> None:
        task = asyncio.create_task(self._run(name, args), name=f"job:{name}:{args}")
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _run(self, name: JobName, args: tuple[JobArg, ...]) -> None:
        # Yield once so the HTTP ack goes out before any job work starts.
        await asyncio.sleep(0)
        try:
            await job_table()[name](self.services, *args)
        except Exception:
            log.exception("job %s%s failed", name, args)

    async def drain(self, timeout: float = 30.0) -> None:
        """Wait until no job is running (jobs may enqueue more jobs)."""
        async with asyncio.timeout(timeout):
            while self._running:
                await asyncio.gather(*list(self._running), return_exceptions=True)


class RqJobs:
    """Puts jobs on an RQ queue in Redis; `liftoff worker` runs them."""

    def __init__(self, redis_url: str, queue_name: str) -> None:
        from redis import Redis
        from rq import Queue

        self.queue = Queue(queue_name, connection=Redis.from_url(redis_url))

    async def enqueue(self, name: JobName, *args: JobArg) -> None:
        # redis-py blocks on the socket; in a thread, a busy Redis never stalls every other request's ack.
        await asyncio.to_thread(self.queue.enqueue, perform, str(name), list(args), job_timeout=600,
                                failure_ttl=7 * 86400)


def build_queue(settings: Settings) -> InlineJobs | RqJobs:
    return InlineJobs() if settings.jobs_inline else RqJobs(settings.redis_url or "", settings.queue_name)


def perform(name: str, args: list[JobArg]) -> None:
    """RQ entry point: run one job with services built for this run."""
    asyncio.run(_perform(JobName(name), args))


async def _perform(name: JobName, args: list[JobArg]) -> None:
    from bot.wiring import build_services

    services = build_services(Settings.from_env())
    try:
        await job_table()[name](services, *args)
    finally:
        await services.db.dispose()
