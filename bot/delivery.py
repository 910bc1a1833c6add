"""Drains the Slack outbox: renders each row at send time and posts it exactly once.

A row is claimed (pending -> sending) before the call and marked sent after it. Each message
carries the row's idempotency key as Slack message metadata, so a row found still `sending`
after a crash is looked up in the channel's history before it is ever posted again.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession

from agents.health import launch_health
from agents.launch_pii import reveal_for
from agents.notification import is_person
from agents.review_items import review_page
from blocks import alerts, launch_messages, review_messages, task_blocks, tracker_modals
from bot import okr_notices, replan_delivery, share_delivery
from storage.db import Database
from storage.enums import Destination, OutboxKind, OutboxStatus
from storage.launches import LaunchRepository
from storage.llm_usage import LlmUsageRepository
from storage.models import Outbox, utcnow
from storage.outbox import OutboxRepository
from storage.reviews import ReviewRepository
from storage.scope import Scope
from storage.task_updates import TaskUpdateRepository

log = logging.getLogger(__name__)

METADATA_EVENT_TYPE = "liftoff_outbox"
SENDING_LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 5
# Errors that retrying will not heal for this channel: deliver to the PM by DM instead.
CHANNEL_ERRORS = {"channel_not_found", "not_in_channel", "is_archived", "restricted_action", "cannot_dm_bot"}


async def drain_slack_outbox(db: Database, client: AsyncWebClient, workspace_id: str) -> int:
    """Send every due row of this workspace; returns how many were sent now."""
    scope = Scope(workspace_id)
    async with db.reader() as session:
        rows = await OutboxRepository(session, scope).due(Destination.SLACK)
    sent = 0
    for row in rows:
        sent += await deliver(db, client, scope, row.id)
    return sent


async def deliver(db: Database, client: AsyncWebClient, scope: Scope, outbox_id: int) -> bool:
    async with db.session() as session:
        outbox = OutboxRepository(session, scope)
        row = await outbox.get(outbox_id)
        if row is None or row.workspace_id != scope.workspace_id:
            return False
        recovering = row.status == OutboxStatus.SENDING
        if not await outbox.claim(outbox_id, stale_before=utcnow() - SENDING_LEASE):
            return False
        message = await render(session, scope, row)
        key, payload, attempts = row.idempotency_key, dict(row.payload), row.attempts + 1
        kind = row.kind
        if kind == OutboxKind.REVIEW_REQUEST:
            payload |= await review_thread(session, scope, payload)
    if message is None:
        await _finish(db, scope, outbox_id, error="nothing to send: the launch is gone")
        return False
    if payload.get("update_ts"):  # a row that edits a message already posted, in place
        return await _update_in_place(db, client, scope, outbox_id, payload, message, attempts)
    try:
        channel = await _open_channel(client, payload["channel"])
        thread_ts = payload.get("thread_ts")
        ts = await _already_posted(client, channel, key, thread_ts) if recovering else None
        if ts is None:
            ts = await _post(client, channel, key, message, thread_ts=thread_ts)
    except SlackApiError as exc:
        error = str(exc.response.get("error"))
        if error in CHANNEL_ERRORS and payload.get("pm") and payload["channel"] != payload["pm"]:
            log.warning("cannot post to %s (%s); sending to the PM instead", payload["channel"], error)
            channel = await _open_channel(client, payload["pm"])
            note = f":information_source: I could not post this in <#{payload['channel']}> ({error}). " \
                   "Invite me there with `/invite @Liftoff`."
            fallback = {**message, "blocks": [_note_block(note), *message["blocks"]][:50]}
            ts = await _post(client, channel, key, fallback)
        else:
            log.warning("slack outbox row %s failed: %s", outbox_id, error)
            # A share to a channel the app cannot post in is told to the person at once, not retried.
            shared_nowhere = kind in share_delivery.KINDS and error in CHANNEL_ERRORS
            await _finish(db, scope, outbox_id, error=error, give_up=attempts >= MAX_ATTEMPTS or shared_nowhere)
            if shared_nowhere or (kind in share_delivery.KINDS and attempts >= MAX_ATTEMPTS):
                await share_delivery.tell_not_shared(payload, error)
            return False
    await _remember_message(db, scope, kind, int(payload.get("launch_id") or 0), channel, ts)
    await _finish(db, scope, outbox_id, external_id=f"{channel}:{ts}")
    if kind in share_delivery.KINDS:
        await share_delivery.tell_shared(payload, channel)
    return True


async def review_thread(session: AsyncSession, scope: Scope, payload: dict[str, Any]) -> dict[str, Any]:
    """Where a review message goes in "thread" mode: under the posted plan, once the plan is posted."""
    launch = await LaunchRepository(session, scope).get(int(payload["launch_id"]))
    if not payload.get("thread") or launch is None or not (launch.plan_channel_id and launch.plan_ts):
        return {}
    return {"channel": launch.plan_channel_id, "thread_ts": launch.plan_ts}


async def _remember_message(db: Database, scope: Scope, kind: str, launch_id: int, channel: str, ts: str) -> None:
    """Keep where the plan and the review message are: later posts thread under the plan, reviews update in place."""
    if kind not in (OutboxKind.LAUNCH_PLAN, OutboxKind.REVIEW_REQUEST):
        return
    async with db.session() as session:
        reviews = ReviewRepository(session, scope)
        if kind == OutboxKind.LAUNCH_PLAN:
            await reviews.record_plan_message(launch_id, channel, ts)
        else:
            await reviews.record_review_message(launch_id, channel, ts)


async def render(session: AsyncSession, scope: Scope, row: Outbox) -> dict[str, Any] | None:
    """The message for an outbox row, built from the database as it is now."""
    if row.kind == OutboxKind.TRACKER_STOPPED:  # about a tracker connection, not a launch
        return tracker_modals.tracker_stopped(row.payload)
    if row.kind in okr_notices.KINDS:
        return await okr_notices.render_okr_notice(session, scope, row.kind, row.payload)
    launches = LaunchRepository(session, scope)
    launch = await launches.get(int(row.payload["launch_id"]))
    if launch is None:
        return None
    if row.kind == OutboxKind.LAUNCH_PLAN:
        # Flagged tasks are announced only once their review is decided.
        tasks = await launches.syncable_tasks(launch.id)
        awaiting = await launches.task_count(launch.id) - len(tasks)
        usage = await LlmUsageRepository(session, scope).summary(launch.id)
        # Placeholders restored as far as the recipient may see them (a channel: the team's names only).
        tasks = (await reveal_for(session, scope, launch, row.payload.get("channel"))).tasks(tasks)
        return launch_messages.plan_message(launch_health(launch, tasks, date.today()), tasks, usage, awaiting)
    if row.kind == OutboxKind.REVIEW_REQUEST:
        return review_messages.review_message(await review_page(session, scope, launch))
    if row.kind == OutboxKind.LAUNCH_FAILED:
        return launch_messages.planning_failed(launch, str(row.payload.get("reason", "")))
    if row.kind == OutboxKind.GUARDRAIL_ALERT:
        return alerts.guardrail_alert(launch, str(row.payload.get("reason", "")))
    if row.kind == OutboxKind.CRITICAL_BLOCKED:
        task = await TaskUpdateRepository(session, scope).task(int(row.payload["task_id"]))
        if task is None:
            return None
        reveal = await reveal_for(session, scope, launch, row.payload.get("channel"))
        return task_blocks.critical_blocked_alert(launch, reveal.task(task))
    if row.kind in replan_delivery.KINDS:
        return await replan_delivery.render_followup(session, scope, row, launch)
    if row.kind in share_delivery.KINDS:
        return await share_delivery.render_share(session, scope, row, launch)
    raise ValueError(f"unknown slack outbox kind {row.kind!r}")


async def _open_channel(client: AsyncWebClient, target: str) -> str:
    """A channel id to post in: a person's id becomes their DM with the app."""
    if is_person(target):
        response = await client.conversations_open(users=target)
        return str(response["channel"]["id"])
    return target


async def _post(
    client: AsyncWebClient, channel: str, key: str, message: dict[str, Any], *, thread_ts: str | None = None
) -> str:
    metadata = {"event_type": METADATA_EVENT_TYPE, "event_payload": {"key": key}}
    if thread_ts:
        message = {**message, "thread_ts": thread_ts}
    try:
        response = await client.chat_postMessage(channel=channel, metadata=metadata, **message)
    except SlackApiError as exc:
        if exc.response.get("error") != "not_in_channel":
            raise
        # Public channels can be joined without an invite; private ones raise again below.
        await client.conversations_join(channel=channel)
        response = await client.chat_postMessage(channel=channel, metadata=metadata, **message)
    return str(response["ts"])


async def _already_posted(client: AsyncWebClient, channel: str, key: str, thread_ts: str | None = None) -> str | None:
    """The ts of a message an earlier, interrupted run already posted for this key (in the thread, if one)."""
    oldest = (utcnow() - timedelta(days=1)).timestamp()
    if thread_ts:
        response = await client.conversations_replies(
            channel=channel, ts=thread_ts, include_all_metadata=True, oldest=str(oldest), limit=200
        )
    else:
        response = await client.conversations_history(
            channel=channel, include_all_metadata=True, oldest=str(oldest), limit=200
        )
    for message in response.get("messages", []):
        metadata = message.get("metadata") or {}
        if metadata.get("event_type") == METADATA_EVENT_TYPE and metadata.get("event_payload", {}).get("key") == key:
            return str(message["ts"])
    return None


async def _finish(db: Database, scope: Scope, outbox_id: int, *, external_id: str | None = None,
                  error: str | None = None, give_up: bool = True) -> None:
    async with db.session() as session:
        outbox = OutboxRepository(session, scope)
        if error is None:
            await outbox.mark_sent(outbox_id, external_id)
        else:
            await outbox.mark_retry(outbox_id, error, give_up=give_up)


async def _update_in_place(db: Database, client: AsyncWebClient, scope: Scope, outbox_id: int,
                           payload: dict[str, Any], message: dict[str, Any], attempts: int) -> bool:
    """chat.update of the message the row names: it sets the same content however often it runs, so a retry
    after a crash between the call and the local write changes nothing."""
    channel, ts = str(payload["channel"]), str(payload["update_ts"])
    try:
        await client.chat_update(channel=channel, ts=ts, **message)
    except SlackApiError as exc:
        error = str(exc.response.get("error"))
        log.warning("slack outbox row %s could not update %s:%s: %s", outbox_id, channel, ts, error)
        gone = error in ("message_not_found", "cant_update_message", "edit_window_closed") or error in CHANNEL_ERRORS
        await _finish(db, scope, outbox_id, error=error, give_up=gone or attempts >= MAX_ATTEMPTS)
        return False
    await _finish(db, scope, outbox_id, external_id=f"{channel}:{ts}")
    return True


def _note_block(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}
