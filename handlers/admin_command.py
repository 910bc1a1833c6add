"""`/launch admin grant|revoke @person`: admins give or take the PM role; `/launch admin review thread|dm`."""

from __future__ import annotations

import re

from slack_bolt.async_app import AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from agents.access import change_pm_role
from agents.policy import Action, Actor, decide
from bot.services import services_of
from handlers.access import profile_lookup, refuse
from handlers.review_actions import run_review_setting

USAGE = ("Usage: `/launch admin grant @person`, `/launch admin revoke @person` or "
         "`/launch admin review thread|dm` (where review messages go).")
# An escaped mention (<@U123|name>) or a bare member id.
MENTION = re.compile(r"^(?:<@([UW][A-Z0-9]{2,20})(?:\|[^>]*)?>|([UW][A-Z0-9]{2,20}))$")


def parse_admin(argument: str) -> tuple[bool, str] | str:
    """(grant?, user id), or a message saying what to fix."""
    parts = argument.split()
    if len(parts) != 2 or parts[0].lower() not in ("grant", "revoke"):
        return USAGE
    match = MENTION.match(parts[1])
    if match is None:
        return f"I could not tell who {parts[1][:80]!r} is: mention them with @. {USAGE}"
    return parts[0].lower() == "grant", match.group(1) or match.group(2)


async def run_admin(
    context: AsyncBoltContext, actor: Actor, argument: str, client: AsyncWebClient, respond: AsyncRespond
) -> None:
    setting, _, value = argument.strip().partition(" ")
    if setting.lower() == "review":
        await run_review_setting(context, actor, value, respond)
        return
    decision = decide(actor, Action.ROLE_GRANT)
    if not decision.allowed:
        await refuse(context, respond, actor, Action.ROLE_GRANT, "role:pm", decision)
        return
    parsed = parse_admin(argument)
    if isinstance(parsed, str):
        await respond(response_type="ephemeral", text=parsed)
        return
    grant, user_id = parsed
    change = await change_pm_role(services_of(context).db, actor, user_id, grant=grant, lookup=profile_lookup(client))
    await respond(response_type="ephemeral", text=change.message)
