"""Single-workspace authorization: the bot token's identity, learned once at start, not per request.

Bolt's default single-team middleware calls auth.test on the first request, before the ack;
this authorizer does it at start-up so no Slack call ever precedes an ack.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from slack_bolt.authorization import AuthorizeResult
from slack_sdk.web.async_client import AsyncWebClient


class BotTokenAuthorizer:
    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client
        self._result: AuthorizeResult | None = None

    async def prime(self) -> AuthorizeResult:
        """Check the token with one auth.test call and remember who the bot is."""
        if self._result is None:
            response = await self.client.auth_test()
            self._result = AuthorizeResult.from_auth_test_response(
                auth_test_response=response, bot_token=self.client.token, user_token=None
            )
        return self._result

    def as_bolt_authorize(self) -> Callable[..., Awaitable[AuthorizeResult]]:
        """A plain function for AsyncApp(authorize=...): Bolt passes arguments by their names."""

        async def authorize(team_id: str | None = None) -> AuthorizeResult:
            return await self.prime()

        return authorize
