"""The App Home's "Calendar feed": a modal with my secret iCalendar URL, a new one (revoking the old), launch feeds.

A URL is shown once, when it is made (only its token's hash is stored); buttons carry no ids but the launch
picked, which is reloaded within the workspace and checked by the policy.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from agents.calendar_feed import new_feed, turn_off
from agents.policy import Action, Actor, decide
from blocks.calendar_blocks import CalendarId, CalendarModal, calendar_modal
from bot.services import services_of
from handlers.access import current_actor, refuse
from storage.calendar import CalendarRepository, FeedKind
from storage.scope import Scope

GONE = "That launch is not there any more."


async def _allowed(context: AsyncBoltContext, client: AsyncWebClient, user_id: str) -> Actor | None:
    actor = await current_actor(context, user_id, client)
    decision = decide(actor, Action.HOME_VIEW)
    if not decision.allowed:
        await refuse(context, None, actor, Action.HOME_VIEW, "calendar_feed", decision)
        return None
    return actor


async def _modal(context: AsyncBoltContext, actor: Actor, **shown: Any) -> dict[str, Any]:
    """The modal as things are now, plus what was just made (`new_url`, `launch_url`) or said (`notice`)."""
    async with services_of(context).db.reader() as session:
        repo = CalendarRepository(session, Scope(actor.workspace_id, actor.user_id))
        feed = await repo.active(actor.user_id, FeedKind.PERSON)
        launches = await repo.my_launches(actor.user_id)
    public_url_set = services_of(context).settings.public_url is not None
    return calendar_modal(CalendarModal(feed=feed, launches=launches, public_url_set=public_url_set, **shown))


async def on_open(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext) -> None:
    await ack()
    actor = await _allowed(context, client, body["user"]["id"])
    if actor is None:
        return
    await client.views_open(trigger_id=body["trigger_id"], view=await _modal(context, actor))


async def on_new_url(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient,
                     context: AsyncBoltContext) -> None:
    await ack()
    actor = await _allowed(context, client, body["user"]["id"])
    if actor is None:
        return
    services = services_of(context)
    made = await new_feed(services.db, actor, FeedKind.PERSON, app_id=body.get("api_app_id"),
                          public_url=services.settings.public_url)
    assert made is not None  # a person feed has no launch to lose
    notice = "New URL made; the old one no longer works." if made.replaced else None
    await _update(client, body, await _modal(context, actor, new_url=made.url, notice=notice))


async def on_turn_off(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient,
                      context: AsyncBoltContext) -> None:
    await ack()
    actor = await _allowed(context, client, body["user"]["id"])
    if actor is None:
        return
    stopped = await turn_off(services_of(context).db, actor, FeedKind.PERSON)
    notice = "Your calendar URL no longer works." if stopped else "Your calendar feed was already off."
    await _update(client, body, await _modal(context, actor, notice=notice))


async def on_launch(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient,
                    context: AsyncBoltContext) -> None:
    await ack()
    actor = await _allowed(context, client, body["user"]["id"])
    if actor is None:
        return
    value = str((action.get("selected_option") or {}).get("value") or "")
    services = services_of(context)
    async with services.db.reader() as session:
        repo = CalendarRepository(session, Scope(actor.workspace_id, actor.user_id))
        launch = await repo.launch(int(value)) if value.isdigit() and len(value) < 12 else None
    if launch is None:
        await _update(client, body, await _modal(context, actor, notice=GONE))
        return
    decision = decide(actor, Action.LAUNCH_VIEW, launch=launch)
    if not decision.allowed:
        await refuse(context, None, actor, Action.LAUNCH_VIEW, f"launch:{launch.id}", decision)
        return
    made = await new_feed(services.db, actor, FeedKind.LAUNCH, launch_id=launch.id, app_id=body.get("api_app_id"),
                          public_url=services.settings.public_url)
    if made is None:
        await _update(client, body, await _modal(context, actor, notice=GONE))
        return
    await _update(client, body, await _modal(context, actor, launch_url=(launch.name, made.url)))


async def _update(client: AsyncWebClient, body: dict[str, Any], view: dict[str, Any]) -> None:
    await client.views_update(view_id=body["view"]["id"], view=view)


def register(app: AsyncApp) -> None:
    app.action(CalendarId.OPEN)(on_open)
    app.action(CalendarId.NEW_URL)(on_new_url)
    app.action(CalendarId.TURN_OFF)(on_turn_off)
    app.action(CalendarId.LAUNCH)(on_launch)
