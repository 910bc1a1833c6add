"""The App Home tab, rebuilt each time a person opens it, after a change that touches them, and from its buttons.

Listeners only enqueue the rebuild (REFRESH_HOME, coalesced per person): building and publishing a Home runs in
a job, off the web process's ack path.

views.publish carries the hash of the person's last published Home, so an older build never overwrites a newer
one; on a hash_conflict the Home is read and built again, once, and published over whatever is there.
"""

from __future__ import annotations

import logging
import re
from datetime import date
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession

from agents.access import change_pm_role
from agents.home import load_home
from agents.policy import Action, Actor, decide
from blocks.calendar_blocks import calendar_button
from blocks.home import home_view
from blocks.ids import ActionId
from blocks.notification_settings import settings_button, undelivered_blocks
from bot.jobs import JobName
from bot.services import Services, services_of
from handlers.access import current_actor, profile_lookup, refuse
from handlers.events_once import first_delivery
from storage.home import HomePages, HomeRepository, parse_page
from storage.notifications import NotificationRepository
from storage.scope import Scope

log = logging.getLogger(__name__)

MEMBER_ID = re.compile(r"[UW][A-Z0-9]{2,20}")  # a Slack member id, as a users_select or Revoke button sends it
STALE_BUTTON = "That button is out of date; here is your Home as it is now."


async def on_home_opened(body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext) -> None:
    if event.get("tab") != "home" or not await first_delivery(body, context):
        return
    # The stored hash of the last publish guards the rebuild; one waiting rebuild covers repeated opens.
    await refresh_home_later(services_of(context), context["team_id"], event["user"])


async def refresh_home_later(services: Services, workspace_id: str, user_id: str, *, pages: HomePages | None = None,
                             notice: str | None = None, view_hash: str | None = None) -> None:
    """Enqueue the rebuild of one person's Home tab (a plain rebuild is coalesced with a waiting one)."""
    extra = (pages.encode() if pages else "", notice or "", view_hash or "")
    await services.jobs.enqueue(JobName.REFRESH_HOME, workspace_id, user_id, *(extra if any(extra) else ()))


async def publish_home(
    context: AsyncBoltContext,
    client: AsyncWebClient,
    user_id: str,
    *,
    pages: HomePages | None = None,
    notice: str | None = None,
    view_hash: str | None = None,
    actor: Actor | None = None,
) -> None:
    """Rebuild and publish one person's Home tab; called on app_home_opened and after a change that touches them.

    `pages` says which page of each section to show (the first by default); `notice` tells the person the outcome
    of their last click; `view_hash` is the hash of the Home they are looking at, when the caller has it.
    """
    actor = actor or await current_actor(context, user_id, client)
    decision = decide(actor, Action.HOME_VIEW)
    if not decision.allowed:
        await refuse(context, None, actor, Action.HOME_VIEW, "home", decision)
        return
    db = services_of(context).db
    scope = Scope(actor.workspace_id, user_id)
    pages = pages or HomePages()
    for attempt in range(2):
        today = date.today()
        async with db.reader() as session:
            content = await load_home(session, actor, pages, today)
            personal = await personal_blocks(session, scope, user_id)
            if attempt == 0 and view_hash is None:
                view_hash = await HomeRepository(session, scope).last_hash()
        view = home_view(content, pages, today, notice, personal)
        try:
            response = await client.views_publish(user_id=user_id, view=view, hash=view_hash if attempt == 0 else None)
        except SlackApiError as error:
            if attempt == 0 and error.response.get("error") == "hash_conflict":
                log.info("home of %s changed meanwhile; building it again", user_id)
                continue
            raise
        async with db.session() as session:
            await HomeRepository(session, scope).remember_hash((response.get("view") or {}).get("hash"))
        return


async def personal_blocks(session: AsyncSession, scope: Scope, user_id: str) -> list[dict[str, Any]]:
    """What undelivered messages there are (Slack and email both failed for an hour), then the settings and
    calendar feed buttons."""
    undelivered = await NotificationRepository(session, scope).on_home(user_id, limit=5)
    return [b.to_dict() for b in (*undelivered_blocks(undelivered), settings_button(), calendar_button())]


def _viewed(body: dict[str, Any]) -> tuple[HomePages, str | None]:
    """The pages and hash of the Home the click came from."""
    view = body.get("view") or {}
    return HomePages.decode(view.get("private_metadata")), view.get("hash")


async def on_more(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient,
                  context: AsyncBoltContext) -> None:
    """A "Show more" button: the same Home with that section turned to the page the button names."""
    await ack()
    pages, view_hash = _viewed(body)
    turned = parse_page(str(action.get("value", "")))
    notice = None
    if turned is None:
        notice = STALE_BUTTON
    else:
        pages = pages.turned(*turned)
    await refresh_home_later(services_of(context), context["team_id"], body["user"]["id"], pages=pages,
                             notice=notice, view_hash=view_hash)


async def on_grant_pm(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient,
                      context: AsyncBoltContext) -> None:
    await ack()
    await _change_role(body, str(action.get("selected_user") or ""), client, context, grant=True)


async def on_revoke_pm(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient,
                       context: AsyncBoltContext) -> None:
    await ack()
    await _change_role(body, str(action.get("value") or ""), client, context, grant=False)


async def _change_role(body: dict[str, Any], user_id: str, client: AsyncWebClient, context: AsyncBoltContext, *,
                       grant: bool) -> None:
    """Grant or revoke PM from the Home (what `/launch admin grant|revoke` does), then show both people the result."""
    services = services_of(context)
    actor = await current_actor(context, body["user"]["id"], client)
    pages, view_hash = _viewed(body)
    decision = decide(actor, Action.ROLE_GRANT)
    if not decision.allowed:
        await refuse(context, None, actor, Action.ROLE_GRANT, "role:pm", decision)
        await refresh_home_later(services, actor.workspace_id, actor.user_id, pages=pages,
                                 notice=f":no_entry: {decision.reason}", view_hash=view_hash)
        return
    if not MEMBER_ID.fullmatch(user_id):
        await refresh_home_later(services, actor.workspace_id, actor.user_id, pages=pages,
                                 notice="Pick a person first.", view_hash=view_hash)
        return
    change = await change_pm_role(services.db, actor, user_id, grant=grant, lookup=profile_lookup(client))
    await refresh_home_later(services, actor.workspace_id, actor.user_id, pages=pages, notice=change.message,
                             view_hash=view_hash)
    if change.changed and user_id != actor.user_id:
        await refresh_home_later(services, actor.workspace_id, user_id)


def register(app: AsyncApp) -> None:
    app.event("app_home_opened")(on_home_opened)
    app.action(ActionId.HOME_MORE)(on_more)
    app.action(ActionId.ROLE_GRANT_PM)(on_grant_pm)
    app.action(ActionId.ROLE_REVOKE_PM)(on_revoke_pm)
