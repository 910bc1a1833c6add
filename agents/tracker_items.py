"""One task's remote item: what a tracker sees of it, the hash that says whether it changed, and the operations
that create, update, relate and close it.

Every operation is retried with backoff (integrations.tracker_http.retrying). A create is preceded by a committed
intent (a tracker link without an external id); an intent found at the start of a pass, or a second attempt,
looks the item up by its idempotency marker before creating, so a lost response never makes a second item.
The same holds for a "blocks" relation marked "pending" before it is made.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from agents import guardrail
from integrations.tracker_http import retrying
from integrations.trackers import RemoteItem, RemoteTask, TrackerClient
from storage.db import Database
from storage.models import Task, utcnow
from storage.scope import Scope
from storage.trackers import TrackerLink, TrackerRepository

Sleep = Callable[[float], Awaitable[None]]
PENDING, DONE = "pending", "done"
FLUSH_EVERY = 50
FLUSH_AFTER_S = 1.0


@dataclass
class LinkState:
    """A tracker link as this pass knows it; `recovering`: an intent found at the start (a create may have run)."""

    task_id: int
    external_id: str | None = None
    synced_hash: str | None = None
    relations: dict[str, Any] = field(default_factory=dict)
    closed: bool = False
    recovering: bool = False

    @classmethod
    def of(cls, link: TrackerLink) -> LinkState:
        return cls(task_id=link.task_id, external_id=link.external_id, synced_hash=link.synced_hash,
                   relations=dict(link.relations or {}), closed=link.closed, recovering=not link.external_id)


@dataclass
class ItemContext:
    """What the operations of one pass share: the database, the workspace, the connection's client, counters,
    and the link changes not yet written.

    Link changes are written in batches (every FLUSH_EVERY changes or FLUSH_AFTER_S seconds, and at the end of
    each phase): one transaction per remote call would make the database, not the tracker, set the pace. A
    change lost to a crash costs nothing but a lookup: the intent (or the "pending" relation) was committed
    before the remote call, so the next pass finds the item by its marker instead of creating it again.
    """

    db: Database
    scope: Scope
    connection_id: int
    client: TrackerClient
    sleep: Sleep
    created: int = 0
    unsaved: dict[int, dict[str, Any]] = field(default_factory=dict)
    flushed_at: float = field(default_factory=time.monotonic)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


def idempotency_marker(workspace_id: str, task_id: int) -> str:
    # Bracketed so that task 12's marker is not a substring of task 123's.
    return f"[liftoff:{workspace_id}:{task_id}]"


def remote_task(workspace_id: str, task: Task, roster: list[str],
                mapping: guardrail.PiiMapping | None = None, owner_email: str | None = None) -> RemoteTask:
    """The task as a tracker sees it: title and description redacted, the marker at the description's end, and
    the owner's email (the key each client finds its assignee by; never put into the text).

    Redacted with a copy of the launch's stored `mapping`, so the tracker's `<PERSON_1>` is the launch's: text
    that already holds placeholders keeps them, an original typed since gets the launch's number for it, and
    a value the launch has not seen gets the next number (in this copy only: an item's text depends only on
    the task and the stored mapping).
    """
    marker = idempotency_marker(workspace_id, task.id)
    own = guardrail.PiiMapping.from_dict(mapping.to_dict()) if mapping is not None else None
    title = guardrail.redact(task.title, roster=roster, mapping=own)
    description = guardrail.redact(task.description or "", roster=roster, mapping=title.mapping)
    body = f"{description.text}\n\nSynced from Liftoff ({task.key}). {marker}".strip()
    return RemoteTask(marker=marker, title=title.text, description=body, status=task.status,
                      priority=task.priority, due=task.due, owner_email=owner_email)


def source_hash(task: Task, roster: list[str], owner_email: str | None = None) -> str:
    """64 characters: the synced content's hash, then the status's. Taken before redaction, so an unchanged task
    is recognised without redacting it; the roster is in it because it decides what redaction removes. The owner's
    email is in it, so a new owner (or the owner's email first known) is a content update; it is added only when
    there is one, so the hashes of items synced before owners were sent stay as they were."""
    fields: list[object] = [task.key, task.title, task.description or "", task.priority,
                            task.due.isoformat() if task.due else None, sorted(roster)]
    if owner_email:
        fields.append({"owner": owner_email.strip().casefold()})
    return _sha(json.dumps(fields)) + status_hash(str(task.status))


def status_hash(status: str) -> str:
    """The status half of a source hash: which status the remote item was last brought to."""
    return _sha(status)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


async def upsert(ctx: ItemContext, task: Task, roster: list[str], state: LinkState,
                 mapping: guardrail.PiiMapping | None = None, owner_email: str | None = None) -> None:
    """Create the task's remote item (once, ever) or bring it up to date; nothing is sent when the hash matches.

    The caller has committed the intent (`state` exists as a link row) before this runs.
    """
    wanted = source_hash(task, roster, owner_email)
    if state.external_id and state.synced_hash == wanted:
        return
    remote = await asyncio.to_thread(remote_task, ctx.scope.workspace_id, task, roster, mapping, owner_email)
    client = ctx.client
    if not state.external_id:
        recovering = state.recovering

        async def create(attempt: int) -> tuple[RemoteItem, bool]:
            if recovering or attempt > 1:
                found = await client.find(remote.marker)
                if found is not None:
                    return found, True
            return await client.create(remote), False

        item, found = await retrying(create, sleep=ctx.sleep)
        # A found item may be stale: an empty hash makes the update below send every field.
        state.external_id, state.synced_hash, state.recovering = item.id, "" if found else wanted, False
        await save_link(ctx, task.id, item=item, synced=state.synced_hash)
        if not found:
            ctx.created += 1
    if state.synced_hash != wanted:
        old = state.synced_hash or ""
        content, status = old[:32] != wanted[:32], old[32:] != wanted[32:]
        target = state.external_id

        async def update(attempt: int) -> None:
            await client.update(target, remote, content=content, status=status)

        await retrying(update, sleep=ctx.sleep)
        state.synced_hash = wanted
        await save_link(ctx, task.id, synced=wanted)


async def relate(ctx: ItemContext, item_id: str, blocker_id: str, *, recovering: bool) -> None:
    """`blocker_id` blocks `item_id`; a relation that may already exist (recovering, a retry) is looked up first."""
    client = ctx.client

    async def operation(attempt: int) -> None:
        if (recovering or attempt > 1) and await client.has_blocker(item_id, blocker_id):
            return
        await client.add_blocker(item_id, blocker_id)

    await retrying(operation, sleep=ctx.sleep)


async def close(ctx: ItemContext, state: LinkState) -> None:
    """Close the remote item of a removed task (once)."""
    if not state.external_id or state.closed:
        return
    client, item_id = ctx.client, state.external_id

    async def operation(attempt: int) -> None:
        await client.close(item_id)

    await retrying(operation, sleep=ctx.sleep)
    state.closed = True
    await save_link(ctx, state.task_id, closed=True)


async def save_link(ctx: ItemContext, task_id: int, *, item: RemoteItem | None = None, synced: str | None = None,
                    relations: dict[str, str] | None = None, closed: bool = False) -> None:
    """Record a change of the task's link; written with the next batch (see ItemContext)."""
    change = ctx.unsaved.setdefault(task_id, {})
    if item is not None:
        change["item"] = item
    if synced is not None:
        change["synced"] = synced
    if relations:
        change["relations"] = {**change.get("relations", {}), **relations}
    if closed:
        change["closed"] = True
    if len(ctx.unsaved) >= FLUSH_EVERY or time.monotonic() - ctx.flushed_at >= FLUSH_AFTER_S:
        await flush_links(ctx)


async def flush_links(ctx: ItemContext) -> None:
    """Write the recorded link changes in one transaction (one flush at a time, so none overtakes another)."""
    async with ctx.lock:
        changes, ctx.unsaved, ctx.flushed_at = ctx.unsaved, {}, time.monotonic()
        if not changes:
            return
        async with ctx.db.session() as session:
            links = await TrackerRepository(session, ctx.scope).links_by_task(ctx.connection_id, list(changes))
            for task_id, change in changes.items():
                link = links.get(task_id)
                if link is None:
                    raise RuntimeError(f"tracker link of task {task_id} vanished during a sync")
                if "item" in change:
                    item = change["item"]
                    link.external_id, link.external_key, link.external_url = item.id, item.key, item.url
                if "synced" in change:
                    link.synced_hash = change["synced"]
                if "relations" in change:
                    link.relations = {**link.relations, **change["relations"]}
                if change.get("closed"):
                    link.closed = True
                link.last_synced_at = utcnow()
