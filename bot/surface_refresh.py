"""Slack surfaces rebuilt off the click path: a Home tab, the review message and the plan message in place.

Listeners make the one state change a click asks for, ack, and enqueue these (bot/jobs.py), so the web process
keeps its event loop and database pool for the next requests' acks. Each renders from the database as it is
when it runs: running one twice updates the same message or Home to the same content and posts nothing new
(views.publish and chat.update replace; nothing here calls chat.postMessage).
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from agents.health import launch_health
from agents.launch_pii import reveal_for
from agents.review_items import load_review_page
from blocks import launch_messages
from blocks.review_messages import review_message
from bot.services import SERVICES_KEY, Services
from storage.home import HomePages
from storage.launches import LaunchRepository
from storage.llm_usage import LlmUsageRepository
from storage.scope import Scope

log = logging.getLogger(__name__)


def job_context(services: Services, workspace_id: str) -> dict[str, Any]:
    """What handlers.home.publish_home reads from a Bolt context, for a job."""
    return {"team_id": workspace_id, SERVICES_KEY: services}


async def refresh_home(services: Services, workspace_id: str, user_id: str, pages: str = "", notice: str = "",
                       view_hash: str = "") -> None:
    """Rebuild one person's Home tab (on the pages and with the notice given; the stored hash without one)."""
    from handlers.home import publish_home

    client = await services.slack.for_workspace(workspace_id)
    await publish_home(job_context(services, workspace_id), client, user_id,  # type: ignore[arg-type]
                       pages=HomePages.decode(pages), notice=notice or None, view_hash=view_hash or None)


async def review_decided(services: Services, workspace_id: str, launch_id: int, page: int = 0,
                         key: str = "") -> None:
    """After a decision: the review message in place (the page with `key`, else `page`), then the plan message."""
    client = await services.slack.for_workspace(workspace_id)
    if await update_review_message(services, client, workspace_id, int(launch_id), int(page), key or None):
        await update_plan_message(services, client, workspace_id, int(launch_id))


async def show_review_page(services: Services, workspace_id: str, launch_id: int, page: int = 0) -> None:
    """Another page of the review message, for everyone (it is one message)."""
    client = await services.slack.for_workspace(workspace_id)
    await update_review_message(services, client, workspace_id, int(launch_id), int(page), None)


async def update_review_message(services: Services, client: AsyncWebClient, workspace_id: str, launch_id: int,
                                page: int, key: str | None) -> bool:
    """chat.update of the launch's review message; False when the launch is gone."""
    shown = await load_review_page(services.db, workspace_id, launch_id, page=page, key=key)
    if shown is None:
        return False
    launch = shown.launch
    if launch.review_channel_id and launch.review_ts:
        try:
            await client.chat_update(channel=launch.review_channel_id, ts=launch.review_ts, **review_message(shown))
        except SlackApiError as exc:
            log.warning("could not update the review message of launch %s: %s", launch.id, exc.response.get("error"))
    return True


async def update_plan_message(services: Services, client: AsyncWebClient, workspace_id: str, launch_id: int) -> None:
    """The posted plan lists what is decided: reviewed tasks join it, rejected ones leave it."""
    scope = Scope(workspace_id)
    async with services.db.reader() as session:
        launches = LaunchRepository(session, scope)
        launch = await launches.get(launch_id)
        if launch is None or not (launch.plan_channel_id and launch.plan_ts):
            return
        tasks = await launches.syncable_tasks(launch.id)
        awaiting = await launches.task_count(launch.id) - len(tasks)
        usage = await LlmUsageRepository(session, scope).summary(launch.id)
        # Restored for its readers: the PM in a DM ("D..."), else the channel (the team's names only).
        reader = launch.created_by if launch.plan_channel_id.startswith("D") else launch.plan_channel_id
        tasks = (await reveal_for(session, scope, launch, reader)).tasks(tasks)
    message = launch_messages.plan_message(launch_health(launch, tasks, date.today()), tasks, usage, awaiting)
    try:
        await client.chat_update(channel=launch.plan_channel_id, ts=launch.plan_ts, **message)
    except SlackApiError as exc:
        log.warning("could not update the plan message of launch %s: %s", launch.id, exc.response.get("error"))
