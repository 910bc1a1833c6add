"""The "My OKRs" section of the App Home: my key results, each with a Check in button."""

from __future__ import annotations

from typing import Any

from agents.okr_board import KrView
from blocks.okr_format import context, key_result_line
from blocks.okr_ids import OkrAction

MAX_HOME_KEY_RESULTS = 20


def my_okrs_blocks(key_results: list[KrView], period: str | None) -> list[dict[str, Any]]:
    """At most MAX_HOME_KEY_RESULTS + 3 blocks, whatever the data size."""
    title = f"*My OKRs* · {period}" if period else "*My OKRs*"
    blocks: list[dict[str, Any]] = [{"type": "divider"}, {"type": "section", "text": {"type": "mrkdwn", "text": title}}]
    if not key_results:
        blocks.append(context("_You own no key results this period._ `/okr new` proposes an objective."))
        return blocks
    for kr in key_results[:MAX_HOME_KEY_RESULTS]:
        blocks.append({
            "type": "section", "block_id": f"okr_kr:{kr.row.id}",
            "text": {"type": "mrkdwn", "text": key_result_line(kr)},
            "accessory": {"type": "button", "action_id": OkrAction.CHECK_IN, "value": str(kr.row.id),
                          "text": {"type": "plain_text", "text": "Check in"}},
        })
    more = len(key_results) - MAX_HOME_KEY_RESULTS
    blocks.append(context(f"{more} more: `/okr update` lists them all." if more > 0
                          else "`/okr update` checks in on all of them at once."))
    return blocks
