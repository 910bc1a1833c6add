"""Audit retention: the `audit_purge` job. bot/scheduler.py now asks for it once a day (its "audit_purge" daily
job, claimed in the database); RetentionSchedule below is the older hourly check, kept for callers that use it.

Each serving process checks once an hour (the first time shortly after start) whether today's purge was
asked for; if not, it claims the day and enqueues one `audit_purge` job. With RQ the claim is a Redis key
per day (SET NX), so several web processes enqueue one job between them; in-process jobs remember the day.
The purge itself is idempotent (a second run the same day removes and writes nothing), so a claim lost
to a restart costs nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from bot.jobs import JobName, RqJobs
from bot.services import Services
from storage.audit import AuditChain

log = logging.getLogger(__name__)

CHECK_EVERY_SECONDS = 3600.0
FIRST_CHECK_AFTER_SECONDS = 60.0
# A day's claim outlives the day, so a process whose clock is a little behind does not claim it again.
CLAIM_TTL_SECONDS = 2 * 86400


def retention_cutoff(now: datetime, retention_days: int) -> datetime:
    return now - timedelta(days=retention_days)


def claim_key(queue_name: str, day: date) -> str:
    return f"liftoff:{queue_name}:audit-purge:{day.isoformat()}"


class RetentionSchedule:
    """Asks for today's audit purge once; `start` runs the hourly check as a task of the serving loop."""

    def __init__(self, services: Services, *, every: float = CHECK_EVERY_SECONDS,
                 first_after: float = FIRST_CHECK_AFTER_SECONDS,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.services = services
        self.every = every
        self.first_after = first_after
        self.clock = clock
        self._claimed: date | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="audit-retention")

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
                await self.tick()
            except Exception:  # Redis or the queue briefly away: the next check tries again
                log.warning("could not schedule the audit purge", exc_info=True)
            await asyncio.sleep(self.every)

    async def tick(self) -> bool:
        """Enqueue today's purge unless it was already asked for; True when this call enqueued it."""
        today = self.clock().date()
        if not await self._claim(today):
            return False
        await self.services.jobs.enqueue(JobName.AUDIT_PURGE, today.isoformat())
        return True

    async def _claim(self, day: date) -> bool:
        if self._claimed == day:
            return False
        jobs = self.services.jobs
        if isinstance(jobs, RqJobs):
            key = claim_key(self.services.settings.queue_name, day)
            claimed = await asyncio.to_thread(jobs.queue.connection.set, key, "1", nx=True, ex=CLAIM_TTL_SECONDS)
            if not claimed:
                self._claimed = day
                return False
        self._claimed = day
        return True


async def purge_audit(services: Services, day: str = "") -> None:
    """The job: delete audit entries past AUDIT_RETENTION_DAYS; the kept chain still verifies."""
    now = datetime.now(UTC)
    cutoff = retention_cutoff(now, services.settings.audit_retention_days)
    async with services.db.session() as session:
        removed = await AuditChain(session).purge_expired(cutoff)
    log.info("audit retention (%s): removed %d entries older than %s", day or now.date(), removed, cutoff.date())
