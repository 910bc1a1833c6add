"""/launch: new, status, list, help. Every branch acks first; the work follows the ack."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from agents.policy import Action, decide
from blocks import launch_messages
from blocks.brief_modal import brief_modal
from bot.services import services_of
from handlers.access import current_actor, refuse
from handlers.admin_command import run_admin
from handlers.launch_status import status_message
from handlers.replan import run_replan, run_versions, version_message
from handlers.retro import run_retro
from handlers.task_actions import run_task_command
from handlers.tracker_connect import run_connect, tracker_choices
from storage.launches import LaunchRepository
from storage.scope import Scope


class LaunchSubcommand(StrEnum):
    NEW = "new"
    STATUS = "status"
    LIST = "list"
    ADMIN = "admin"
    HELP = "help"
    DONE = "done"
    START = "start"
    BLOCK = "block"
    REPLAN = "replan"
    VERSIONS = "versions"
    RETRO = "retro"
    CONNECT = "connect"


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
        view = brief_modal(channel_id=command.get("channel_id"), user_id=command["user_id"],
                           trackers=await tracker_choices(context))
        await client.views_open(trigger_id=command["trigger_id"], view=view)
    elif subcommand is LaunchSubcommand.STATUS:
        message = await version_message(context, argument, actor) or await status_message(
            context, argument, command.get("channel_id"), actor)
        await respond(response_type="ephemeral", **message)
    elif subcommand in (LaunchSubcommand.DONE, LaunchSubcommand.START, LaunchSubcommand.BLOCK):
        await run_task_command(context, client, respond, actor, subcommand, argument,
                               channel_id=command.get("channel_id"), trigger_id=command.get("trigger_id"))
    elif subcommand is LaunchSubcommand.REPLAN:
        await run_replan(context, client, respond, actor, argument, command.get("trigger_id"))
    elif subcommand is LaunchSubcommand.VERSIONS:
        await run_versions(context, respond, actor, argument)
    elif subcommand is LaunchSubcommand.RETRO:
        await run_retro(context, respond, actor, argument)
    elif subcommand is LaunchSubcommand.CONNECT:
        await run_connect(context, client, respond, actor, argument, command.get("trigger_id"))
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


def register(app: AsyncApp) -> None:
    app.command("/launch")(on_launch)
