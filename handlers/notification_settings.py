"""The App Home's "Notification settings": a modal of the person's own choices, saved (and audited) on submit."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from agents.policy import Action, decide
from blocks.notification_settings import SettingsId, parse_settings, settings_modal
from bot.services import services_of
from handlers.access import current_actor, refuse
from handlers.home import publish_home
from storage.audit import AuditLog
from storage.notifications import NotificationRepository, Preferences
from storage.scope import Scope
from storage.workspaces import WorkspaceRepository

SETTINGS_CHANGED = "notification.settings_changed"


def _plain(prefs: Preferences) -> dict[str, Any]:
    return {"muted": sorted(prefs.muted), "quiet_start": prefs.quiet_start, "quiet_end": prefs.quiet_end,
            "digest_weekday": prefs.digest_weekday, "digest_hour": prefs.digest_hour,
            "digest_enabled": prefs.digest_enabled}


async def on_open(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext) -> None:
    await ack()
    actor = await current_actor(context, body["user"]["id"], client)
    decision = decide(actor, Action.HOME_VIEW)
    if not decision.allowed:
        await refuse(context, None, actor, Action.HOME_VIEW, "notification_settings", decision)
        return
    scope = Scope(actor.workspace_id, actor.user_id)
    async with services_of(context).db.reader() as session:
        prefs = await NotificationRepository(session, scope).preferences(actor.user_id)
        person = await WorkspaceRepository(session, scope).user(actor.user_id)
    await client.views_open(trigger_id=body["trigger_id"], view=settings_modal(prefs, person.tz if person else None))


async def on_submit(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient,
                    context: AsyncBoltContext) -> None:
    prefs, errors = parse_settings(view["state"]["values"])
    if prefs is None:
        await ack(response_action="errors", errors=errors)
        return
    await ack()
    actor = await current_actor(context, body["user"]["id"], client)
    decision = decide(actor, Action.HOME_VIEW)
    if not decision.allowed:
        await refuse(context, None, actor, Action.HOME_VIEW, "notification_settings", decision)
        return
    scope = Scope(actor.workspace_id, actor.user_id)
    async with services_of(context).db.session() as session:
        before, after = await NotificationRepository(session, scope).save_preferences(actor.user_id, prefs)
        await AuditLog(session, scope).append(actor=actor.user_id, action=SETTINGS_CHANGED,
                                              target=f"user:{actor.user_id}", before=_plain(before),
                                              after=_plain(after))
    await publish_home(context, client, actor.user_id, notice="Notification settings saved.", actor=actor)


def register(app: AsyncApp) -> None:
    app.action(SettingsId.OPEN)(on_open)
    app.view(SettingsId.CALLBACK)(on_submit)
