"""`liftoff serve`: the app over HTTP at /slack/events, or over Socket Mode with SLACK_APP_TOKEN."""

from __future__ import annotations

import asyncio
import logging

from bot.runtime import start_liftoff
from bot.settings import Settings

log = logging.getLogger(__name__)


async def serve_forever(settings: Settings, *, host: str, port: int) -> None:
    liftoff = await start_liftoff(settings, host=host, port=port)
    socket_handler = None
    if settings.uses_socket_mode:
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        socket_handler = AsyncSocketModeHandler(liftoff.bolt, settings.slack_app_token)
        await socket_handler.connect_async()
        log.info("Socket Mode connected; /healthz on %s", liftoff.url)
    else:
        log.info("listening for Slack at %s/slack/events", liftoff.url)
    print(f"Liftoff is running: {liftoff.url}/healthz", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        if socket_handler is not None:
            await socket_handler.close_async()
        await liftoff.stop()
