"""Buttons on launch messages. Buttons carry ids only; the launch is reloaded within the workspace."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond

from blocks.ids import ActionId
from bot.services import services_of
from handlers.launch_command import status_message
from storage.launches import LaunchRepository
from storage.scope import Scope


async def on_show_health(ack: AsyncAck, action: dict[str, Any], respond: AsyncRespond,
                         context: AsyncBoltContext) -> None:
    await ack()
    try:
        launch_id = int(action.get("value", ""))
    except ValueError:
        return
    async with services_of(context).db.reader() as session:
        launch = await LaunchRepository(session, Scope(context["team_id"])).get(launch_id)
    if launch is None:
        await respond(response_type="ephemeral", replace_original=False,
                      text="That launch no longer exists in this workspace.")
        return
    message = await status_message(context, launch.name, None)
    await respond(response_type="ephemeral", replace_original=False, **message)


def register(app: AsyncApp) -> None:
    app.action(ActionId.SHOW_HEALTH)(on_show_health)
