"""Re-plan: `/launch replan NAME` and the health card's Re-plan button open the brief modal pre-filled; its
submission asks for a new plan version. Also `/launch versions NAME` and `/launch status NAME v1`.

The submission is checked from storage only (no Slack call before the ack); the planning runs in a job.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from agents import replan
from agents.access import record_denial
from agents.intake import ValidBrief, validate_brief_form
from agents.names import similar_names
from agents.policy import Action, Actor, decide
from blocks import launch_messages, plan_versions
from blocks.health_card import launch_not_found
from blocks.ids import ActionId, BriefField, CallbackId, row_id
from blocks.replan_modal import replan_modal
from blocks.text import escape
from bot.jobs import JobName
from bot.services import services_of
from handlers.access import current_actor, refuse
from handlers.brief_submission import LATEST_TIME_ZONE, read_brief_form
from storage.enums import LaunchStatus, Role
from storage.launches import LaunchRepository
from storage.models import Launch
from storage.scope import Scope
from storage.versions import VersionRepository

# "/launch status Mobile App v2" names version 2 of "Mobile App", unless a launch is called "Mobile App v2".
VERSION_SUFFIX = re.compile(r"^(?P<name>.+?)\s+v(?P<version>\d{1,6})$", re.IGNORECASE)
ALREADY_RUNNING = "A re-plan of this launch is already being made. Wait for its diff in the launch thread."


async def find_launch(session: AsyncSession, scope: Scope, name: str) -> tuple[Launch | None, dict[str, Any]]:
    """The launch called `name` (with its team), or the "not found, did you mean" answer."""
    launches = LaunchRepository(session, scope)
    found = await launches.by_name(name) if name else None
    if found is None:
        close = [await launches.by_name(n) for n in similar_names(name, await launches.names())] if name else []
        return None, launch_not_found(name or "(no name)", [c for c in close if c is not None])
    return await launches.get(found.id), {}


async def _say(respond: AsyncRespond | None, message: dict[str, Any]) -> None:
    if respond is not None:
        await respond(response_type="ephemeral", replace_original=False, **message)


def _text(text: str) -> dict[str, Any]:
    return {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]}


async def run_replan(context: AsyncBoltContext, client: AsyncWebClient, respond: AsyncRespond, actor: Actor,
                     name: str, trigger_id: str | None) -> None:
    """`/launch replan NAME` (after the ack)."""
    if not name:
        await _say(respond, _text("Which launch? Use `/launch replan NAME`."))
        return
    async with services_of(context).db.reader() as session:
        launch, answer = await find_launch(session, Scope(context["team_id"], actor.user_id), name)
    if launch is None:
        await _say(respond, answer)
        return
    await open_replan(context, client, respond, actor, launch, trigger_id)


async def open_replan(context: AsyncBoltContext, client: AsyncWebClient, respond: AsyncRespond | None,
                      actor: Actor, launch: Launch, trigger_id: str | None) -> None:
    decision = decide(actor, Action.LAUNCH_REPLAN, launch=launch)
    if not decision.allowed:
        await refuse(context, respond, actor, Action.LAUNCH_REPLAN, f"launch:{launch.id}", decision)
        return
    if launch.status == LaunchStatus.FAILED:
        await _say(respond, launch_messages.planning_failed(launch, launch.error or "unknown reason"))
        return
    if launch.status != LaunchStatus.PLANNED:
        await _say(respond, launch_messages.planning_in_progress(launch))
        return
    async with services_of(context).db.reader() as session:
        pending = await VersionRepository(session, Scope(context["team_id"])).get(launch.id, launch.version + 1)
    if pending is not None:
        await _say(respond, _text(ALREADY_RUNNING))
        return
    if trigger_id:
        await client.views_open(trigger_id=trigger_id, view=replan_modal(launch))


async def on_replan_clicked(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond,
                            context: AsyncBoltContext, client: AsyncWebClient) -> None:
    """The health card's Re-plan button; its value is the launch id, reloaded within this workspace."""
    await ack()
    reply = respond if body.get("response_url") else None
    actor = await current_actor(context, body["user"]["id"], client)
    launch_id = row_id(action.get("value")) or 0
    async with services_of(context).db.reader() as session:
        launch = await LaunchRepository(session, Scope(context["team_id"])).get(launch_id) if launch_id else None
    if launch is None:
        decision = decide(actor, Action.LAUNCH_REPLAN, launch=None)
        await refuse(context, reply, actor, Action.LAUNCH_REPLAN, f"launch:{launch_id}", decision)
        return
    await open_replan(context, client, reply, actor, launch, body.get("trigger_id"))


async def on_replan_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any],
                              context: AsyncBoltContext, client: AsyncWebClient) -> None:
    services = services_of(context)
    user_id = body["user"]["id"]
    scope = Scope(context["team_id"], user_id)
    form = read_brief_form(view["state"]["values"])
    today = datetime.now(LATEST_TIME_ZONE).date()
    launch_id = row_id(view.get("private_metadata"))
    # Before the ack, one read (no Slack call, no lock, no write): the person was resolved when they asked for the
    # modal. The request is stored after the ack; the planning itself runs in the REPLAN_LAUNCH job, never here.
    async with services.db.reader() as session:
        found = await VersionRepository(session, scope).replan_check(user_id, launch_id or 0,
                                                                     " ".join(form.name.split()))
    actor = Actor(scope.workspace_id, user_id, Role(found.role) if found.role else Role.MEMBER)
    # A forged id, or one of another workspace, finds nothing here: the policy then refuses.
    launch = found.launch
    decision = decide(actor, Action.LAUNCH_REPLAN, launch=launch)
    if launch is None or not decision.allowed:
        await ack(response_action="errors", errors={BriefField.NAME: decision.reason})
        await record_denial(services.db, actor, Action.LAUNCH_REPLAN, f"launch:{launch_id}", decision)
        return
    checked = validate_brief_form(form, today=today, name_taken=found.name_taken)
    if not isinstance(checked, ValidBrief):
        await ack(response_action="errors", errors=checked)
        return
    if launch.status != LaunchStatus.PLANNED:
        await ack(response_action="errors",
                  errors={BriefField.NAME: f"{launch.name} has no plan to change yet ({launch.status})."})
        return
    if found.pending:
        await ack(response_action="errors", errors={BriefField.NAME: ALREADY_RUNNING})
        return
    await ack()
    try:
        version = await replan.request_replan(services.db, scope, launch, checked, user_id)
    except IntegrityError:
        # Another submission asked for the same version a moment ago; that one goes ahead.
        await client.chat_postMessage(channel=user_id, text=ALREADY_RUNNING)
        return
    await services.jobs.enqueue(JobName.REPLAN_LAUNCH, scope.workspace_id, launch.id, version)


async def version_message(context: AsyncBoltContext, argument: str, actor: Actor) -> dict[str, Any] | None:
    """`/launch status NAME vN`: that version's summary; None when the text names no version (a plain status)."""
    match = VERSION_SUFFIX.match(argument.strip())
    if match is None:
        return None
    scope = Scope(context["team_id"], actor.user_id)
    async with services_of(context).db.reader() as session:
        launches = LaunchRepository(session, scope)
        if await launches.by_name(argument) is not None:
            return None
        launch, answer = await find_launch(session, scope, match["name"])
        if launch is None:
            return answer
        decision = decide(actor, Action.LAUNCH_VIEW, launch=launch)
        if not decision.allowed:
            await refuse(context, None, actor, Action.LAUNCH_VIEW, f"launch:{launch.id}", decision)
            return _text(f":no_entry: {escape(decision.reason)}")
        versions = VersionRepository(session, scope)
        wanted = int(match["version"])
        row = await versions.get(launch.id, wanted)
        if row is None:
            return plan_versions.version_not_found(launch, wanted, await versions.list(launch.id))
    return plan_versions.version_summary(launch, row)


async def run_versions(context: AsyncBoltContext, respond: AsyncRespond, actor: Actor, name: str) -> None:
    """`/launch versions NAME`: every stored plan version of the launch."""
    if not name:
        await _say(respond, _text("Which launch? Use `/launch versions NAME`."))
        return
    scope = Scope(context["team_id"], actor.user_id)
    async with services_of(context).db.reader() as session:
        launch, answer = await find_launch(session, scope, name)
        if launch is None:
            await _say(respond, answer)
            return
        decision = decide(actor, Action.LAUNCH_VIEW, launch=launch)
        if not decision.allowed:
            await refuse(context, respond, actor, Action.LAUNCH_VIEW, f"launch:{launch.id}", decision)
            return
        rows = await VersionRepository(session, scope).list(launch.id)
    await _say(respond, plan_versions.versions_list(launch, rows))


def register(app: AsyncApp) -> None:
    app.action(ActionId.REPLAN)(on_replan_clicked)
    app.view(CallbackId.LAUNCH_REPLAN)(on_replan_submitted)
