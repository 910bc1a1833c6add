"""Status flowing back from the trackers: webhooks, the items they name fetched, and the periodic reconcile.

Every remote change goes one way: find the task by its tracker link, drop it when the remote side only shows
what Liftoff last put there or already holds (our own push coming back, a redelivery), else apply it through
agents/task_updates.update_task as the actor "tracker:<kind>" with last write wins on the change time. So a
tracker's change has the effects of one made in Slack: the audit entry, the analysis marked stale, the PM's
alert; the caller enqueues the recompute. The status applied is marked as the remote item's synced status in
the same transaction, so the outward sync does not send it back.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from agents.policy import Actor
from agents.task_updates import TaskChange, UpdateOutcome, UpdateResult, update_task
from agents.tracker_items import status_hash
from agents.tracker_sync import ClientFactory, decrypt_secrets, default_client_factory, encrypt_secrets
from agents.tracker_webhook_auth import (
    ASANA_HANDSHAKE,
    NOTION_SIGNATURE,
    WebhookRefused,
    items,
    load,
    notion_verification_token,
    verify,
)
from integrations.tracker_http import TrackerError, retrying
from integrations.trackers import RemoteChange
from storage.db import Database
from storage.enums import Role, TaskStatus
from storage.models import Task, utcnow
from storage.scope import Scope
from storage.task_updates import TaskUpdateRepository
from storage.tracker_inbound import InboundRepository, webhook_connection
from storage.trackers import ConnectionStatus, TrackerConnection, TrackerKind, TrackerRepository

log = logging.getLogger(__name__)

ACTOR_PREFIX = "tracker:"
SECRET_KEY = "webhook_secret"
# Linear and Jira sign with a secret we make and the Admin pastes into the tracker; Notion and Asana hand theirs
# over in a handshake.
GENERATED_SECRET = (TrackerKind.LINEAR, TrackerKind.JIRA)
RECONCILE_OVERLAP = timedelta(minutes=2)
FIRST_RECONCILE = timedelta(hours=1)  # how far back a connection's first reconcile looks
# What our status looks like after a trip through a tracker: every tracker shows "blocked" as started work
# (none has a blocked state the clients map), Asana has only done and not done.
ROUND_TRIP: dict[str, dict[str, str]] = {
    "asana": {TaskStatus.IN_PROGRESS: TaskStatus.TODO, TaskStatus.BLOCKED: TaskStatus.TODO},
}
CHANGES = {TaskStatus.TODO: TaskChange.REOPEN, TaskStatus.IN_PROGRESS: TaskChange.START,
           TaskStatus.DONE: TaskChange.DONE, TaskStatus.BLOCKED: TaskChange.BLOCK}


class Applied(StrEnum):
    APPLIED = "applied"
    UNCHANGED = "unchanged"  # the task already has this status
    ECHO = "echo"  # the tracker shows what Liftoff last put there (our own push, or a redelivery)
    STALE = "stale"  # the task changed in Liftoff after the remote change: Liftoff's later write wins
    UNKNOWN = "unknown"  # no task of ours is linked to the item (or the status is not one we map)


@dataclass(frozen=True)
class ApplyResult:
    outcome: Applied
    task_id: int | None = None
    launch_id: int | None = None
    alerted: bool = False


@dataclass
class WebhookAnswer:
    """What the route answers, and the work it leaves: recomputes (launch ids) and item fetches."""

    status: int
    error: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    workspace_id: str = ""
    results: list[ApplyResult] = field(default_factory=list)
    fetch: list[str] = field(default_factory=list)


def tracker_actor(workspace_id: str, kind: str) -> Actor:
    # A connection is made by an Admin; what its tracker reports is applied with that standing.
    return Actor(workspace_id, f"{ACTOR_PREFIX}{kind}", Role.ADMIN)


def shown_as(kind: str, status: str) -> str:
    """Our status as the tracker shows it (and reports it back)."""
    if status == TaskStatus.BLOCKED and kind not in ROUND_TRIP:
        return TaskStatus.IN_PROGRESS
    return ROUND_TRIP.get(kind, {}).get(status, status)


def pushed_status(synced_hash: str | None) -> str | None:
    """The status the remote item was last brought to (by our push or by an applied change), from the link."""
    if not synced_hash or len(synced_hash) < 64:
        return None
    return next((str(s) for s in TaskStatus if status_hash(str(s)) == synced_hash[32:]), None)


def nothing_new(kind: str, remote: str, current: str, pushed: str | None) -> bool:
    """True when the remote status is what the task is (as the tracker shows it), or what we last put there."""
    return remote in (current, shown_as(kind, current)) or (
        pushed is not None and remote in (pushed, shown_as(kind, pushed)))


# -- applying one remote change --------------------------------------------------------------------------------

async def apply_remote_change(db: Database, connection: TrackerConnection, change: RemoteChange) -> ApplyResult:
    scope = Scope(connection.workspace_id)
    async with db.reader() as session:
        link = (await InboundRepository(session, scope).links_by_external(connection.id, [change.item_id])
                ).get(change.item_id)
        task = await TaskUpdateRepository(session, scope).task(link.task_id) if link is not None else None
    if link is None or task is None or change.status not in CHANGES:
        return ApplyResult(Applied.UNKNOWN)
    if nothing_new(connection.kind, change.status, task.status, pushed_status(link.synced_hash)):
        return ApplyResult(Applied.ECHO, task.id, task.launch_id)
    link_id = link.id

    async def mark_synced(session: AsyncSession, changed: Task) -> None:
        inbound = InboundRepository(session, scope)
        row = await inbound.link_for_update(link_id)
        if row is not None and row.synced_hash:
            row.synced_hash = row.synced_hash[:32] + status_hash(str(changed.status))
        await inbound.record_event(connection.id)

    result = await update_task(
        db, tracker_actor(connection.workspace_id, connection.kind), task.id, CHANGES[TaskStatus(change.status)],
        reason=f"marked blocked in {connection.kind.title()}", changed_at=change.changed_at, on_change=mark_synced)
    return _result(result, task)


def _result(result: UpdateResult, task: Task) -> ApplyResult:
    outcome = {UpdateOutcome.UPDATED: Applied.APPLIED, UpdateOutcome.STALE: Applied.STALE,
               UpdateOutcome.UNCHANGED: Applied.UNCHANGED}.get(result.outcome, Applied.UNKNOWN)
    if result.outcome is UpdateOutcome.DENIED:
        log.warning("tracker change to task %s refused: %s", task.id, result.decision)
    return ApplyResult(outcome, task.id, task.launch_id, result.alerted)


async def apply_changes(db: Database, connection: TrackerConnection, changes: list[RemoteChange]
                        ) -> list[ApplyResult]:
    return [await apply_remote_change(db, connection, change) for change in changes]


# -- webhooks ----------------------------------------------------------------------------------------------------

async def create_webhook_secret(session: AsyncSession, scope: Scope, connection_id: int, *,
                                encryption_key: str) -> str:
    """A new signing secret for a connection's webhook, stored encrypted; shown once to the Admin."""
    secret = secrets.token_hex(32)
    await InboundRepository(session, scope).set_secret(
        connection_id, encrypt_secrets(encryption_key, {SECRET_KEY: secret}), only_if_empty=False)
    return secret


def webhook_path(kind: str, connection_id: int) -> str:
    return f"/webhooks/{kind}/{connection_id}"


async def receive_webhook(db: Database, kind: str, connection_id: int, headers: Mapping[str, str], body: bytes,
                          *, encryption_key: str, now: float | None = None) -> WebhookAnswer:
    """Verify one webhook request and apply what it says (or name the items to fetch); never raises on bad input.

    401: bad or missing signature, a stale Linear timestamp, a second handshake with another secret;
    404: no such connection of this kind; 400: a signed body that is not JSON.
    """
    async with db.reader() as session:
        found = await webhook_connection(session, kind, connection_id)
    if found is None:
        return WebhookAnswer(404, "unknown connection")
    connection, inbound = found
    try:
        stored = decrypt_secrets(encryption_key, inbound.webhook_secret).get(SECRET_KEY) \
            if inbound is not None and inbound.webhook_secret else None
    except RuntimeError:
        log.error("the webhook secret of tracker connection %s cannot be decrypted", connection_id)
        return WebhookAnswer(503, "the webhook secret cannot be read")
    answer = WebhookAnswer(200, workspace_id=connection.workspace_id)
    if kind == TrackerKind.ASANA and ASANA_HANDSHAKE in headers:
        offered = headers[ASANA_HANDSHAKE]
        answer = await _handshake(db, connection, stored, offered, encryption_key)
        if answer.status == 200:
            answer.headers[ASANA_HANDSHAKE] = offered
        return answer
    if kind == TrackerKind.NOTION and NOTION_SIGNATURE not in headers:
        try:
            token = notion_verification_token(load(body))
        except WebhookRefused as exc:
            return WebhookAnswer(exc.status, str(exc))
        if token is not None:
            return await _handshake(db, connection, stored, token, encryption_key)
    if stored is None:
        return WebhookAnswer(401, "no webhook secret for this connection")
    try:
        payload = verify(kind, stored, headers, body, now=now)
    except WebhookRefused as exc:
        return WebhookAnswer(exc.status, str(exc), workspace_id=connection.workspace_id)
    named = items(kind, payload)
    answer.results = await apply_changes(db, connection, [i.change for i in named if i.change is not None])
    answer.fetch = [i.item_id for i in named if i.change is None]
    return answer


async def _handshake(db: Database, connection: TrackerConnection, stored: str | None, offered: str,
                     encryption_key: str) -> WebhookAnswer:
    """The first secret a tracker hands over is kept; the same one again is fine, another one is refused."""
    if not offered or len(offered) > 500:
        return WebhookAnswer(400, "empty handshake secret")
    if stored is not None:
        same = hmac.compare_digest(stored.encode(), offered.encode())
        return WebhookAnswer(200 if same else 401, "" if same else "the webhook already has a secret",
                             workspace_id=connection.workspace_id)
    scope = Scope(connection.workspace_id)
    async with db.session() as session:
        kept = await InboundRepository(session, scope).set_secret(
            connection.id, encrypt_secrets(encryption_key, {SECRET_KEY: offered}), only_if_empty=True)
    if not kept:  # another handshake won the race: only its secret is accepted
        return await _handshake(db, connection, await _stored_secret(db, connection, encryption_key), offered,
                                encryption_key)
    return WebhookAnswer(200, workspace_id=connection.workspace_id)


async def _stored_secret(db: Database, connection: TrackerConnection, encryption_key: str) -> str | None:
    async with db.reader() as session:
        row = await InboundRepository(session, Scope(connection.workspace_id)).state(connection.id)
    return decrypt_secrets(encryption_key, row.webhook_secret).get(SECRET_KEY) if row and row.webhook_secret \
        else None


# -- fetching what a webhook only named, and the reconcile ---------------------------------------------------------

async def _active_connection(db: Database, scope: Scope, connection_id: int) -> TrackerConnection | None:
    async with db.reader() as session:
        connection = await TrackerRepository(session, scope).connection(connection_id)
        if connection is None or connection.status != ConnectionStatus.ACTIVE:
            return None
        session.expunge(connection)
    return connection


async def fetch_and_apply(db: Database, workspace_id: str, connection_id: int, item_id: str, *,
                          encryption_key: str, client_factory: ClientFactory = default_client_factory
                          ) -> ApplyResult:
    """A webhook named an item without its status (Asana, Notion): ask the tracker, then apply the answer."""
    connection = await _active_connection(db, Scope(workspace_id), connection_id)
    if connection is None:
        return ApplyResult(Applied.UNKNOWN)
    client = client_factory(connection, decrypt_secrets(encryption_key, connection.credentials))
    try:
        change = await retrying(lambda attempt: client.status_of(item_id))
    finally:
        await client.aclose()
    if change is None:
        return ApplyResult(Applied.UNKNOWN)
    return await apply_remote_change(db, connection, change)


@dataclass
class ReconcileReport:
    changes: int = 0
    results: list[ApplyResult] = field(default_factory=list)
    error: str | None = None
    skipped: bool = False


async def reconcile(db: Database, workspace_id: str, connection_id: int, *, encryption_key: str,
                    client_factory: ClientFactory = default_client_factory) -> ReconcileReport:
    """Pull the items changed since the last mark (less an overlap) and apply them as webhooks would have.

    The mark moves to this run's start only when the pull succeeded; a failure is recorded (the health card
    shows it) and the next window asks again from the old mark.
    """
    scope = Scope(workspace_id)
    report = ReconcileReport()
    connection = await _active_connection(db, scope, connection_id)
    if connection is None:
        report.skipped = True
        return report
    async with db.reader() as session:
        state = await InboundRepository(session, scope).state(connection_id)
    started = utcnow()
    mark = state.reconciled_at if state is not None and state.reconciled_at else started - FIRST_RECONCILE
    client = client_factory(connection, decrypt_secrets(encryption_key, connection.credentials))
    try:
        changes = await retrying(lambda attempt: client.changed_since(mark - RECONCILE_OVERLAP))
    except TrackerError as exc:
        report.error = str(exc)[:500] or type(exc).__name__
        async with db.session() as session:
            await InboundRepository(session, scope).record_failure(connection_id, report.error)
        return report
    finally:
        await client.aclose()
    report.changes = len(changes)
    report.results = await apply_changes(db, connection, changes)
    async with db.session() as session:
        await InboundRepository(session, scope).mark_reconciled(connection_id, started)
    return report


def launches_to_recompute(results: list[ApplyResult]) -> list[int]:
    return sorted({r.launch_id for r in results if r.outcome is Applied.APPLIED and r.launch_id is not None})


def any_alerted(results: list[ApplyResult]) -> bool:
    return any(r.alerted for r in results)
