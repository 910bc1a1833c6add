"""The health card's Share to channel, delivered through the Slack outbox (called by bot/delivery.py).

The button's listener writes one outbox row (the launch, the channel, who shared it, the click's response_url)
and acks; the drain renders the card from the database at send time and posts it once (the row's key is the
click's action_ts, so a replayed payload shares once). The person who clicked is told afterwards through the
click's response_url: shared, or why not (then the row is given up, as the button always did).
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from agents.health import launch_health
from agents.launch_pii import reveal_for
from blocks import launch_messages
from blocks.health_card import health_card
from blocks.text import escape
from storage.enums import LaunchStatus, OutboxKind
from storage.launches import LaunchRepository
from storage.llm_usage import LlmUsageRepository
from storage.models import Launch, Outbox
from storage.scope import Scope

log = logging.getLogger(__name__)

KINDS = {OutboxKind.HEALTH_CARD_SHARE}


async def health_card_message(session: AsyncSession, scope: Scope, launch: Launch, *,
                              shared_by: str | None = None) -> dict[str, Any]:
    """The shared health card of a launch as stored now (or why there is none yet)."""
    if launch.status == LaunchStatus.FAILED:
        return launch_messages.planning_failed(launch, launch.error or "unknown reason")
    if launch.status != LaunchStatus.PLANNED:
        return launch_messages.planning_in_progress(launch)
    tasks = await LaunchRepository(session, scope).tasks(launch.id)
    usage = await LlmUsageRepository(session, scope).summary(launch.id)
    # A shared card is for the channel: the team's names only (as handlers/launch_status.card_message does).
    tasks = (await reveal_for(session, scope, launch, None)).tasks(tasks)
    return health_card(launch_health(launch, tasks, date.today()), usage, shared_by=shared_by)


async def render_share(session: AsyncSession, scope: Scope, row: Outbox, launch: Launch) -> dict[str, Any]:
    return await health_card_message(session, scope, launch, shared_by=str(row.payload.get("shared_by") or ""))


def share_payload(launch: Launch, channel: str, shared_by: str, response_url: str | None) -> dict[str, Any]:
    return {"launch_id": launch.id, "launch_name": launch.name, "channel": channel, "shared_by": shared_by,
            "response_url": response_url or ""}


async def tell_shared(payload: dict[str, Any], channel: str) -> None:
    await _tell(payload, f":white_check_mark: Shared the health card of *{escape(str(payload.get('launch_name')))}* "
                         f"in <#{channel}>.")


async def tell_not_shared(payload: dict[str, Any], error: str) -> None:
    channel = payload.get("channel")
    await _tell(payload, f":warning: I could not post in <#{channel}> ({error}). "
                         "Invite me there with `/invite @Liftoff` and try again.")


async def _tell(payload: dict[str, Any], text: str) -> None:
    """An ephemeral answer to the click (none without a response_url: a click on the Home tab)."""
    from slack_sdk.webhook.async_client import AsyncWebhookClient

    url = str(payload.get("response_url") or "")
    if not url:
        return
    try:
        await AsyncWebhookClient(url).send(text=text, response_type="ephemeral", replace_original=False)
    except Exception:  # the card is shared (or given up); only the note to the person is lost
        log.warning("could not answer the share of launch %s", payload.get("launch_id"), exc_info=True)
