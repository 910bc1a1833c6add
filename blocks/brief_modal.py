"""The /launch new brief modal."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ConversationFilter,
    ConversationSelectElement,
    DatePickerElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    RichTextInputElement,
    StaticSelectElement,
    UserMultiSelectElement,
)
from slack_sdk.models.views import View

from blocks.ids import BriefField, CallbackId
from blocks.rich_text import rich_text_value
from storage.enums import LaunchType
from storage.limits import BRIEF_MAX_CHARS, LAUNCH_NAME_MAX_CHARS


def launch_type_options() -> list[Option]:
    return [Option(value=str(t), label=t.label) for t in LaunchType]


def brief_modal(*, channel_id: str | None, user_id: str, brief: str = "") -> dict:
    """The modal that collects a launch brief. `private_metadata` remembers where it was opened."""
    types = launch_type_options()
    view = View(
        type="modal",
        callback_id=CallbackId.LAUNCH_BRIEF,
        title=PlainTextObject(text="New launch"),
        submit=PlainTextObject(text="Plan it"),
        close=PlainTextObject(text="Cancel"),
        private_metadata=channel_id or "",
        blocks=[
            InputBlock(
                block_id=BriefField.NAME,
                label="Launch name",
                element=PlainTextInputElement(
                    action_id=BriefField.NAME, max_length=LAUNCH_NAME_MAX_CHARS, placeholder="e.g. Mobile App v2.0"
                ),
            ),
            InputBlock(
                block_id=BriefField.BRIEF,
                label="Brief",
                hint="What ships, for whom, and what must be true on launch day. Plain text or Markdown.",
                # plain_text_input caps at 3,000 characters; a brief may hold 10,000, checked on submit.
                element=RichTextInputElement(
                    action_id=BriefField.BRIEF,
                    placeholder=f"We are shipping… (up to {BRIEF_MAX_CHARS:,} characters)",
                    initial_value=rich_text_value(brief) if brief else None,
                ),
            ),
            InputBlock(
                block_id=BriefField.TARGET_DATE,
                label="Target date",
                element=DatePickerElement(action_id=BriefField.TARGET_DATE, placeholder="Pick the launch day"),
            ),
            InputBlock(
                block_id=BriefField.TEAM,
                label="Team",
                hint="Everyone who will own work. Their Slack titles decide who gets which tasks.",
                element=UserMultiSelectElement(
                    action_id=BriefField.TEAM, placeholder="Add people", initial_users=[user_id]
                ),
            ),
            InputBlock(
                block_id=BriefField.CHANNEL,
                label="Launch channel",
                hint="Where the plan and milestones are posted.",
                element=ConversationSelectElement(
                    action_id=BriefField.CHANNEL,
                    placeholder="Pick a channel",
                    initial_conversation=channel_id if channel_id and channel_id[0] in "CG" else None,
                    filter=ConversationFilter(include=["public", "private"], exclude_bot_users=True),
                ),
            ),
            InputBlock(
                block_id=BriefField.LAUNCH_TYPE,
                label="Launch type",
                element=StaticSelectElement(action_id=BriefField.LAUNCH_TYPE, options=types, initial_option=types[0]),
            ),
        ],
    )
    return view.to_dict()
