"""Bolt middleware: each Events API event runs once, however often Slack delivers it.

Slack redelivers an event (X-Slack-Retry-Num) when the first answer was slow or lost, and an
event_id can arrive twice; the ledger records each event_id, so only its first delivery runs.
It runs after Bolt has verified the signature, so unsigned requests never reach the ledger.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.response import BoltResponse

from bot.services import services_of
from storage.event_dedup import EventLedger

log = logging.getLogger(__name__)


async def process_events_once(body: dict[str, Any], context: Any, next: Callable[[], Awaitable[Any]]) -> Any:  # noqa: A002
    event_id = body.get("event_id") if body.get("type") == "event_callback" else None
    if not event_id:
        return await next()
    async with services_of(context).db.session() as session:
        first = await EventLedger(session).first_sight(str(event_id), str(body.get("team_id") or ""))
    if not first:
        log.info("event %s already processed; acknowledging the redelivery", event_id)
        return BoltResponse(status=200, body="")
    return await next()
