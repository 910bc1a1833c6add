"""Messages for workspace admins."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock

from blocks.text import escape
from storage.models import Launch


def guardrail_alert(launch: Launch, reason: str) -> dict[str, Any]:
    text = (
        f":rotating_light: *Admin alert:* the PII check failed on the launch *{escape(launch.name)}* "
        f"(started by <@{launch.created_by}>), so it was blocked and nothing was sent anywhere.\n"
        f">{escape(reason)}\nThe PM was told. If this keeps happening, look up the error id in Liftoff's log."
    )
    return {
        "text": f"PII check failed on {launch.name}",
        "blocks": [SectionBlock(text=MarkdownTextObject(text=text)).to_dict()],
    }
