"""Each Events API event runs once, however often Slack delivers it.

Slack redelivers an event (X-Slack-Retry-Num) when the first answer was slow or lost, and an event_id can arrive
twice; the ledger records each event_id, so only its first delivery runs. Every event listener asks
`first_delivery` before it does anything. Bolt acks an event before it calls the listener, so the ledger's write
(a commit) never holds an ack back; a redelivery is acked too, and then does nothing. Bolt has verified the
signature by then, so unsigned requests never reach the ledger.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.services import services_of
from storage.event_dedup import EventLedger

log = logging.getLogger(__name__)


async def first_delivery(body: dict[str, Any], context: Any) -> bool:
    """True on an event's first delivery (or for a payload without an event_id); False on a redelivery."""
    event_id = body.get("event_id") if body.get("type") == "event_callback" else None
    if not event_id:
        return True
    async with services_of(context).db.session() as session:
        first = await EventLedger(session).first_sight(str(event_id), str(body.get("team_id") or ""))
    if not first:
        log.info("event %s already processed; its redelivery was acknowledged and ignored", event_id)
    return first
