"""Sample people, channels, blocks and views shared by the stand-in's tests."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from bot.standin import SlackStandIn
from tests.blockkit import SHARED, load_validator

VALIDATE = load_validator()
SIGNING_VECTOR = json.loads((SHARED / "specs" / "slack-signing-vector.json").read_text())
USERS = [
    {
        "id": "U0ANA",
        "name": "ana",
        "real_name": "Ana Costa",
        "tz": "Europe/Berlin",
        "tz_offset": 3600,
        "profile": {"email": "ana@example.com"},
        "is_admin": True,
    },
    {"id": "U0BEN", "name": "ben", "real_name": "Ben Okafor", "tz": "America/New_York", "tz_offset": -18000},
]
CHANNELS = [{"id": "C0LAUNCH", "name": "launches"}]


def section(text: str, block_id: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "section", "text": {"type": "mrkdwn", "text": text}}
    if block_id:
        block["block_id"] = block_id
    return block


def plain(text: str) -> dict[str, str]:
    return {"type": "plain_text", "text": text}


BRIEF_MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "launch_brief",
    "title": plain("New launch"),
    "submit": plain("Create"),
    "close": plain("Cancel"),
    "blocks": [
        {
            "type": "input",
            "block_id": "name",
            "label": plain("Name"),
            "element": {"type": "plain_text_input", "action_id": "value", "max_length": 80},
        },
        {
            "type": "input",
            "block_id": "date",
            "label": plain("Launch date"),
            "element": {"type": "datepicker", "action_id": "value"},
        },
        {
            "type": "input",
            "block_id": "owners",
            "label": plain("Owners"),
            "element": {"type": "multi_users_select", "action_id": "value"},
        },
        {
            "type": "input",
            "block_id": "channel",
            "label": plain("Channel"),
            "element": {"type": "conversations_select", "action_id": "value"},
        },
        {
            "type": "input",
            "block_id": "tier",
            "label": plain("Tier"),
            "element": {
                "type": "static_select",
                "action_id": "value",
                "options": [{"text": plain("Tier 1"), "value": "t1"}, {"text": plain("Tier 2"), "value": "t2"}],
            },
        },
        {
            "type": "input",
            "block_id": "notes",
            "label": plain("Notes"),
            "optional": True,
            "element": {"type": "plain_text_input", "action_id": "value", "multiline": True},
        },
    ],
}

APPROVAL_BLOCKS = [
    section("*Review* task <@U0ANA>: migrate billing"),
    {
        "type": "actions",
        "block_id": "review",
        "elements": [
            {"type": "button", "action_id": "approve", "value": "task-7", "style": "primary", "text": plain("Approve")},
            {"type": "button", "action_id": "reject", "value": "task-7", "style": "danger", "text": plain("Reject")},
        ],
    },
]


@asynccontextmanager
async def running_standin() -> AsyncIterator[SlackStandIn]:
    """A stand-in with the sample people and channels and the Block Kit validator, on a free port."""
    server = SlackStandIn(validator=VALIDATE, users=USERS, channels=CHANNELS)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
