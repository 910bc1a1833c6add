"""app_uninstalled and tokens_revoked: the workspace's stored tokens are deleted, and the audit log says so."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext

from agents.access import AuditAction
from bot.services import services_of
from handlers.events_once import first_delivery
from storage.audit import AuditLog
from storage.scope import Scope


async def _forget_tokens(
    context: AsyncBoltContext, body: dict[str, Any], action: AuditAction, after: dict[str, Any]
) -> None:
    if not await first_delivery(body, context):
        return
    services = services_of(context)
    team_id = body.get("team_id") or context.get("team_id")
    enterprise_id = body.get("enterprise_id")
    if not team_id:
        return
    tokens = services.slack.tokens
    if tokens is not None:
        await tokens.store.async_delete_all(enterprise_id=enterprise_id, team_id=team_id)
    async with services.db.session() as session:
        await AuditLog(session, Scope(team_id)).append(
            actor="slack",
            action=action,
            target=f"workspace:{team_id}",
            after=after,
            note="tokens deleted" if tokens is not None else "single-workspace mode: no stored tokens",
        )


async def on_app_uninstalled(body: dict[str, Any], context: AsyncBoltContext) -> None:
    await _forget_tokens(context, body, AuditAction.APP_UNINSTALLED, {"installed": False})


async def on_tokens_revoked(body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext) -> None:
    revoked = event.get("tokens") or {}
    after = {"bot": list(revoked.get("bot") or []), "oauth": list(revoked.get("oauth") or [])}
    await _forget_tokens(context, body, AuditAction.TOKENS_REVOKED, after)


def register(app: AsyncApp) -> None:
    app.event("app_uninstalled")(on_app_uninstalled)
    app.event("tokens_revoked")(on_tokens_revoked)
