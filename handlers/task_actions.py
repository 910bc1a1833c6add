"""Task updates from Slack: Done / Start / Blocked buttons, the blocked-reason modal, `/launch done|start|block`.

Buttons carry the task id only. Done and Start are answered in a CLICK job (handlers/deferred.py): the web process
only acks. The update (agents/task_updates.py) reloads the task within the workspace, asks the policy and changes
it in one short transaction; a denial is told (through the click's response_url) and audited. After the commit a
RECOMPUTE_LAUNCH job recomputes the launch's critical path, slack and risks (coalesced) and REFRESH_HOME jobs
rebuild the Home tabs the change touches: the web process only tells the person (one ephemeral).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from agents.access import load_actor, record_denial
from agents.names import similar_names
from agents.policy import Action, Actor, decide
from agents.task_updates import TaskChange, UpdateOutcome, UpdateResult, update_task
from blocks.ids import ActionId, CallbackId, row_id
from blocks.task_blocks import (
    BLOCK_REASON_MAX,
    BlockReasonField,
    ambiguous_key,
    block_reason_modal,
    task_usage,
    unknown_key,
    update_reply,
    updated_headline,
)
from bot.jobs import JobName
from bot.services import services_of
from handlers.access import current_actor, refuse
from handlers.deferred import DeferredClick, deferred
from handlers.home import refresh_home_later
from storage.db import Database
from storage.scope import Scope
from storage.task_updates import KeyMatch, TaskUpdateRepository

log = logging.getLogger(__name__)

KEY_MAX = 32
BUTTON_CHANGES = {ActionId.TASK_DONE: TaskChange.DONE, ActionId.TASK_START: TaskChange.START}
COMMAND_CHANGES = {"done": TaskChange.DONE, "start": TaskChange.START, "block": TaskChange.BLOCK}
CHOICE_BUTTONS = {
    TaskChange.DONE: (ActionId.TASK_DONE, "Mark done"),
    TaskChange.START: (ActionId.TASK_START, "Start"),
    TaskChange.BLOCK: (ActionId.TASK_BLOCK, "Blocked…"),
}
EMPTY_REASON = "Say what is blocking it, so someone can help unblock it."


def _reply(body: dict[str, Any], respond: AsyncRespond) -> AsyncRespond | None:
    """respond() only works with a response_url: messages have one, the Home tab has none."""
    return respond if body.get("response_url") else None


async def _say(reply: AsyncRespond | None, message: dict[str, Any]) -> None:
    if reply is not None:
        await reply(response_type="ephemeral", replace_original=False, **message)


@deferred(ActionId.TASK_DONE, ActionId.TASK_START)
async def task_button(run: DeferredClick) -> None:
    """Done or Start on a task line (a DM, a reply, the Home tab), answered in a CLICK job."""
    actor = await current_actor(run.context, run.click.user_id, run.client)
    task_id = row_id(run.click.value)
    change = BUTTON_CHANGES[ActionId(run.click.action_id)]
    await run_update(run.context, run.client, run.respond, actor, task_id, change)


async def on_block_button(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond,
                          context: AsyncBoltContext, client: AsyncWebClient) -> None:
    """Blocked…: ask why in a modal (only someone who may update the task gets it)."""
    await ack()
    reply = _reply(body, respond)
    actor = await current_actor(context, body["user"]["id"], client)
    task_id = row_id(action.get("value"))
    async with services_of(context).db.reader() as session:
        found = await TaskUpdateRepository(session, Scope(actor.workspace_id)).task_with_launch(task_id or 0)
    if found is None:
        decision = decide(actor, Action.TASK_UPDATE)
    else:
        decision = decide(actor, Action.TASK_UPDATE, launch=found.launch, task=found.task)
    if found is None or not decision.allowed:
        await refuse(context, reply, actor, Action.TASK_UPDATE, f"task:{task_id}", decision)
        return
    channel = (body.get("container") or {}).get("channel_id") or (body.get("channel") or {}).get("id")
    view = block_reason_modal(found.task, channel_id=channel)
    await client.views_open(trigger_id=body["trigger_id"], view=view)


def read_reason(view: dict[str, Any]) -> str:
    values = view.get("state", {}).get("values", {})
    raw = values.get(BlockReasonField.REASON, {}).get(BlockReasonField.REASON, {}).get("value") or ""
    return str(raw).replace("\x00", "").strip()


def read_metadata(view: dict[str, Any]) -> tuple[int | None, str | None]:
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
        task_id, channel = int(meta.get("task_id")), meta.get("channel")
    except (ValueError, TypeError, AttributeError):
        return None, None
    return task_id, channel if isinstance(channel, str) and channel else None


async def on_block_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any],
                             context: AsyncBoltContext, client: AsyncWebClient) -> None:
    """The reason modal: a field error for an empty reason or a denial; otherwise close it, then update."""
    services = services_of(context)
    user_id = body["user"]["id"]
    reason = read_reason(view)
    if not reason:
        await ack(response_action="errors", errors={BlockReasonField.REASON: EMPTY_REASON})
        return
    if len(reason) > BLOCK_REASON_MAX:
        await ack(response_action="errors",
                  errors={BlockReasonField.REASON: f"Keep it under {BLOCK_REASON_MAX:,} characters."})
        return
    task_id, channel = read_metadata(view)
    # Before the ack, short reads only (no Slack call, no lock, no write): who is asking, and may they?
    actor, found = await asyncio.gather(load_actor(services.db, context["team_id"], user_id),
                                        _task_with_launch(services.db, context["team_id"], task_id))
    decision = (decide(actor, Action.TASK_UPDATE, launch=found.launch, task=found.task) if found
                else decide(actor, Action.TASK_UPDATE))
    if not decision.allowed:
        await ack(response_action="errors", errors={BlockReasonField.REASON: decision.reason})
        await record_denial(services.db, actor, Action.TASK_UPDATE, f"task:{task_id}", decision)
        return
    await ack()
    reply = _ephemeral_in(client, channel, user_id)
    await run_update(context, client, reply, actor, task_id, TaskChange.BLOCK, reason=reason)


async def _task_with_launch(db: Database, workspace_id: str, task_id: int | None) -> KeyMatch | None:
    async with db.reader() as session:
        return await TaskUpdateRepository(session, Scope(workspace_id)).task_with_launch(task_id or 0)


def _ephemeral_in(client: AsyncWebClient, channel: str | None, user_id: str) -> AsyncRespond | None:
    """A reply for a modal opened from a message: an ephemeral in that channel (none from the Home tab)."""
    if not channel:
        return None

    async def reply(**message: Any) -> None:
        message.pop("response_type", None)
        message.pop("replace_original", None)
        try:
            await client.chat_postEphemeral(channel=channel, user=user_id, **message)
        except SlackApiError as exc:
            log.info("could not answer %s in %s: %s", user_id, channel, exc.response.get("error"))

    return reply  # type: ignore[return-value]


async def run_update(context: Mapping[str, Any], client: AsyncWebClient, reply: AsyncRespond | None, actor: Actor,
                     task_id: int | None, change: TaskChange, *, reason: str | None = None) -> UpdateResult:
    """Apply the change, tell the person, let the outbox drain and rebuild the Home tabs it touches."""
    services = services_of(context)
    result = await update_task(services.db, actor, task_id or 0, change, reason=reason)
    if result.outcome in (UpdateOutcome.MISSING, UpdateOutcome.DENIED):
        assert result.decision is not None
        await refuse(context, reply, actor, Action.TASK_UPDATE, f"task:{task_id}", result.decision)
        return result
    assert result.task is not None and result.launch is not None
    changed = result.outcome is UpdateOutcome.UPDATED
    if changed:  # the change is committed: its critical path, slack and risks are recomputed off this path
        await services.jobs.enqueue(JobName.RECOMPUTE_LAUNCH, actor.workspace_id, result.launch.id)
    if result.alerted:  # the PM's urgent notification goes out now, not at the next scheduler tick
        await services.jobs.enqueue(JobName.DELIVER_NOTIFICATIONS, actor.workspace_id)
    headline = updated_headline(result.task, changed=changed,
                                alerted_pm=result.launch.created_by if result.alerted else None)
    await _say(reply, update_reply(result.task, result.launch.name, headline))
    if changed:
        for person in result.touched:
            await refresh_home_later(services, actor.workspace_id, person)
    return result


async def run_task_command(context: AsyncBoltContext, client: AsyncWebClient, respond: AsyncRespond, actor: Actor,
                           verb: str, argument: str, *, channel_id: str | None, trigger_id: str | None) -> None:
    """`/launch done KEY`, `/launch start KEY`, `/launch block KEY reason` (the command has been acked)."""
    change = COMMAND_CHANGES[verb]
    key, _, rest = argument.strip().partition(" ")
    key, reason = key.strip(), rest.strip()
    example = "ENG-3 waiting for the API keys" if change is TaskChange.BLOCK else "ENG-3"
    if not key:
        await respond(response_type="ephemeral", **task_usage(verb, example))
        return
    if len(reason) > BLOCK_REASON_MAX:
        text = f"Keep the reason under {BLOCK_REASON_MAX:,} characters; nothing was changed."
        await respond(response_type="ephemeral", text=text)
        return
    match = await _find(context, respond, actor, key, change, channel_id)
    if match is None:
        return
    if change is TaskChange.BLOCK and not reason:
        decision = decide(actor, Action.TASK_UPDATE, launch=match.launch, task=match.task)
        if not decision.allowed:
            await refuse(context, respond, actor, Action.TASK_UPDATE, f"task:{match.task.id}", decision)
            return
        if trigger_id:
            await client.views_open(trigger_id=trigger_id, view=block_reason_modal(match.task, channel_id=channel_id))
        else:
            await respond(response_type="ephemeral", **task_usage(verb, example))
        return
    await run_update(context, client, respond, actor, match.task.id, change, reason=reason or None)


async def _find(context: AsyncBoltContext, respond: AsyncRespond, actor: Actor, key: str, change: TaskChange,
                channel_id: str | None) -> KeyMatch | None:
    """The one task `key` names: in the workspace, or in this channel's launch when several launches have it."""
    async with services_of(context).db.reader() as session:
        tasks = TaskUpdateRepository(session, Scope(actor.workspace_id))
        matches = await tasks.by_key(key) if len(key) <= KEY_MAX else []
        if not matches:
            suggestions = similar_names(key[:KEY_MAX], await tasks.keys())
            await respond(response_type="ephemeral", **unknown_key(key, suggestions))
            return None
    if len(matches) > 1:
        here = [m for m in matches if channel_id and m.launch.channel_id == channel_id]
        if len(here) != 1:
            action_id, verb = CHOICE_BUTTONS[change]
            pairs = [(m.task, m.launch) for m in matches]
            await respond(response_type="ephemeral", **ambiguous_key(key, pairs, action_id, verb))
            return None
        matches = here
    return matches[0]


def register(app: AsyncApp) -> None:
    # Done and Start answer in CLICK jobs (handlers/deferred.py).
    app.action(ActionId.TASK_BLOCK)(on_block_button)
    app.view(CallbackId.TASK_BLOCK)(on_block_submitted)
