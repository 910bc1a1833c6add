"""What the sandbox page shows for one person: the workspace, one conversation, their modal and Home tab."""

from __future__ import annotations

from typing import Any

from bot.sandbox.workspace import SLASH_COMMANDS, TEAM_NAME
from bot.standin.api import SlackStandIn

APP_NAME = "Liftoff"


def conversation_name(standin: SlackStandIn, conversation_id: str) -> str:
    if conversation_id.startswith("D"):
        return APP_NAME
    return standin.directory.channel_name(conversation_id)


def people(standin: SlackStandIn) -> list[dict[str, Any]]:
    return [
        {
            "id": uid,
            "name": user.get("real_name") or user["name"],
            "handle": user["name"],
            "title": user.get("profile", {}).get("title", ""),
            "tz": user.get("tz", "UTC"),
            "tz_label": user.get("tz_label", ""),
        }
        for uid, user in standin.directory.users.items()
        if not user.get("is_bot")
    ]


def channels(standin: SlackStandIn, viewer: str) -> list[dict[str, Any]]:
    """Public channels, then the group DMs the viewer is in (the app opens those with conversations.open)."""
    listed = []
    for cid, channel in standin.directory.channels.items():
        if channel.get("is_mpim") and viewer not in str(channel.get("name", "")):
            continue
        topic = channel.get("topic", {}).get("value", "") if isinstance(channel.get("topic"), dict) else ""
        group = bool(channel.get("is_mpim"))
        listed.append({"id": cid, "name": channel.get("name", cid), "topic": topic, "group": group})
    return listed


def activity(standin: SlackStandIn, viewer: str) -> dict[str, str]:
    """The newest message ts per conversation the viewer can see, so the page can mark unread ones."""
    latest: dict[str, str] = {}
    for channel in standin.message_store.channels_with_messages():
        if channel.startswith("D") and channel != standin.directory.dm_id(viewer):
            continue
        messages = standin.message_store.messages(channel)
        latest[channel] = messages[-1]["ts"]
    for message in standin.ephemerals(viewer):
        channel = message["channel"]
        latest[channel] = max(latest.get(channel, ""), message["ts"])
    return latest


def conversation(standin: SlackStandIn, viewer: str, conversation_id: str) -> dict[str, Any]:
    """A channel's (or the viewer's app DM's) messages, threads folded under their parents, plus the
    ephemeral messages only the viewer sees there, in posting order."""
    if conversation_id.startswith("D"):
        conversation_id = standin.directory.dm_id(viewer)
    messages = standin.messages(conversation_id)
    replies: dict[str, list[dict[str, Any]]] = {}
    top: list[dict[str, Any]] = []
    for message in messages:
        thread = message.get("thread_ts")
        if thread and thread != message["ts"]:
            replies.setdefault(thread, []).append(message)
        else:
            top.append(message)
    for message in top:
        message["replies"] = replies.get(message["ts"], [])
    ephemerals = [m for m in standin.ephemerals(viewer) if m["channel"] == conversation_id]
    shown = sorted(top + ephemerals, key=lambda m: float(m["ts"]))
    return {
        "id": conversation_id,
        "name": conversation_name(standin, conversation_id),
        "is_dm": conversation_id.startswith("D"),
        "messages": shown,
    }


def modal(standin: SlackStandIn, viewer: str) -> dict[str, Any] | None:
    """The top of the viewer's modal stack, with the field errors the app last answered it with."""
    stack = standin.open_views(viewer)
    if not stack:
        return None
    view = stack[-1]
    return {"view": view, "errors": standin.view_errors(view["id"]), "depth": len(stack)}


def page_state(standin: SlackStandIn, viewer: str, conversation_id: str) -> dict[str, Any]:
    if viewer not in standin.directory.users:
        raise KeyError(viewer)
    return {
        "team": {"id": standin.team_id, "name": TEAM_NAME},
        "app": {"name": APP_NAME, "bot_user_id": standin.bot_user_id, "dm": standin.directory.dm_id(viewer)},
        "viewer": viewer,
        "people": people(standin),
        "names": standin.user_names(),
        "channels": channels(standin, viewer),
        "commands": [{"command": c, "usage": u, "description": d} for c, u, d in SLASH_COMMANDS],
        "activity": activity(standin, viewer),
        "conversation": conversation(standin, viewer, conversation_id),
        "modal": modal(standin, viewer),
        "home": standin.home(viewer),
    }
