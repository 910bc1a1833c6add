"""response_url: where Bolt's respond() posts, turned into ephemeral, in-channel, replaced or deleted messages."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from bot.standin.limits import MAX_MESSAGE_TEXT
from bot.standin.messages import MessageStore
from bot.standin.payload import flag
from bot.standin.records import ResponseUrl, SlackError

MAX_USES = 5  # Slack honours a response_url five times (within 30 minutes)

BlockCheck = Callable[[str, str, dict[str, Any]], None]


class ResponseUrls:
    """Issues response_url tokens and carries out what is posted to them."""

    def __init__(self, messages: MessageStore, check_blocks: BlockCheck) -> None:
        self._messages = messages
        self._check_blocks = check_blocks
        self._targets: dict[str, ResponseUrl] = {}

    def reset(self) -> None:
        self._targets.clear()

    def issue(self, user_id: str, channel_id: str, message_ts: str | None, is_ephemeral: bool) -> str:
        token = secrets.token_urlsafe(12)
        self._targets[token] = ResponseUrl(user_id, channel_id, message_ts, is_ephemeral)
        return token

    def target(self, token: str) -> ResponseUrl | None:
        return self._targets.get(token)

    def uses(self, url: str) -> int:
        """How many times the app has posted to `url` (one this server issued)."""
        found = self._targets.get(url.rstrip("/").rsplit("/", 1)[-1])
        return found.uses if found is not None else 0

    def deliver(self, target: ResponseUrl, body: dict[str, Any]) -> None:
        """Post, replace or delete as respond() asks; ephemeral unless response_type is in_channel."""
        target.uses += 1
        if target.uses > MAX_USES:
            raise SlackError("used_url")
        text = body.get("text") or ""
        if len(text) > MAX_MESSAGE_TEXT:
            raise SlackError("msg_too_long")
        original_ts = target.message_ts or _last_posted_ts(target)
        if flag(body, "delete_original"):
            if original_ts is None:
                raise SlackError("message_not_found")
            self._delete(target, original_ts)
        else:
            self._check_blocks("response_url", "message", body)
            blocks = body.get("blocks") or []
            if flag(body, "replace_original") and original_ts is not None:
                self._replace(target, original_ts, text, blocks)
            else:
                target.posts.append({"ts": self._post(target, body, text, blocks)})
                return
        target.posts.append({})

    def _post(self, target: ResponseUrl, body: dict[str, Any], text: str, blocks: list[dict[str, Any]]) -> str:
        if body.get("response_type") == "in_channel":
            thread_ts = body.get("thread_ts") or None
            return self._messages.post(target.channel_id, text=text, blocks=blocks, thread_ts=thread_ts)["ts"]
        return self._messages.post_ephemeral(
            target.channel_id, target.user_id, text=text, blocks=blocks, source="response_url"
        )["ts"]

    def _replace(self, target: ResponseUrl, ts: str, text: str, blocks: list[dict[str, Any]]) -> None:
        if target.is_ephemeral or self._messages.find_ephemeral(target.user_id, ts) is not None:
            self._messages.replace_ephemeral(target.user_id, ts, text, blocks)
        else:
            self._messages.update(target.channel_id, ts, {"text": text, "blocks": blocks})

    def _delete(self, target: ResponseUrl, ts: str) -> None:
        if target.is_ephemeral or self._messages.find_ephemeral(target.user_id, ts) is not None:
            self._messages.delete_ephemeral(target.user_id, ts)
        else:
            self._messages.delete(target.channel_id, ts)


def _last_posted_ts(target: ResponseUrl) -> str | None:
    """The message this URL posted last: what replace_original means when the URL came with no message."""
    return next((post["ts"] for post in reversed(target.posts) if "ts" in post), None)
