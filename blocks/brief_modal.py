"""The /launch new brief modal."""

from __future__ import annotations

import copy
from functools import lru_cache
from typing import Any

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


NO_TRACKER = "none"


def brief_modal(*, channel_id: str | None, user_id: str, brief: str = "",
                trackers: list[tuple[int, str]] | None = None) -> dict[str, Any]:
    """The modal that collects a launch brief. `private_metadata` remembers where it was opened.

    `trackers`: the workspace's active connections (id, label); when there are any, the launch may pick one.
    """
    view = copy.deepcopy(_layout())
    if trackers:
        view["blocks"].append(tracker_block(trackers))
    view["private_metadata"] = channel_id or ""
    elements = {block["block_id"]: block["element"] for block in view["blocks"]}
    elements[BriefField.TEAM]["initial_users"] = [user_id]
    if channel_id and channel_id[0] in "CG":
        elements[BriefField.CHANNEL]["initial_conversation"] = channel_id
    if brief:
        elements[BriefField.BRIEF]["initial_value"] = rich_text_value(brief)
    return view


def tracker_block(trackers: list[tuple[int, str]]) -> dict[str, Any]:
    options = [Option(value=NO_TRACKER, label="None")] + [
        Option(value=str(connection_id), label=label[:75]) for connection_id, label in trackers[:99]]
    return InputBlock(
        block_id=BriefField.TRACKER, label="Tracker", optional=True,
        hint="Where the plan's tasks are created and kept in sync.",
        element=StaticSelectElement(action_id=BriefField.TRACKER, options=options, initial_option=options[0]),
    ).to_dict()


@lru_cache(maxsize=1)
def _layout() -> dict[str, Any]:
    # Built (and validated) by slack_sdk once per process: the models cost milliseconds, and every
    # `/launch new` must be acked and answered fast.
    types = launch_type_options()
    view = View(
        type="modal",
        callback_id=CallbackId.LAUNCH_BRIEF,
        title=PlainTextObject(text="New launch"),
        submit=PlainTextObject(text="Plan it"),
        close=PlainTextObject(text="Cancel"),
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
                element=UserMultiSelectElement(action_id=BriefField.TEAM, placeholder="Add people"),
            ),
            InputBlock(
                block_id=BriefField.CHANNEL,
                label="Launch channel",
                hint="Where the plan and milestones are posted.",
                element=ConversationSelectElement(
                    action_id=BriefField.CHANNEL,
                    placeholder="Pick a channel",
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
