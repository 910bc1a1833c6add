"""Listener-side access: who is asking (resolved after the ack) and how a denial is told and recorded."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slack_bolt.async_app import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from agents.access import ProfileLookup, record_denial, resolve_actor
from agents.policy import Actor, Decision
from bot.services import services_of


def profile_lookup(client: AsyncWebClient) -> ProfileLookup:
    async def lookup(user_id: str) -> Mapping[str, Any] | None:
        return (await client.users_info(user=user_id)).get("user")

    return lookup


async def current_actor(context: Mapping[str, Any], user_id: str, client: AsyncWebClient | None) -> Actor:
    """The person asking, with their role; on first sight their Slack profile is read (after the ack)."""
    lookup = profile_lookup(client) if client is not None else None
    return await resolve_actor(services_of(context).db, context["team_id"], user_id, lookup)


async def refuse(
    context: Mapping[str, Any], respond: AsyncRespond | None, actor: Actor, action: str, target: str, decision: Decision
) -> None:
    """Record the denial and tell the person why, ephemerally."""
    await record_denial(services_of(context).db, actor, action, target, decision)
    if respond is not None:
        await respond(response_type="ephemeral", replace_original=False, text=f":no_entry: {decision.reason}")
