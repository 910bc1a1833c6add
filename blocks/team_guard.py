"""What a person in another Slack workspace sees when they reach a single-workspace Liftoff."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import MarkdownTextObject, PlainTextObject, SectionBlock
from slack_sdk.models.views import View

# Names no workspace: the person is not told whose Liftoff this is.
OTHER_WORKSPACE_TEXT = (
    ":no_entry: This Liftoff is installed for another Slack workspace, so it did nothing here "
    "and kept nothing you sent. To use Liftoff in this workspace, ask one of your Slack admins to install it."
)


def other_workspace_reply() -> dict[str, Any]:
    """The answer to a slash command: shown only to the person who typed it."""
    return {"response_type": "ephemeral", "text": OTHER_WORKSPACE_TEXT}


def other_workspace_view() -> dict[str, Any]:
    """Replaces a submitted modal, so the person sees why nothing was saved."""
    return View(
        type="modal",
        title=PlainTextObject(text="Liftoff"),
        close=PlainTextObject(text="Close"),
        blocks=[SectionBlock(text=MarkdownTextObject(text=OTHER_WORKSPACE_TEXT))],
    ).to_dict()
