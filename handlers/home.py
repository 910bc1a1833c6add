"""The App Home tab, rebuilt each time a person opens it."""

from __future__ import annotations

from datetime import date
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from agents.okr_lists import my_key_results
from agents.policy import Action, decide
from blocks.home import home_view
from blocks.okr_home import my_okrs_blocks
from bot.services import services_of
from handlers.access import current_actor, refuse
from storage.launches import PersonalRepository
from storage.okrs import OkrRepository
from storage.scope import Scope


async def on_home_opened(event: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext) -> None:
    if event.get("tab") != "home":
        return
    await publish_home(context, client, event["user"])


async def publish_home(context: AsyncBoltContext, client: AsyncWebClient, user_id: str) -> None:
    """Rebuild and publish one person's Home tab; called on app_home_opened and after a change that touches them."""
    actor = await current_actor(context, user_id, client)
    decision = decide(actor, Action.HOME_VIEW)
    if not decision.allowed:
        await refuse(context, None, actor, Action.HOME_VIEW, "home", decision)
        return
    async with services_of(context).db.reader() as session:
        mine = PersonalRepository(session, Scope(context["team_id"], user_id))
        launches, tasks = await mine.launches(), await mine.open_tasks()
        period, key_results = await my_key_results(OkrRepository(session, mine.scope), user_id, date.today())
    view = home_view(launches, tasks, my_okrs_blocks(key_results, period))
    await client.views_publish(user_id=user_id, view=view)


def register(app: AsyncApp) -> None:
    app.event("app_home_opened")(on_home_opened)
