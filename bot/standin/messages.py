"""Channel messages, threads and ephemeral messages as the stand-in holds them."""

from __future__ import annotations

from typing import Any

from bot.standin.ids import IdMaker
from bot.standin.records import SlackError, clone

# Keys conversations.history leaves out when they carry nothing.
OPTIONAL_KEYS = ("blocks", "thread_ts", "metadata", "attachments", "files", "edited", "reply_count", "latest_reply")


class MessageStore:
    """Messages per channel (in posting order) and ephemeral messages per user."""

    def __init__(self, ids: IdMaker, author: dict[str, str]) -> None:
        self._ids = ids
        self._author = author  # user, bot_id, app_id, team of the bot posting
        self._channels: dict[str, list[dict[str, Any]]] = {}
        self._ephemerals: dict[str, list[dict[str, Any]]] = {}

    def reset(self) -> None:
        self._channels.clear()
        self._ephemerals.clear()

    def post(
        self,
        channel: str,
        *,
        text: str = "",
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
        attachments: list[dict[str, Any]] | None = None,
        files: list[dict[str, Any]] | None = None,
        user: str | None = None,
    ) -> dict[str, Any]:
        """Append a message to a channel (or a thread in it) and return a copy of it."""
        if thread_ts is not None:
            parent = self.find(channel, thread_ts)
            if parent is None:
                raise SlackError("thread_not_found")
            thread_ts = parent.get("thread_ts") or parent["ts"]
        message: dict[str, Any] = {
            "type": "message",
            "channel": channel,
            "ts": self._ids.ts(),
            "text": text,
            "blocks": self._ids.filled_blocks(blocks or []),
            **self._author,
            "thread_ts": thread_ts,
            "metadata": metadata,
            "attachments": attachments,
            "files": files,
        }
        if user is not None:
            message["user"] = user
        self._channels.setdefault(channel, []).append(message)
        if thread_ts is not None:
            self._note_reply(channel, thread_ts, message["ts"])
        return clone(message)

    def find(self, channel: str, ts: str) -> dict[str, Any] | None:
        return next((m for m in self._channels.get(channel, []) if m["ts"] == ts), None)

    def update(self, channel: str, ts: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Apply chat.update changes; fields left out (None) keep their previous value, as in Slack."""
        message = self.find(channel, ts)
        if message is None:
            raise SlackError("message_not_found")
        for key, value in changes.items():
            if value is not None:
                message[key] = self._ids.filled_blocks(value) if key == "blocks" else value
        message["edited"] = {"user": self._author["user"], "ts": self._ids.ts()}
        return clone(message)

    def delete(self, channel: str, ts: str) -> None:
        message = self.find(channel, ts)
        if message is None:
            raise SlackError("message_not_found")
        self._channels[channel].remove(message)

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """Every message in the channel, thread replies included, oldest first."""
        return clone(self._channels.get(channel, []))

    def history(
        self, channel: str, *, with_metadata: bool, oldest: float, latest: float, inclusive: bool = False
    ) -> list[dict[str, Any]]:
        """Top-level messages between oldest and latest, newest first, shaped like conversations.history."""

        def in_range(ts: float) -> bool:
            return oldest <= ts <= latest if inclusive else oldest < ts < latest

        top = [
            m for m in self._channels.get(channel, []) if m["thread_ts"] in (None, m["ts"]) and in_range(float(m["ts"]))
        ]
        return [self.api_shape(m, with_metadata) for m in reversed(top)]

    def replies(self, channel: str, ts: str, *, with_metadata: bool) -> list[dict[str, Any]]:
        """The thread's parent then its replies, oldest first, shaped like conversations.replies."""
        parent = self.find(channel, ts)
        if parent is None:
            raise SlackError("thread_not_found")
        root = parent.get("thread_ts") or parent["ts"]
        thread = [m for m in self._channels[channel] if m["ts"] == root or m["thread_ts"] == root]
        return [self.api_shape(m, with_metadata) for m in thread]

    def post_ephemeral(
        self, channel: str, user: str, *, text: str, blocks: list[dict[str, Any]] | None, source: str
    ) -> dict[str, Any]:
        message: dict[str, Any] = {
            "type": "message",
            "subtype": "ephemeral",
            "channel": channel,
            "ts": self._ids.ts(),
            "text": text,
            "blocks": self._ids.filled_blocks(blocks or []),
            **self._author,
            "visible_to": user,
            "source": source,
            "thread_ts": None,
            "metadata": None,
        }
        self._ephemerals.setdefault(user, []).append(message)
        return clone(message)

    def find_ephemeral(self, user: str, ts: str) -> dict[str, Any] | None:
        return next((m for m in self._ephemerals.get(user, []) if m["ts"] == ts), None)

    def replace_ephemeral(self, user: str, ts: str, text: str, blocks: list[dict[str, Any]] | None) -> None:
        message = self.find_ephemeral(user, ts)
        if message is None:
            raise SlackError("message_not_found")
        message["text"] = text
        message["blocks"] = self._ids.filled_blocks(blocks or [])

    def delete_ephemeral(self, user: str, ts: str) -> None:
        message = self.find_ephemeral(user, ts)
        if message is not None:
            self._ephemerals[user].remove(message)

    def ephemerals(self, user: str) -> list[dict[str, Any]]:
        return clone(self._ephemerals.get(user, []))

    def channels_with_messages(self) -> list[str]:
        return [channel for channel, messages in self._channels.items() if messages]

    def _note_reply(self, channel: str, thread_ts: str, reply_ts: str) -> None:
        parent = self.find(channel, thread_ts)
        if parent is not None:
            parent["thread_ts"] = thread_ts
            parent["reply_count"] = parent.get("reply_count", 0) + 1
            parent["latest_reply"] = reply_ts

    @staticmethod
    def api_shape(message: dict[str, Any], with_metadata: bool) -> dict[str, Any]:
        """The message as the Web API returns it: no channel key, empty optional keys left out."""
        shaped = {k: clone(v) for k, v in message.items() if k != "channel"}
        for key in OPTIONAL_KEYS:
            if not shaped.get(key):
                shaped.pop(key, None)
        if not with_metadata:
            shaped.pop("metadata", None)
        return shaped
