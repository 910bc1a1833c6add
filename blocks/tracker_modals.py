"""Block Kit for tracker connections: the connect modal per tracker kind, and the Admins' "sync stopped" message."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import InputBlock, MarkdownTextObject, PlainTextInputElement, SectionBlock
from slack_sdk.models.views import View

from blocks.text import escape

CONNECT_CALLBACK = "tracker_connect"
LABELS = {"linear": "Linear", "jira": "Jira Cloud", "notion": "Notion", "asana": "Asana"}
# Per kind: (block id, label, placeholder, secret?)
FIELDS: dict[str, list[tuple[str, str, str, bool]]] = {
    "linear": [("api_key", "API key", "lin_api_…", True), ("team_id", "Team id", "the team's UUID", False)],
    "jira": [("site", "Site", "https://yourcompany.atlassian.net", False), ("email", "Account email", "", True),
             ("api_token", "API token", "", True), ("project_key", "Project key", "e.g. LIF", False)],
    "notion": [("token", "Integration token", "ntn_… or secret_…", True),
               ("database_id", "Database", "the database's id or link (shared with the integration)", False)],
    "asana": [("token", "Personal access token", "", True),
              ("project_gid", "Project", "the project's gid or link", False)],
}


def connect_modal(kind: str) -> dict[str, Any]:
    blocks = [InputBlock(block_id=block_id, label=label,
                         element=PlainTextInputElement(action_id="value", placeholder=placeholder or None))
              for block_id, label, placeholder, _ in FIELDS[kind]]
    view = View(type="modal", callback_id=CONNECT_CALLBACK, private_metadata=kind,
                title=f"Connect {LABELS[kind]}"[:24], submit="Connect", close="Cancel", blocks=blocks)
    return view.to_dict()


def tracker_stopped(payload: dict[str, Any]) -> dict[str, Any]:
    tracker = LABELS.get(str(payload.get("tracker")), str(payload.get("tracker")))
    text = (f":warning: *{tracker} sync stopped* ({escape(str(payload.get('name') or ''))}): the tracker refused "
            f"Liftoff's requests in a way that will not heal by waiting.\n>{escape(str(payload.get('reason', '')))}\n"
            "Nothing is lost: changes wait in Liftoff. Reconnect with `/launch connect`.")
    return {"text": f"{tracker} sync stopped",
            "blocks": [SectionBlock(text=MarkdownTextObject(text=text)).to_dict()]}
