"""The App Home tab, rebuilt each time a person opens it."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from blocks.home import home_view
from bot.services import services_of
from storage.launches import PersonalRepository
from storage.scope import Scope


async def on_home_opened(event: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext) -> None:
    if event.get("tab") != "home":
        return
    user_id = event["user"]
    async with services_of(context).db.reader() as session:
        mine = PersonalRepository(session, Scope(context["team_id"], user_id))
        launches, tasks = await mine.launches(), await mine.open_tasks()
    await client.views_publish(user_id=user_id, view=home_view(launches, tasks))


def register(app: AsyncApp) -> None:
    app.event("app_home_opened")(on_home_opened)
