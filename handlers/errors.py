"""The central error handler: the person gets a short message and an error id; the log gets the rest."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from blocks.launch_messages import error_message

log = logging.getLogger("liftoff.errors")


def new_error_id() -> str:
    return uuid.uuid4().hex[:8]


async def tell_person_about_error(body: dict[str, Any], client: AsyncWebClient | None, error_id: str) -> None:
    """Best effort: an ephemeral reply through response_url, else a DM."""
    message = error_message(error_id)
    response_url = body.get("response_url") or next(
        (u.get("response_url") for u in body.get("response_urls", []) if u.get("response_url")), None
    )
    user_id = body.get("user_id") or (body.get("user") or {}).get("id")
    try:
        if response_url:
            from slack_sdk.webhook.async_client import AsyncWebhookClient

            await AsyncWebhookClient(response_url).send(response_type="ephemeral", **message)
        elif client is not None and user_id:
            await client.chat_postMessage(channel=user_id, **message)
    except Exception:  # the person could not be told; the log still has the id
        log.warning("could not report error %s to the person", error_id, exc_info=True)


def register(app: AsyncApp) -> None:
    @app.error
    async def on_error(error: Exception, body: dict[str, Any], client: AsyncWebClient | None = None) -> None:
        error_id = new_error_id()
        log.error("unhandled error %s in %s", error_id, body.get("type") or body.get("command"), exc_info=error)
        await tell_person_about_error(body, client, error_id)
