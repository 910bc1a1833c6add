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


JobArg = str | int


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
    NOTIFICATION_SWEEP = "notification_sweep"  # hourly: due tomorrow, overdue, check-in due (bot/notification_sweep.py)
    FETCH_TRACKER_ITEM = "fetch_tracker_item"  # (workspace_id, connection_id, item_id): a webhook named it
    RECONCILE_TRACKER = "reconcile_tracker"  # (workspace_id, connection_id): pull changes a webhook may have lost
    REFRESH_JQL = "refresh_jql"  # (workspace_id): JQL-count key results, on the tracker sync window
    # Off the click path (handlers ack, make the one state change, and leave the rest to these):
    REFRESH_HOME = "refresh_home"  # (workspace_id, user_id[, pages, notice, view_hash]): rebuild one Home tab
    REVIEW_DECIDED = "review_decided"  # (workspace_id, launch_id, page, key): review and plan messages in place
    SHOW_REVIEW_PAGE = "show_review_page"  # (workspace_id, launch_id, page): another page of the review message
    SHARE_HEALTH_CARD = "share_health_card"  # (workspace_id, outbox_id): post one shared health card row
    # (the fields of handlers.deferred.Click): a button's whole answer, the listener having only acked
    CLICK = "click"


# An identical job already waiting (not yet started) covers a new request: it reads the state when it starts.
COALESCED = frozenset({JobName.REFRESH_HOME, JobName.REVIEW_DECIDED, JobName.SHOW_REVIEW_PAGE})
PENDING_TTL_SECONDS = 300  # a lost job's marker expires, so a later change enqueues again
# Short jobs that deliver what a person is waiting for right now (a finished plan's message, a decision shown in
# place, their Home): on RQ they go to the front of the queue, so a backlog of plans does not hold them back.
FRONT_OF_QUEUE = frozenset({JobName.DRAIN_SLACK_OUTBOX, JobName.DELIVER_NOTIFICATIONS, JobName.REFRESH_HOME,
                            JobName.REVIEW_DECIDED, JobName.SHOW_REVIEW_PAGE, JobName.SHARE_HEALTH_CARD,
                            JobName.CLICK})


def pending_key(name: JobName, args: tuple[JobArg, ...]) -> str:
    return f"{name}:" + "\x1f".join(str(a) for a in args)


class JobQueue(Protocol):
    async def enqueue(self, name: JobName, *args: JobArg) -> None: ...


JobFunction = Callable[..., Awaitable[None]]


def job_table() -> dict[JobName, JobFunction]:
    """Job name -> coroutine(services, *ids). Imported lazily: the table pulls in the whole pipeline."""
    from bot import job_functions, notification_sweep, retention, scheduler, tracker_inbound_jobs
    from handlers import deferred

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
        JobName.NOTIFICATION_SWEEP: notification_sweep.notification_sweep,
        JobName.FETCH_TRACKER_ITEM: tracker_inbound_jobs.fetch_tracker_item,
        JobName.RECONCILE_TRACKER: tracker_inbound_jobs.reconcile_tracker,
        JobName.REFRESH_JQL: tracker_inbound_jobs.refresh_jql,
        JobName.REFRESH_HOME: job_functions.refresh_home,
        JobName.REVIEW_DECIDED: job_functions.review_decided,
        JobName.SHOW_REVIEW_PAGE: job_functions.show_review_page,
        JobName.SHARE_HEALTH_CARD: job_functions.share_health_card,
        JobName.CLICK: deferred.answer_click,
    }


class InlineJobs:
    """Runs each job as a task on the running loop, after the listener has acked."""

    def __init__(self) -> None:
        self.services: Any = None
        self._running: set[asyncio.Task[None]] = set()
        self._pending: set[str] = set()  # coalesced jobs enqueued and not started yet

    def bind(self, services: Any) -> None:
        self.services = services

    async def enqueue(self, name: JobName, *args: JobArg) -> None:
        if name in COALESCED:
            key = pending_key(name, args)
            if key in self._pending:
                return
            self._pending.add(key)
        task = asyncio.create_task(self._run(name, args), name=f"job:{name}:{args}")
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _run(self, name: JobName, args: tuple[JobArg, ...]) -> None:
        # Yield once so the HTTP ack goes out before any job work starts.
        await asyncio.sleep(0)
        self._pending.discard(pending_key(name, args))
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
    """Puts jobs on an RQ queue in Redis; `liftoff worker` runs them.

    `enqueue` returns once the job is in Redis. The jobs asked for while a write to Redis is under way go in the
    next one together (one pipeline, one thread hand-off): under load a request pays for a share of a round
    trip instead of a round trip of its own; alone, it waits for nothing but its own write.
    """

    def __init__(self, redis_url: str, queue_name: str) -> None:
        from redis import Redis
        from rq import Queue

        self.queue = Queue(queue_name, connection=Redis.from_url(redis_url))
        self._waiting: list[tuple[JobName, tuple[JobArg, ...], asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def enqueue(self, name: JobName, *args: JobArg) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((name, args, done))
        writer = self._writer
        if writer is None or writer.done() or writer.get_loop() is not asyncio.get_running_loop():
            self._writer = asyncio.create_task(self._write_all(), name="rq-enqueue")
        await done

    async def _write_all(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                # redis-py blocks on the socket; in a thread, a busy Redis never stalls every other request's ack.
                await asyncio.to_thread(self._enqueue_many, [(name, args) for name, args, _ in batch])
            except Exception as exc:
                for _, _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
            else:
                for _, _, done in batch:
                    if not done.done():
                        done.set_result(None)

    def _enqueue_many(self, jobs: list[tuple[JobName, tuple[JobArg, ...]]]) -> None:
        connection = self.queue.connection
        markers = {i: f"liftoff:pending:{self.queue.name}:{pending_key(name, args)}"
                   for i, (name, args) in enumerate(jobs) if name in COALESCED}
        claimed: dict[int, bool] = {}
        if markers:
            with connection.pipeline(transaction=False) as pipe:
                for marker in markers.values():
                    pipe.set(marker, 1, nx=True, ex=PENDING_TTL_SECONDS)
                claimed = dict(zip(markers, (bool(ok) for ok in pipe.execute()), strict=True))
        datas = [
            self.queue.prepare_data(perform, [str(name), list(args), markers.get(i)], timeout=600,
                                    failure_ttl=7 * 86400, at_front=name in FRONT_OF_QUEUE)
            for i, (name, args) in enumerate(jobs)
            if claimed.get(i, True)  # a coalesced job whose marker was already set is waiting on the queue
        ]
        if datas:
            self.queue.enqueue_many(datas)


def build_queue(settings: Settings) -> InlineJobs | RqJobs:
    return InlineJobs() if settings.jobs_inline else RqJobs(settings.redis_url or "", settings.queue_name)


def perform(name: str, args: list[JobArg], marker: str | None = None) -> None:
    """RQ entry point: run one job with services built for this run."""
    if marker:  # started: a request from now on needs a run of its own
        from rq import get_current_job

        job = get_current_job()
        if job is not None:
            job.connection.delete(marker)
    asyncio.run(_perform(JobName(name), args))


async def _perform(name: JobName, args: list[JobArg]) -> None:
    from bot.wiring import WORKER_PROCESS, build_services

    services = build_services(Settings.from_env(), process=WORKER_PROCESS)
    try:
        await job_table()[name](services, *args)
    finally:
        await services.db.dispose()
