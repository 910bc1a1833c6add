"""Single-workspace token mode: a request from any Slack team but the token's own is refused before anything runs.

The one bot token belongs to one workspace (its team is learned by auth.test at start). A signed request naming
another team (a second workspace that added the slash command or app by mistake, or a forged payload) must not
read or write that workspace's rows, nor make Slack calls with our token. Bolt runs this right after the signature
check and before authorize(), so nothing else sees the request: no database session, no handler, no Slack call.
Slash commands get an ephemeral answer in the HTTP reply; a submitted modal is replaced by one saying why;
events and button presses are acknowledged and dropped. Each refusal is logged.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.response import BoltResponse

from blocks.team_guard import other_workspace_reply, other_workspace_view
from bot.authorization import BotTokenAuthorizer

log = logging.getLogger(__name__)

# Handled by Bolt without a team (and carrying none).
TEAMLESS = frozenset({"url_verification", "ssl_check"})


def request_kind(body: dict[str, Any]) -> str:
    if body.get("command"):
        return "slash_command"
    kind = str(body.get("type") or "unknown")
    if kind == "event_callback":
        return f"event {(body.get('event') or {}).get('type', 'unknown')}"
    return kind


def teams_named(body: dict[str, Any], context: AsyncBoltContext) -> set[str | None]:
    """Every team the request speaks for: the one Bolt would authorize, and the one a command or interaction
    says it comes from (a modal replayed from another team carries our team as `view.app_installed_team_id`)."""
    teams: set[str | None] = {context.team_id}
    if body.get("type") == "event_callback":
        # Bolt takes the team from `authorizations`: an event in a channel shared with another
        # organisation names that organisation at the top, yet was delivered for our installation.
        return teams
    team = body.get("team")
    if isinstance(team, dict) and team.get("id"):
        teams.add(str(team["id"]))
    elif isinstance(team, str) and team:
        teams.add(team)
    if body.get("team_id"):
        teams.add(str(body["team_id"]))
    return teams


def refusal(body: dict[str, Any]) -> BoltResponse:
    """The answer Slack shows the person, with no call made on the other team's behalf."""
    if body.get("command"):
        return BoltResponse(status=200, body=other_workspace_reply())
    if body.get("type") == "view_submission":
        return BoltResponse(status=200, body={"response_action": "update", "view": other_workspace_view()})
    # Events are dropped silently; Slack shows nothing for the body of a button press or other interaction.
    return BoltResponse(status=200, body="")


def refuse_other_teams(authorizer: BotTokenAuthorizer) -> Callable[..., Awaitable[Any]]:
    """The before_authorize middleware for AsyncApp in single-workspace mode."""

    async def team_guard(body: dict[str, Any], context: AsyncBoltContext,
                         next: Callable[[], Awaitable[Any]]) -> Any:  # noqa: A002 - Bolt passes `next`
        if body.get("type") in TEAMLESS:
            return await next()
        # Primed at start (runtime.start_liftoff), so this is no Slack call.
        ours = (await authorizer.prime()).team_id
        named = teams_named(body, context)
        if ours is not None and named == {ours}:
            return await next()
        others = sorted(str(team or "none") for team in named - {ours})
        log.warning("refused a %s from Slack team %s (enterprise %s, user %s): this Liftoff serves team %s only",
                    request_kind(body), ", ".join(others), context.enterprise_id or "-", context.user_id or "-",
                    ours)
        return refusal(body)

    return team_guard
