"""The brief modal pre-filled with a launch, submitting a re-plan (the launch id rides in private_metadata)."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject

from blocks.brief_modal import brief_modal
from blocks.ids import BriefField, CallbackId
from blocks.text import truncate
from storage.models import Launch


def replan_modal(launch: Launch) -> dict[str, Any]:
    view = brief_modal(channel_id=launch.channel_id, user_id=launch.created_by, brief=launch.brief)
    view["callback_id"] = CallbackId.LAUNCH_REPLAN
    view["private_metadata"] = str(launch.id)
    view["title"] = {"type": "plain_text", "text": "Re-plan launch"}
    view["submit"] = {"type": "plain_text", "text": "Re-plan"}
    elements = {block["block_id"]: block["element"] for block in view["blocks"]}
    elements[BriefField.NAME]["initial_value"] = truncate(launch.name, elements[BriefField.NAME]["max_length"])
    elements[BriefField.TARGET_DATE]["initial_date"] = launch.target_date.isoformat()
    team = [m.slack_id for m in launch.members if m.slack_id]
    elements[BriefField.TEAM]["initial_users"] = team or [launch.created_by]
    if not (launch.channel_id and launch.channel_id[0] in "CG"):
        elements[BriefField.CHANNEL].pop("initial_conversation", None)
    types = elements[BriefField.LAUNCH_TYPE]
    for option in types["options"]:
        if option["value"] == launch.launch_type:
            types["initial_option"] = option
    note = ContextBlock(block_id="replan_note", elements=[MarkdownTextObject(
        text=f"This makes plan v{launch.version + 1}. Tasks already started, blocked or done keep their status, "
             "owner and dates; untouched tasks follow the new plan.")])
    view["blocks"] = [note.to_dict(), *view["blocks"]]
    return view
