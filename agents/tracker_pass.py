"""One drain pass of one tracker connection: what it knows (a snapshot read once), the work per task, and the
pipeline of concurrent workers that makes each task's item and then, once its blockers' items are settled, its
"blocks" relations. A failure is recorded on its task and the pass goes on; a 4xx that will not heal stops it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from agents.pii_mapping import PiiMapping
from agents.tracker_items import DONE, PENDING, ItemContext, LinkState, close, relate, save_link, upsert
from integrations.tracker_http import PermanentError, RequestError, TransientError
from storage.enums import Destination, OutboxKind, ReviewState
from storage.models import Task, utcnow
from storage.outbox import OutboxRepository
from storage.trackers import TrackerConnection, TrackerRepository

log = logging.getLogger(__name__)


@dataclass
class SyncReport:
    sent: int = 0
    waiting: int = 0
    failed: int = 0
    created: int = 0
    stopped: bool = False
    error: str | None = None
    requests: int = 0
    busy: bool = False  # another pass of this connection was running: it takes these rows


@dataclass
class Work:
    """One task's due rows in this pass, and what became of them."""

    task_id: int
    launch_id: int
    outbox_ids: list[int]
    outcome: str = ""  # "" not reached, "ready" item synced, "sent", "waiting", "retry", "failed"
    error: str | None = None
    relations: list[tuple[int, str, bool]] = field(default_factory=list)  # (blocker task, its item, recovering)
    missing: list[int] = field(default_factory=list)  # blockers without a remote item yet
    relations_queued: bool = False


@dataclass
class Snapshot:
    """The launches' tasks, links, blockers and rosters, read once at the start of a pass."""

    tasks: dict[int, Task] = field(default_factory=dict)
    links: dict[int, LinkState] = field(default_factory=dict)
    blocked_by: dict[int, list[int]] = field(default_factory=dict)
    rosters: dict[int, list[str]] = field(default_factory=dict)
    mappings: dict[int, PiiMapping] = field(default_factory=dict)  # each launch's stored PII mapping
    owners: dict[str, str] = field(default_factory=dict)  # an owner's Slack id -> email, where one is known


@dataclass
class Pass:
    ctx: ItemContext
    connection: TrackerConnection
    report: SyncReport
    snapshot: Snapshot
    stop_reason: str | None = None


class Pipeline:
    """Workers draining a queue of jobs that may add jobs: a task's item first, then, as soon as its blockers'
    items are settled (made or failed) in this pass, its relations; no barrier between the two, so requests keep
    flowing while a few tasks wait out their backoff."""

    def __init__(self, sync: Pass, work: list[Work]) -> None:
        self.sync = sync
        self.queue: asyncio.Queue[Work | tuple[str, Work]] = asyncio.Queue()
        in_pass = {w.task_id for w in work}
        self.unsettled: dict[int, set[int]] = {}
        self.dependents: dict[int, list[int]] = {}
        self.by_task = {w.task_id: w for w in work}
        for w in work:
            blockers = {b for b in sync.snapshot.blocked_by.get(w.task_id, []) if b in in_pass and b != w.task_id}
            self.unsettled[w.task_id] = blockers
            for blocker in blockers:
                self.dependents.setdefault(blocker, []).append(w.task_id)
            self.queue.put_nowait(w)

    async def run(self, workers: int) -> None:
        tasks = [asyncio.create_task(self._worker()) for _ in range(max(1, min(workers, self.queue.qsize())))]
        try:
            await self.queue.join()
            # A dependency cycle (never planned, but possible in data) leaves relations unqueued: do them now.
            for w in self.by_task.values():
                if w.outcome == "ready":
                    self.queue.put_nowait(("relations", w))
            await self.queue.join()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _worker(self) -> None:
        while True:
            job = await self.queue.get()
            try:
                if self.sync.stop_reason is None:
                    if isinstance(job, Work):
                        await guarded(self.sync, job, sync_item)
                        self._settled(job)
                    elif job[1].outcome == "ready":
                        await guarded(self.sync, job[1], sync_relations)
            finally:
                self.queue.task_done()

    def _settled(self, work: Work) -> None:
        """An item is made or has failed: dependents waiting only for it can make their relations."""
        for task_id in [work.task_id, *self.dependents.get(work.task_id, [])]:
            waiting = self.unsettled[task_id]
            waiting.discard(work.task_id)
            other = self.by_task[task_id]
            if not waiting and other.outcome == "ready" and not other.relations_queued:
                other.relations_queued = True
                self.queue.put_nowait(("relations", other))


async def guarded(sync: Pass, work: Work, run: Callable[[Pass, Work], Awaitable[None]]) -> None:
    """Run one step of one task; its failure is recorded on it and the pass goes on (a stop ends the pass)."""
    try:
        await run(sync, work)
    except TransientError as exc:
        work.outcome, work.error = "retry", str(exc)
        sync.report.error = str(exc)
    except PermanentError as exc:
        work.outcome, work.error = "retry", str(exc)
        await stop(sync, str(exc))
    except RequestError as exc:
        log.warning("tracker sync of task %s failed: %s", work.task_id, exc)
        work.outcome, work.error = "failed", str(exc)


async def sync_item(sync: Pass, work: Work) -> None:
    task = sync.snapshot.tasks.get(work.task_id)
    state = sync.snapshot.links.get(work.task_id)
    if task is None:  # removed from the plan: close its remote item
        if state is not None:
            await close(sync.ctx, state)
        work.outcome = "sent"
    elif task.review_state == ReviewState.OPEN:
        work.outcome = "waiting"
    else:
        assert state is not None  # _write_intents made it
        await upsert(sync.ctx, task, sync.snapshot.rosters.get(task.launch_id, []), state,
                     sync.snapshot.mappings.get(task.launch_id), owner_of(sync.snapshot.owners, task))
        work.outcome = "ready"


def owner_of(owners: dict[str, str], task: Task) -> str | None:
    """The email of the task's owner, or None (no owner, or no email known for them)."""
    return owners.get(task.assignee_slack_id) if task.assignee_slack_id else None


async def sync_relations(sync: Pass, work: Work) -> None:
    """The task's "blocks" relations whose blocker has an item; each marked pending (committed) before it is made."""
    links = sync.snapshot.links
    state = links[work.task_id]
    fresh: dict[str, str] = {}
    for blocker in sync.snapshot.blocked_by.get(work.task_id, []):
        mark = state.relations.get(str(blocker))
        if mark == DONE:
            continue
        blocker_state = links.get(blocker)
        if blocker_state is None or not blocker_state.external_id:
            work.missing.append(blocker)
            continue
        work.relations.append((blocker, blocker_state.external_id, mark == PENDING))
        if mark is None:
            fresh[str(blocker)] = PENDING
    if fresh:
        async with sync.ctx.db.session() as session:
            link = await TrackerRepository(session, sync.ctx.scope).link(sync.connection.id, work.task_id)
            if link is not None:
                link.relations = {**link.relations, **fresh}
        state.relations |= fresh
    made: dict[str, str] = {}
    try:
        for blocker, blocker_item, recovering in work.relations:
            assert state.external_id is not None
            await relate(sync.ctx, state.external_id, blocker_item, recovering=recovering)
            made[str(blocker)] = DONE
    finally:
        if made:
            state.relations |= made
            await save_link(sync.ctx, work.task_id, relations=made)
    if work.missing:
        work.outcome = "retry"
        work.error = "waiting for the remote items of blocking tasks " + ", ".join(map(str, work.missing))
    else:
        work.outcome = "sent"


async def stop(sync: Pass, reason: str) -> None:
    """Stop the connection and tell each Admin once (the conditional stop makes it once)."""
    if sync.stop_reason is not None:
        return
    sync.stop_reason = reason
    sync.report.error, sync.report.stopped = reason, True
    scope, connection = sync.ctx.scope, sync.connection
    async with sync.ctx.db.session() as session:
        trackers = TrackerRepository(session, scope)
        if not await trackers.stop(connection.id, reason):
            return
        outbox = OutboxRepository(session, scope)
        for admin in await trackers.admins():
            await outbox.add(
                workspace_id=scope.workspace_id, destination=Destination.SLACK, kind=OutboxKind.TRACKER_STOPPED,
                idempotency_key=f"{connection.destination}:stopped:{admin}:{utcnow().isoformat()}",
                payload={"launch_id": 0, "channel": admin, "tracker": connection.kind,
                         "name": connection.name, "reason": reason[:500]},
            )
