"""`/launch connect linear|jira|notion|asana` (Admins): a modal per tracker kind; its submission checks the
credentials with one cheap call before anything is saved (a wrong key is a field error), then stores them
encrypted, audited.
`/launch connect NAME to KIND|CONNECTION|none` (the launch's PM or an Admin): the tracker a launch syncs to."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from agents.access import record_denial, stored_actor
from agents.policy import Action, Actor, decide
from agents.tracker_connect import Connected, choose_tracker, connect, connectable, pick_connection
from blocks.text import escape
from blocks.tracker_modals import CONNECT_CALLBACK, FIELDS, LABELS, connect_modal
from bot.jobs import JobName
from bot.services import services_of
from handlers.access import refuse
from storage.launches import LaunchRepository
from storage.scope import Scope
from storage.trackers import ConnectionStatus, TrackerRepository

log = logging.getLogger(__name__)
NO_KEY = ("Tracker credentials are stored encrypted, and this Liftoff has no key for that: set "
          "LIFTOFF_ENCRYPTION_KEY (a Fernet key) and restart, then try again.")


def usage(connections: list[tuple[str, str, str]]) -> str:
    """How to connect, and what is connected already: (kind, name, status) rows."""
    kinds = " or ".join(f"`/launch connect {kind}`" for kind in FIELDS)
    text = (f"Connect a tracker for this workspace with {kinds}; then `/launch connect NAME to KIND|none` "
            "picks the tracker of launch NAME.")
    if connections:
        text += "\nConnected: " + "; ".join(f"{LABELS.get(k, k)} {name} ({status})" for k, name, status in connections)
    return text


async def run_connect(context: AsyncBoltContext, client: AsyncWebClient, respond: AsyncRespond, actor: Actor,
                      argument: str, trigger_id: str | None) -> None:
    name, separator, target = argument.rpartition(" to ")
    if separator and name.strip() and target.strip():
        await run_choose(context, respond, actor, name.strip(), target.strip())
        return
    decision = decide(actor, Action.TRACKER_CONNECT)
    if not decision.allowed:
        await refuse(context, respond, actor, Action.TRACKER_CONNECT, "tracker:connect", decision)
        return
    services = services_of(context)
    if not services.settings.encryption_key:
        await respond(response_type="ephemeral", text=f":warning: {NO_KEY}")
        return
    kind = argument.strip().lower()
    if not connectable(kind) or not trigger_id:
        async with services.db.reader() as session:
            rows = await TrackerRepository(session, Scope(context["team_id"])).connections()
        await respond(response_type="ephemeral", text=usage([(r.kind, r.name, r.status) for r in rows]))
        return
    await client.views_open(trigger_id=trigger_id, view=connect_modal(kind))


async def run_choose(context: AsyncBoltContext, respond: AsyncRespond, actor: Actor, name: str, target: str) -> None:
    """`/launch connect NAME to KIND|CONNECTION|none`: the launch's PM or an Admin picks its tracker."""
    services = services_of(context)
    scope = Scope(context["team_id"], actor.user_id)
    async with services.db.reader() as session:
        launch = await LaunchRepository(session, scope).by_name(name)
        rows = await TrackerRepository(session, scope).connections()
    if launch is None:
        await respond(response_type="ephemeral", text=f"I found no launch called *{escape(name[:80])}*.")
        return
    decision = decide(actor, Action.LAUNCH_TRACKER, launch=launch)
    if not decision.allowed:
        await refuse(context, respond, actor, Action.LAUNCH_TRACKER, f"launch:{launch.id}", decision)
        return
    picked = pick_connection([r for r in rows if r.status == ConnectionStatus.ACTIVE], target)
    if isinstance(picked, str):
        await respond(response_type="ephemeral", text=picked)
        return
    await choose_tracker(services.db, scope, actor.user_id, launch.id, picked)
    if picked is None:
        await respond(response_type="ephemeral", text=f"*{escape(launch.name)}* no longer syncs to a tracker.")
        return
    if services.settings.encryption_key:
        await services.jobs.enqueue(JobName.SYNC_TRACKER, scope.workspace_id, picked.id)
    tracker = f"{LABELS.get(picked.kind, picked.kind)} *{escape(picked.name)}*"
    await respond(response_type="ephemeral",
                  text=f"*{escape(launch.name)}* syncs to {tracker}: its tasks are on their way, then kept in sync.")


async def tracker_choices(context: AsyncBoltContext) -> list[tuple[int, str]]:
    """The workspace's active connections as (id, label), for the brief modal's tracker select."""
    async with services_of(context).db.reader() as session:
        rows = await TrackerRepository(session, Scope(context["team_id"])).connections()
    return [(r.id, f"{LABELS.get(r.kind, r.kind)}: {r.name}") for r in rows if r.status == ConnectionStatus.ACTIVE]


def read_values(kind: str, values: dict[str, dict[str, dict[str, Any]]]) -> dict[str, str]:
    return {block_id: str((values.get(block_id, {}).get("value") or {}).get("value") or "")
            for block_id, *_ in FIELDS[kind]}


async def on_connect_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient,
                               context: AsyncBoltContext) -> None:
    services = services_of(context)
    kind = str(view.get("private_metadata") or "")
    user_id = body["user"]["id"]
    scope = Scope(context["team_id"], user_id)
    first_field = FIELDS[kind][0][0] if kind in FIELDS else "api_key"
    async with services.db.reader() as session:
        actor = await stored_actor(session, scope.workspace_id, user_id)
    decision = decide(actor, Action.TRACKER_CONNECT)
    if not decision.allowed or not connectable(kind) or not services.settings.encryption_key:
        reason = decision.reason if not decision.allowed else NO_KEY
        if not decision.allowed:
            await record_denial(services.db, actor, Action.TRACKER_CONNECT, "tracker:connect", decision)
        await ack(response_action="errors", errors={first_field: reason[:150]})
        return
    # Before the ack on purpose: a wrong key must come back as a field error, which only the ack can carry.
    # The check is one call, bounded well inside Slack's three seconds.
    result = await connect(services.db, scope, user_id, kind, read_values(kind, view["state"]["values"]),
                           encryption_key=services.settings.encryption_key)
    if not isinstance(result, Connected):
        await ack(response_action="errors", errors=result)
        return
    await ack()
    text = (f":white_check_mark: {LABELS[kind]} connected: *{result.name}*. Launches that choose it get their tasks "
            "there, kept in sync every few minutes.")
    text += webhook_note(LABELS[kind], services.settings.public_url, result)
    try:
        await client.chat_postMessage(channel=user_id, text=text)
    except SlackApiError:
        log.warning("could not tell %s that tracker %s is connected", user_id, result.connection_id)


def webhook_note(label: str, public_url: str | None, result: Connected) -> str:
    """Where the tracker sends status changes, and the signing secret: shown this once, never stored in clear."""
    url = f"{(public_url or 'https://<your Liftoff address>').rstrip('/')}{result.webhook_path}"
    if result.webhook_secret:
        return (f"\nTo bring status changes back, add a webhook in {label} for issue updates to `{url}` with the "
                f"secret `{result.webhook_secret}` (shown only this once).")
    return f"\nTo bring status changes back, point a {label} webhook at `{url}`."


def register(app: AsyncApp) -> None:
    app.view(CONNECT_CALLBACK)(on_connect_submitted)
