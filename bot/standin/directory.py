"""The stand-in workspace's people and channels."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.standin.records import SlackError, clone

DEFAULT_CHANNEL = {"id": "C0GENERAL", "name": "general"}


class Directory:
    """Users and channels; DMs are "D" + user id; a user id given as a channel means that user's DM."""

    def __init__(self, team_id: str, users: Sequence[dict[str, Any]], channels: Sequence[dict[str, Any]]) -> None:
        self.team_id = team_id
        self.users: dict[str, dict[str, Any]] = {u["id"]: self._full_user(u) for u in users}
        self.channels: dict[str, dict[str, Any]] = {c["id"]: dict(c) for c in channels}
        self.channels.setdefault(DEFAULT_CHANNEL["id"], dict(DEFAULT_CHANNEL))

    def add_user(self, user: dict[str, Any]) -> dict[str, Any]:
        self.users[user["id"]] = self._full_user(user)
        return self.user(user["id"])

    def add_channel(self, channel: dict[str, Any]) -> None:
        self.channels[channel["id"]] = dict(channel)

    def user(self, user_id: str) -> dict[str, Any]:
        if user_id not in self.users:
            raise SlackError("user_not_found")
        return clone(self.users[user_id])

    def user_name(self, user_id: str) -> str:
        user = self.users.get(user_id)
        return user["name"] if user else user_id.lower()

    def names(self) -> dict[str, str]:
        """user id -> display name, for rendering mentions."""
        return {uid: u.get("real_name") or u["name"] for uid, u in self.users.items()}

    @staticmethod
    def dm_id(user_id: str) -> str:
        return "D" + user_id

    def resolve(self, channel: str) -> str:
        """The channel id a chat.* call posts to; raises channel_not_found for unknown channels."""
        if channel.startswith("#"):
            match = next((c for c in self.channels.values() if c.get("name") == channel[1:]), None)
            if match is None:
                raise SlackError("channel_not_found")
            return match["id"]
        if channel in self.channels:
            return channel
        if channel[:1] in ("U", "W") and channel in self.users:
            return self.dm_id(channel)
        if channel.startswith("D") and channel[1:] in self.users:
            return channel
        if channel.startswith("G") and channel in self.channels:
            return channel
        raise SlackError("channel_not_found")

    def channel_info(self, channel: str) -> dict[str, Any]:
        channel_id = self.resolve(channel)
        if channel_id.startswith("D"):
            return {"id": channel_id, "is_im": True, "is_channel": False, "user": channel_id[1:], "is_open": True}
        info = {"is_channel": True, "is_im": False, "is_private": False, "is_member": True, "is_archived": False}
        return {**info, **clone(self.channels[channel_id])}

    def is_member(self, channel_id: str) -> bool:
        """Whether the bot is in the channel: always, unless the channel was given with is_member False."""
        return bool(self.channels.get(channel_id, {}).get("is_member", True))

    def channel_name(self, channel_id: str) -> str:
        if channel_id.startswith("D"):
            return "directmessage"
        return str(self.channels.get(channel_id, {}).get("name", channel_id.lower()))

    def _full_user(self, user: dict[str, Any]) -> dict[str, Any]:
        full = {
            "team_id": self.team_id,
            "name": user["id"].lower(),
            "deleted": False,
            "is_bot": False,
            "is_admin": False,
            "is_owner": False,
            "tz": "UTC",
            "tz_label": "Coordinated Universal Time",
            "tz_offset": 0,
            **clone(user),
        }
        full.setdefault("real_name", full["name"])
        profile = full.setdefault("profile", {})
        profile.setdefault("real_name", full["real_name"])
        profile.setdefault("display_name", full["name"])
        return full
