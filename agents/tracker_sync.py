"""Outward tracker sync: outbox rows written with each task change, drained per tracker connection.

`queue_launch` / `queue_task` write an outbox row in the caller's transaction. `sync_destination` drains one
connection: a launch row is first expanded, without a network call, into one row per task that needs work (a
task whose stored hash matches and whose relations are made is skipped without redacting it); then the task
rows are worked by a few concurrent workers sharing the client's token bucket, so requests keep flowing at the
configured rate while one task waits for its backoff. Items first, then "blocks" relations (made by the blocked
task's row, so each relation has one owner). A transient failure, after three attempts, leaves that task's row
for the next sync window with its error recorded, and the pass goes on with the next task; a 4xx that will not
heal stops the connection and tells the workspace's Admins once, through the Slack outbox. The pass itself is
in agents/tracker_pass.py; the remote operations and their idempotency (intents, markers) in tracker_items.py.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy.ext.asyncio import AsyncSession

from agents.pii_mapping import PiiMapping
from agents.tracker_items import (
    DONE,
    ItemContext,
    LinkState,
    Sleep,
    flush_links,
    idempotency_marker,
    remote_task,
    source_hash,
)
from agents.tracker_pass import Pass, Pipeline, Snapshot, SyncReport, Work, owner_of
from integrations.trackers import TrackerClient, build_client
from storage.db import Database
from storage.enums import OutboxKind, OutboxStatus, ReviewState
from storage.launch_pii import LaunchPiiRepository
from storage.launches import LaunchRepository
from storage.models import Outbox, Task, utcnow
from storage.notifications import ScheduleRuns
from storage.outbox import OutboxRepository
from storage.scope import Scope
from storage.tracker_inbound import WAITING_FOR_REVIEW
from storage.trackers import ConnectionStatus, TrackerConnection, TrackerLink, TrackerRepository
from storage.workspaces import WorkspaceRepository

log = logging.getLogger(__name__)

SYNC_WINDOW = timedelta(minutes=5)
SENDING_LEASE = timedelta(minutes=2)
WORKERS = 16
ROUNDS = 3
PASS_LEASE = timedelta(minutes=10)  # longer than a job may run (job_timeout): a crashed pass's lease runs out
RELEASED = datetime(2000, 1, 1, tzinfo=UTC)
ClientFactory = Callable[[TrackerConnection, dict[str, str]], TrackerClient]


# -- credentials ---------------------------------------------------------------------------------------------

def encrypt_secrets(key: str, secrets: dict[str, str]) -> str:
    return Fernet(key.encode()).encrypt(json.dumps(secrets).encode()).decode()


def decrypt_secrets(key: str, stored: str) -> dict[str, str]:
    try:
        return dict(json.loads(Fernet(key.encode()).decrypt(stored.encode())))
    except InvalidToken as exc:
        raise RuntimeError("stored tracker credentials cannot be decrypted: is LIFTOFF_ENCRYPTION_KEY right?") from exc


def default_client_factory(connection: TrackerConnection, secrets: dict[str, str]) -> TrackerClient:
    return build_client(connection.kind, secrets, dict(connection.settings))


# -- writing outbox rows (in the caller's transaction) ---------------------------------------------------------

async def queue_launch(session: AsyncSession, scope: Scope, launch_id: int) -> Outbox | None:
    """After a plan is saved: sync the launch's tasks and dependencies to its tracker, if it has one."""
    connection = await TrackerRepository(session, scope).launch_connection(launch_id)
    if connection is None or connection.status != ConnectionStatus.ACTIVE:
        return None
    return await OutboxRepository(session, scope).add(
        workspace_id=scope.workspace_id, destination=connection.destination, kind=OutboxKind.TRACKER_LAUNCH,
        idempotency_key=f"{connection.destination}:launch:{launch_id}:{uuid.uuid4().hex}",
        payload={"launch_id": launch_id},
    )


async def queue_task(session: AsyncSession, scope: Scope, launch_id: int, task_id: int,
                     *, key_suffix: str | None = None) -> Outbox | None:
    """After a task changed (or was removed): sync it to its launch's tracker, if it has one."""
    connection = await TrackerRepository(session, scope).launch_connection(launch_id)
    if connection is None or connection.status != ConnectionStatus.ACTIVE:
        return None
    return await _task_row(session, scope, connection.destination, launch_id, task_id,
                           key_suffix or uuid.uuid4().hex)


async def _task_row(session: AsyncSession, scope: Scope, destination: str, launch_id: int, task_id: int,
                    key_suffix: str) -> Outbox:
    return await OutboxRepository(session, scope).add(
        workspace_id=scope.workspace_id, destination=destination, kind=OutboxKind.TRACKER_TASK,
        idempotency_key=f"{destination}:task:{task_id}:{key_suffix}"[:200],
        payload={"launch_id": launch_id, "task_id": task_id},
    )


# -- draining --------------------------------------------------------------------------------------------------

async def sync_destination(db: Database, workspace_id: str, connection_id: int, *, encryption_key: str,
                           client_factory: ClientFactory = default_client_factory,
                           sleep: Sleep = asyncio.sleep, workers: int = WORKERS) -> SyncReport:
    """Drain one tracker connection's due outbox rows; a failing task waits for the next window, others go on.

    One pass per connection at a time (a lease in schedule_runs): two passes could both find a task's fresh
    intent and create its item twice. A job that finds the lease taken leaves; the running pass takes another
    round for rows written while it ran.
    """
    scope = Scope(workspace_id)
    report = SyncReport()
    async with db.reader() as session:
        connection = await TrackerRepository(session, scope).connection(connection_id)
        if connection is None or connection.status != ConnectionStatus.ACTIVE:
            report.stopped = True
            return report
        session.expunge(connection)
    lease = f"tracker-pass:{connection_id}"
    taken = await _take_lease(db, lease)
    if taken is None:
        report.busy = True
        return report
    client = client_factory(connection, decrypt_secrets(encryption_key, connection.credentials))
    ctx = ItemContext(db, scope, connection.id, client, sleep)
    try:
        for _ in range(ROUNDS):
            started = utcnow()
            await _drain(ctx, connection, report, workers)
            if report.stopped or not await _written_since(db, scope, connection.destination, started):
                break
    finally:
        try:
            await flush_links(ctx)  # after an unexpected error too: what was learnt saves lookups next time
        finally:
            report.created, report.requests = ctx.created, client.http.requests
            await client.aclose()
            await _release_lease(db, lease, taken)
    return report


async def _drain(ctx: ItemContext, connection: TrackerConnection, report: SyncReport, workers: int) -> None:
    db, scope = ctx.db, ctx.scope
    await _expand_launch_rows(db, scope, connection, ctx.client.supports_dependencies)
    work = await _claim_task_rows(db, scope, connection.destination)
    if not work:
        return
    snapshot = await _read_snapshot(db, scope, connection.id, work, ctx.client.supports_dependencies)
    sync = Pass(ctx, connection, report, snapshot)
    await _write_intents(sync, work)
    await Pipeline(sync, work).run(workers)
    await flush_links(ctx)
    await _finish(sync, work)


async def _take_lease(db: Database, name: str) -> datetime | None:
    now = utcnow()
    async with db.session() as session:
        runs = ScheduleRuns(session)
        last = await runs.last_run(name)
        if last is not None and last > now - PASS_LEASE:
            return None
        return now if await runs.advance(name, last, now) else None


async def _release_lease(db: Database, name: str, taken: datetime) -> None:
    async with db.session() as session:
        await ScheduleRuns(session).advance(name, taken, RELEASED)


async def _written_since(db: Database, scope: Scope, destination: str, since: datetime) -> bool:
    """Rows another transaction wrote while the pass ran (never claimed: this pass's own retries wait)."""
    async with db.reader() as session:
        rows = await TrackerRepository(session, scope).due_rows(destination)
    return any(row.attempts == 0 and row.created_at >= since for row in rows)


async def _expand_launch_rows(db: Database, scope: Scope, connection: TrackerConnection,
                              with_dependencies: bool) -> None:
    """Each due launch row becomes one row per task needing work, in the transaction that marks it sent."""
    destination = connection.destination
    async with db.reader() as session:
        rows = [row.id for row in await TrackerRepository(session, scope).due_rows(destination)
                if row.kind == OutboxKind.TRACKER_LAUNCH]
    for outbox_id in rows:
        async with db.session() as session:
            trackers = TrackerRepository(session, scope)
            row = await OutboxRepository(session, scope).get(outbox_id)
            if row is None or not await trackers.claim_rows([outbox_id], stale_before=utcnow() - SENDING_LEASE):
                continue
            launch_id = int(row.payload["launch_id"])
            due = await _tasks_needing_work(session, scope, connection, launch_id, with_dependencies)
            queued = {int(r.payload.get("task_id", 0)) for r in await trackers.due_rows(destination)
                      if r.kind == OutboxKind.TRACKER_TASK}
            await trackers.add_rows(destination, OutboxKind.TRACKER_TASK, [
                (f"{destination}:task:{task_id}:launch-row-{outbox_id}", {"launch_id": launch_id, "task_id": task_id})
                for task_id in due if task_id not in queued])
            await trackers.finish_rows([outbox_id], error=None)


async def _tasks_needing_work(session: AsyncSession, scope: Scope, connection: TrackerConnection, launch_id: int,
                              with_dependencies: bool) -> list[int]:
    """Tasks whose item, content, status or relations are not synced, and removed tasks whose item is open."""
    launches = LaunchRepository(session, scope)
    launch = await launches.get(launch_id)
    if launch is None:
        return []
    roster = [m.name for m in launch.members]
    links = {link.task_id: link
             for link in await TrackerRepository(session, scope).links_of_launch(connection.id, launch_id)}
    blocked_by = _blockers(await launches.dependencies(launch_id)) if with_dependencies else {}
    tasks = await launches.tasks(launch_id)
    owners = await WorkspaceRepository(session, scope).emails([t.assignee_slack_id for t in tasks
                                                               if t.assignee_slack_id])
    due = [t.id for t in tasks
           if _needs_work(t, links.get(t.id), roster, blocked_by.get(t.id, []), owner_of(owners, t))]
    present = {t.id for t in tasks}
    return due + [task_id for task_id, link in links.items()
                  if task_id not in present and link.external_id and not link.closed]


def _needs_work(task: Task, link: TrackerLink | None, roster: list[str], blockers: list[int],
                owner_email: str | None = None) -> bool:
    if task.review_state == ReviewState.OPEN or link is None or not link.external_id:
        return True
    if link.synced_hash != source_hash(task, roster, owner_email):
        return True
    return any((link.relations or {}).get(str(blocker)) != DONE for blocker in blockers)


def _blockers(dependencies: Iterable[object]) -> dict[int, list[int]]:
    blocked_by: dict[int, list[int]] = {}
    for dependency in dependencies:
        if getattr(dependency, "kind", None) == "blocks":
            blocked_by.setdefault(dependency.to_task_id, []).append(dependency.from_task_id)  # type: ignore[attr-defined]
    return blocked_by


async def _claim_task_rows(db: Database, scope: Scope, destination: str) -> list[Work]:
    """Claim every due task row in one transaction, grouped by task (two changes of one task: one sync)."""
    by_task: dict[int, Work] = {}
    async with db.session() as session:
        trackers = TrackerRepository(session, scope)
        rows = {row.id: row for row in await trackers.due_rows(destination, limit=5000)
                if row.kind == OutboxKind.TRACKER_TASK}
        for outbox_id in sorted(await trackers.claim_rows(list(rows), stale_before=utcnow() - SENDING_LEASE)):
            payload = rows[outbox_id].payload
            task_id, launch_id = int(payload["task_id"]), int(payload["launch_id"])
            by_task.setdefault(task_id, Work(task_id, launch_id, [])).outbox_ids.append(outbox_id)
    return list(by_task.values())


async def _read_snapshot(db: Database, scope: Scope, connection_id: int, work: list[Work],
                         with_dependencies: bool) -> Snapshot:
    snapshot = Snapshot()
    async with db.reader() as session:
        launches = LaunchRepository(session, scope)
        trackers = TrackerRepository(session, scope)
        for launch_id in sorted({w.launch_id for w in work}):
            launch = await launches.get(launch_id)
            snapshot.rosters[launch_id] = [m.name for m in launch.members] if launch is not None else []
            # The launch's placeholder numbers (raises MappingLocked rather than number them afresh).
            stored = await LaunchPiiRepository(session, scope).load(launch_id)
            snapshot.mappings[launch_id] = PiiMapping.from_json(stored) if stored else PiiMapping()
            snapshot.tasks |= {t.id: t for t in await launches.tasks(launch_id)}
            snapshot.links |= {link.task_id: LinkState.of(link)
                               for link in await trackers.links_of_launch(connection_id, launch_id)}
            if with_dependencies:
                snapshot.blocked_by |= _blockers(await launches.dependencies(launch_id))
        snapshot.owners = await WorkspaceRepository(session, scope).emails(
            [t.assignee_slack_id for t in snapshot.tasks.values() if t.assignee_slack_id])
    return snapshot


async def _write_intents(sync: Pass, work: list[Work]) -> None:
    """The link rows before any remote create, in one transaction: whoever finds one looks before creating."""
    tasks = sync.snapshot.tasks
    fresh = [w for w in work if w.task_id in tasks and w.task_id not in sync.snapshot.links
             and tasks[w.task_id].review_state != ReviewState.OPEN]
    if not fresh:
        return
    async with sync.ctx.db.session() as session:
        await TrackerRepository(session, sync.ctx.scope).intend_creates(
            sync.connection.id, [(w.launch_id, w.task_id) for w in fresh])
    for w in fresh:
        sync.snapshot.links[w.task_id] = LinkState(task_id=w.task_id)


async def _finish(sync: Pass, work: list[Work]) -> None:
    """Every claimed row gets its outcome, in one transaction."""
    report = sync.report
    groups: dict[tuple[str | None, bool], list[int]] = {}
    for item in work:
        if item.outcome == "sent":
            key: tuple[str | None, bool] = (None, False)
        elif item.outcome == "waiting":
            key = (WAITING_FOR_REVIEW, False)
        elif item.outcome == "failed":
            key = (item.error or "failed", True)
        else:  # a transient failure, a blocker not there yet, or not reached before the stop
            key = (item.error or sync.stop_reason or "not reached", False)
        groups.setdefault(key, []).extend(item.outbox_ids)
        report.sent += item.outcome == "sent"
        report.waiting += item.outcome == "waiting"
        report.failed += item.outcome == "failed"
    async with sync.ctx.db.session() as session:
        trackers = TrackerRepository(session, sync.ctx.scope)
        for (error, give_up), ids in groups.items():
            await trackers.finish_rows(ids, error=error, give_up=give_up)


async def pending(db: Database, workspace_id: str, connection_id: int) -> int:
    async with db.reader() as session:
        return await TrackerRepository(session, Scope(workspace_id)).pending_count(f"tracker:{connection_id}")


def is_waiting(row: Outbox) -> bool:
    return row.status == OutboxStatus.PENDING and row.last_error == WAITING_FOR_REVIEW


__all__ = ["SyncReport", "idempotency_marker", "queue_launch", "queue_task", "remote_task", "sync_destination"]
