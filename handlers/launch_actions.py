"""Buttons on launch messages. Buttons carry ids only; the launch is reloaded within the workspace."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from agents.policy import Action, decide
from blocks.ids import ActionId
from bot.services import services_of
from handlers.access import current_actor, refuse
from handlers.launch_command import status_message
from storage.launches import LaunchRepository
from storage.scope import Scope


async def on_show_health(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond,
                         context: AsyncBoltContext, client: AsyncWebClient) -> None:
    await ack()
    try:
        launch_id = int(str(action.get("value", "")).strip())
    except ValueError:
        await respond(response_type="ephemeral", replace_original=False, text="That button is not one of mine.")
        return
    actor = await current_actor(context, body["user"]["id"], client)
    async with services_of(context).db.reader() as session:
        launch = await LaunchRepository(session, Scope(context["team_id"])).get(launch_id)
    if launch is None:
        await respond(response_type="ephemeral", replace_original=False,
                      text="That launch no longer exists in this workspace.")
        return
    decision = decide(actor, Action.LAUNCH_VIEW, launch=launch)
    if not decision.allowed:
        await refuse(context, respond, actor, Action.LAUNCH_VIEW, f"launch:{launch.id}", decision)
        return
    message = await status_message(context, launch.name, None, actor)
    await respond(response_type="ephemeral", replace_original=False, **message)


def register(app: AsyncApp) -> None:
    app.action(ActionId.SHOW_HEALTH)(on_show_health)
