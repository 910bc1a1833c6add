"""Deterministic Slack-shaped ids and timestamps for the stand-in."""

from __future__ import annotations

import itertools
import secrets
import time
from typing import Any

from bot.standin.records import clone

TS_EPOCH = 1_700_000_000
TS_STEP_MICROS = 100

# Element types that Slack gives an action_id when the app leaves it out.
INTERACTIVE_KEYS = ("element", "accessory")


class IdMaker:
    """Issues message ts, view ids, file ids and the block/action ids Slack fills in."""

    def __init__(self) -> None:
        self._last_ts_micros = 0
        self._views = itertools.count(1)
        self._files = itertools.count(1)
        self._blocks = itertools.count(1)

    def ts(self) -> str:
        """A unique, increasing message timestamp from the clock, as Slack's are ("1763750000.000100")."""
        micros = max(int(time.time() * 1_000_000), self._last_ts_micros + TS_STEP_MICROS)
        self._last_ts_micros = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def view_id(self) -> str:
        return f"V{next(self._views):010d}"

    def file_id(self) -> str:
        return f"F{next(self._files):010d}"

    def view_hash(self) -> str:
        return f"{TS_EPOCH}.{secrets.token_hex(4)}"

    def filled_blocks(self, blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """A copy of blocks where every block has a block_id and every element an action_id, as Slack returns."""
        filled = clone(blocks)
        for block in filled:
            if not isinstance(block, dict):
                continue
            if block.get("type") != "markdown":
                block.setdefault("block_id", self._short_id())
            elements = [block.get(key) for key in INTERACTIVE_KEYS]
            if block.get("type") == "actions":
                elements.extend(block.get("elements") or [])
            for element in elements:
                if isinstance(element, dict) and element.get("type") not in (None, "image", "plain_text", "mrkdwn"):
                    element.setdefault("action_id", self._short_id())
        return filled

    def _short_id(self) -> str:
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        number, out = next(self._blocks), ""
        while True:
            number, digit = divmod(number, len(alphabet))
            out = alphabet[digit] + out
            if number == 0:
                return "sb" + out
