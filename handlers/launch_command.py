"""/launch: new, status, list, help. Every branch acks first; the work follows the ack."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from agents.health import launch_health
from agents.names import similar_names
from blocks import launch_messages
from blocks.brief_modal import brief_modal
from bot.services import services_of
from storage.enums import LaunchStatus
from storage.launches import LaunchRepository
from storage.scope import Scope


class LaunchSubcommand(StrEnum):
    NEW = "new"
    STATUS = "status"
    LIST = "list"
    HELP = "help"


def split_subcommand(text: str) -> tuple[LaunchSubcommand, str]:
    """The subcommand and the rest of the text; anything unknown asks for help."""
    word, _, rest = (text or "").strip().partition(" ")
    try:
        return LaunchSubcommand(word.lower()), rest.strip()
    except ValueError:
        return LaunchSubcommand.HELP, ""


async def on_launch(
    ack: AsyncAck, command: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond, context: AsyncBoltContext
) -> None:
    await ack()
    subcommand, argument = split_subcommand(command.get("text", ""))
    if subcommand is LaunchSubcommand.NEW:
        view = brief_modal(channel_id=command.get("channel_id"), user_id=command["user_id"])
        await client.views_open(trigger_id=command["trigger_id"], view=view)
    elif subcommand is LaunchSubcommand.STATUS:
        await respond(response_type="ephemeral", **await status_message(context, argument, command.get("channel_id")))
    elif subcommand is LaunchSubcommand.LIST:
        services = services_of(context)
        async with services.db.reader() as session:
            launches = await LaunchRepository(session, Scope(context["team_id"])).list()
        await respond(response_type="ephemeral", **launch_messages.launch_list(launches))
    else:
        await respond(response_type="ephemeral", **launch_messages.help_message())


async def status_message(context: AsyncBoltContext, name: str, channel_id: str | None) -> dict[str, Any]:
    """The health card of the named launch, or of the channel's launch when no name is given."""
    services = services_of(context)
    async with services.db.reader() as session:
        launches = LaunchRepository(session, Scope(context["team_id"]))
        if name:
            launch = await launches.by_name(name)
            if launch is None:
                return launch_messages.not_found(name, similar_names(name, await launches.names()))
        else:
            in_channel = await launches.list(channel_id=channel_id) if channel_id else []
            if len(in_channel) != 1:
                return launch_messages.launch_list(in_channel or await launches.list())
            launch = in_channel[0]
        if launch.status == LaunchStatus.FAILED:
            return launch_messages.planning_failed(launch, launch.error or "unknown reason")
        if launch.status != LaunchStatus.PLANNED:
            return launch_messages.planning_in_progress(launch)
        tasks = await launches.tasks(launch.id)
    return launch_messages.health_card(launch_health(launch, tasks, date.today()))


def register(app: AsyncApp) -> None:
    app.command("/launch")(on_launch)
