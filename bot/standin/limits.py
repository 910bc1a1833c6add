"""Slack's hard payload limits, enforced by the stand-in whether or not a schema validator is set."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_MESSAGE_TEXT = 40_000
MAX_BLOCK_ID = 255

Validator = Callable[[str, dict[str, Any]], list[str]]


def block_errors(kind: str, payload: dict[str, Any], validator: Validator | None) -> list[str]:
    """Errors for the blocks of a message payload or a view; kind is "message", "modal" or "home"."""
    blocks = payload.get("blocks")
    if blocks is None:
        return [] if kind == "message" else [f"{kind} view has no blocks"]
    if not isinstance(blocks, list):
        return ["blocks must be an array"]
    limit = MAX_MESSAGE_BLOCKS if kind == "message" else MAX_VIEW_BLOCKS
    malformed = [
        f"blocks[{index}]: a block must be an object with a type"
        for index, block in enumerate(blocks)
        if not isinstance(block, dict) or not isinstance(block.get("type"), str)
    ]
    errors: list[str] = []
    if len(blocks) > limit:
        errors.append(f"too many blocks: {len(blocks)} (a {kind} may hold at most {limit})")
    errors.extend(malformed)
    if validator is not None and not malformed:
        errors.extend(error for error in validator(kind, payload) if error not in errors)
    return errors
