"""/launch: new, status, list, help. Every branch acks first; the work follows the ack."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from agents.health import launch_health
from agents.names import similar_names
from agents.policy import Action, Actor, decide
from blocks import launch_messages
from blocks.brief_modal import brief_modal
from bot.services import services_of
from handlers.access import current_actor, refuse
from handlers.admin_command import run_admin
from storage.enums import LaunchStatus
from storage.launches import LaunchRepository
from storage.scope import Scope


class LaunchSubcommand(StrEnum):
    NEW = "new"
    STATUS = "status"
    LIST = "list"
    ADMIN = "admin"
    HELP = "help"


def split_subcommand(text: str) -> tuple[LaunchSubcommand, str]:
    """The subcommand and the rest of the text; anything unknown asks for help."""
    # NUL cannot be stored in (or compared with) PostgreSQL text and is never meant.
    word, _, rest = (text or "").replace("\x00", "").strip().partition(" ")
    try:
        return LaunchSubcommand(word.lower()), rest.strip()
    except ValueError:
        return LaunchSubcommand.HELP, ""


async def on_launch(
    ack: AsyncAck, command: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond, context: AsyncBoltContext
) -> None:
    await ack()
    subcommand, argument = split_subcommand(command.get("text", ""))
    actor = await current_actor(context, command["user_id"], client)
    if subcommand is LaunchSubcommand.NEW:
        decision = decide(actor, Action.LAUNCH_CREATE)
        if not decision.allowed:
            await refuse(context, respond, actor, Action.LAUNCH_CREATE, "launch:new", decision)
            return
        view = brief_modal(channel_id=command.get("channel_id"), user_id=command["user_id"])
        await client.views_open(trigger_id=command["trigger_id"], view=view)
    elif subcommand is LaunchSubcommand.STATUS:
        message = await status_message(context, argument, command.get("channel_id"), actor)
        await respond(response_type="ephemeral", **message)
    elif subcommand is LaunchSubcommand.ADMIN:
        await run_admin(context, actor, argument, client, respond)
    elif subcommand is LaunchSubcommand.LIST:
        decision = decide(actor, Action.LAUNCH_LIST)
        if not decision.allowed:
            await refuse(context, respond, actor, Action.LAUNCH_LIST, "launch:list", decision)
            return
        services = services_of(context)
        async with services.db.reader() as session:
            launches = await LaunchRepository(session, Scope(context["team_id"])).list()
        await respond(response_type="ephemeral", **launch_messages.launch_list(launches))
    else:
        await respond(response_type="ephemeral", **launch_messages.help_message())


async def status_message(context: AsyncBoltContext, name: str, channel_id: str | None,
                         actor: Actor) -> dict[str, Any]:
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
        decision = decide(actor, Action.LAUNCH_VIEW, launch=launch)
        if not decision.allowed:
            await refuse(context, None, actor, Action.LAUNCH_VIEW, f"launch:{launch.id}", decision)
            return {"text": f":no_entry: {decision.reason}"}
        if launch.status == LaunchStatus.FAILED:
            return launch_messages.planning_failed(launch, launch.error or "unknown reason")
        if launch.status != LaunchStatus.PLANNED:
            return launch_messages.planning_in_progress(launch)
        tasks = await launches.tasks(launch.id)
    return launch_messages.health_card(launch_health(launch, tasks, date.today()))


def register(app: AsyncApp) -> None:
    app.command("/launch")(on_launch)
