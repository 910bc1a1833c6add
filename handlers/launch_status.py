"""`/launch status [NAME]` and the health card's Share to channel button.

Share to channel writes one Slack outbox row and acks; the drain posts the card and tells the person
(bot/share_delivery.py), off the web process.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date
from typing import Any

from slack_bolt.async_app import AsyncRespond

from agents.health import launch_health
from agents.launch_pii import reveal_for
from agents.names import similar_names
from agents.policy import Action, Actor, decide, deny
from blocks import launch_messages
from blocks.health_card import health_card, launch_choices, launch_not_found
from blocks.ids import ActionId, row_id
from bot.jobs import JobName
from bot.services import services_of
from bot.share_delivery import share_payload
from handlers.access import current_actor, refuse
from handlers.deferred import DeferredClick, deferred
from storage.db import Database
from storage.enums import Destination, LaunchStatus, OutboxKind
from storage.launches import LaunchRepository, PersonalRepository
from storage.llm_usage import LlmUsageRepository
from storage.models import Launch
from storage.outbox import OutboxRepository
from storage.scope import Scope
from storage.tracker_inbound import launch_tracker_view

log = logging.getLogger(__name__)


async def status_message(context: Mapping[str, Any], name: str, channel_id: str | None,
                         actor: Actor) -> dict[str, Any]:
    """The named launch's health card; without a name, the channel's launch or the person's launches."""
    scope = Scope(context["team_id"], actor.user_id)
    async with services_of(context).db.reader() as session:
        launches = LaunchRepository(session, scope)
        if name:
            launch = await launches.by_name(name)
            if launch is None:
                close = [await launches.by_name(n) for n in similar_names(name, await launches.names())]
                return launch_not_found(name, [c for c in close if c is not None])
        else:
            in_channel = await launches.list(channel_id=channel_id) if channel_id else []
            mine = [] if in_channel else await PersonalRepository(session, scope).launches(limit=50)
            candidates = in_channel or mine
            if len(candidates) != 1:
                if in_channel:
                    return launch_choices("*Launches in this channel*: which one?", in_channel)
                if mine:
                    return launch_choices("*Your launches*: which one?", mine)
                return launch_messages.launch_list(await launches.list())
            launch = candidates[0]
    decision = decide(actor, Action.LAUNCH_VIEW, launch=launch)
    if not decision.allowed:
        await refuse(context, None, actor, Action.LAUNCH_VIEW, f"launch:{launch.id}", decision)
        return {"text": f":no_entry: {decision.reason}"}
    return await card_message(services_of(context).db, scope, launch)


async def card_message(db: Database, scope: Scope, launch: Launch, *, shared_by: str | None = None
                       ) -> dict[str, Any]:
    """The health card of a launch as stored now (or why there is none yet)."""
    if launch.status == LaunchStatus.FAILED:
        return launch_messages.planning_failed(launch, launch.error or "unknown reason")
    if launch.status != LaunchStatus.PLANNED:
        return launch_messages.planning_in_progress(launch)
    async with db.reader() as session:
        tasks = await LaunchRepository(session, scope).tasks(launch.id)
        usage = await LlmUsageRepository(session, scope).summary(launch.id)
        # The ephemeral card is for the requester; a shared one for the channel (the team's names only).
        reader = None if shared_by else scope.user_id
        tasks = (await reveal_for(session, scope, launch, reader)).tasks(tasks)
        tracker, links = await launch_tracker_view(session, scope, launch.id)
    return health_card(launch_health(launch, tasks, date.today()), usage, shared_by=shared_by, tracker=tracker,
                       links=links)


@deferred(ActionId.SHARE_HEALTH)
async def share_health(run: DeferredClick) -> None:
    """Post the card, for everyone to see, in the launch channel (or where it was asked for), through the outbox.

    Answered in a CLICK job (handlers/deferred.py)."""
    click, reply = run.click, run.respond
    launch_id = row_id(click.value) or 0
    actor = await current_actor(run.context, click.user_id, run.client)
    services = run.services
    scope = Scope(click.workspace_id, actor.user_id)
    async with services.db.reader() as session:
        launch = await LaunchRepository(session, scope).get(launch_id) if launch_id else None
    if launch is None:
        decision = deny("That launch does not exist in this workspace.")
    else:
        decision = decide(actor, Action.LAUNCH_VIEW, launch=launch)
    if launch is None or not decision.allowed:
        await refuse(run.context, reply, actor, Action.LAUNCH_VIEW, f"launch:{launch_id}", decision)
        return
    channel = launch.channel_id or click.channel_id
    if not channel:
        await _tell(reply, "This launch has no channel. Run `/launch status` in a channel to share it there.")
        return
    # One row per click (a replayed payload carries the same action_ts): the drain posts it once and answers.
    key = f"health_share:{launch.id}:{actor.user_id}:{click.action_ts}"
    async with services.db.session() as session:
        row = await OutboxRepository(session, scope).add(
            workspace_id=scope.workspace_id, destination=Destination.SLACK, kind=OutboxKind.HEALTH_CARD_SHARE,
            idempotency_key=key, payload=share_payload(launch, channel, actor.user_id, click.response_url or None))
        outbox_id = row.id
    await services.jobs.enqueue(JobName.SHARE_HEALTH_CARD, scope.workspace_id, outbox_id)


async def _tell(reply: AsyncRespond | None, text: str) -> None:
    if reply is not None:
        await reply(response_type="ephemeral", replace_original=False, text=text)

