"""`/launch retro NAME`: after the target date, the launch's completion metrics go to its channel through the
outbox (once a day); a launch without a channel gets them as an ephemeral reply. Before, it says when."""

from __future__ import annotations

from datetime import date
from typing import Any

from slack_bolt.async_app import AsyncBoltContext, AsyncRespond

from agents.policy import Action, Actor, decide
from agents.retro import available_from, build_retro, retro_available
from blocks import launch_messages, retro_messages
from blocks.text import escape
from bot.jobs import JobName
from bot.services import services_of
from handlers.access import refuse
from handlers.replan import find_launch
from storage.enums import Destination, LaunchStatus, OutboxKind, OutboxStatus
from storage.launches import LaunchRepository
from storage.outbox import OutboxRepository
from storage.scope import Scope


async def run_retro(context: AsyncBoltContext, respond: AsyncRespond, actor: Actor, name: str,
                    today: date | None = None) -> None:
    today = today or date.today()
    if not name:
        await _say(respond, _text("Which launch? Use `/launch retro NAME`."))
        return
    services = services_of(context)
    scope = Scope(context["team_id"], actor.user_id)
    async with services.db.reader() as session:
        launch, answer = await find_launch(session, scope, name)
        if launch is None:
            await _say(respond, answer)
            return
        decision = decide(actor, Action.LAUNCH_VIEW, launch=launch)
        if not decision.allowed:
            await refuse(context, respond, actor, Action.LAUNCH_VIEW, f"launch:{launch.id}", decision)
            return
        if launch.status != LaunchStatus.PLANNED:
            await _say(respond, launch_messages.planning_in_progress(launch)
                       if launch.status != LaunchStatus.FAILED
                       else launch_messages.planning_failed(launch, launch.error or "unknown reason"))
            return
        if not retro_available(launch.target_date, today):
            await _say(respond, retro_messages.retro_not_yet(launch, available_from(launch.target_date)))
            return
        if not launch.channel_id:
            tasks = await LaunchRepository(session, scope).tasks(launch.id)
            await _say(respond, retro_messages.retro_message(build_retro(launch.name, launch.target_date, tasks)))
            return
    async with services.db.session() as session:
        # One retro post per launch and day: asking again the same day does not post it twice.
        row = await OutboxRepository(session, scope).add(
            workspace_id=scope.workspace_id, destination=Destination.SLACK, kind=OutboxKind.LAUNCH_RETRO,
            idempotency_key=f"launch:{launch.id}:retro:{today.isoformat()}",
            payload={"launch_id": launch.id, "channel": launch.channel_id, "pm": launch.created_by},
        )
        already = row.status == OutboxStatus.SENT
    if already:
        posted = f"The retro of *{escape(launch.name)}* was already posted in <#{launch.channel_id}> today."
        await _say(respond, _text(posted))
        return
    await services.jobs.enqueue(JobName.DRAIN_SLACK_OUTBOX, scope.workspace_id)
    await _say(respond, retro_messages.retro_posted(launch, launch.channel_id))


async def _say(respond: AsyncRespond, message: dict[str, Any]) -> None:
    await respond(response_type="ephemeral", replace_original=False, **message)


def _text(text: str) -> dict[str, Any]:
    return {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]}
