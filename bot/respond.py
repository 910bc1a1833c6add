"""respond() over the process's kept-alive HTTP session.

Bolt's own respond() builds a webhook client, and so a new connection, for every reply to a response_url; a
click's ephemeral answer then costs a TCP connection and a client session of its own in the web process.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.context.respond.internals import _build_message
from slack_sdk.webhook import WebhookResponse
from slack_sdk.webhook.async_client import AsyncWebhookClient


class KeptAliveRespond(AsyncRespond):
    def __init__(self, *, response_url: str, session: aiohttp.ClientSession) -> None:
        super().__init__(response_url=response_url)
        self.session = session

    async def __call__(self, text: str | dict[str, Any] = "", **fields: Any) -> WebhookResponse:  # type: ignore[override]
        message = _build_message(**text) if isinstance(text, dict) else _build_message(text=text, **fields)
        client = AsyncWebhookClient(url=str(self.response_url), session=self.session)
        return await client.send_dict(message)


def respond_to(response_url: str, http: aiohttp.ClientSession | None) -> AsyncRespond:
    """A reply to `response_url`: over the process's kept-alive session when it has one (a web process), else
    through Bolt's own respond (a worker)."""
    if http is not None:
        return KeptAliveRespond(response_url=response_url, session=http)
    return AsyncRespond(response_url=response_url)
