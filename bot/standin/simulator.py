"""A simulated Slack: sends the app signed slash commands, interactions and events, as Slack does."""

from __future__ import annotations

import itertools
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp
from slack_sdk.signature import SignatureVerifier

from bot.standin.api import SlackStandIn
from bot.standin.directory import DEFAULT_CHANNEL
from bot.standin.messages import MessageStore
from bot.standin.records import clone
from bot.standin.state import SimulatorError, action_entry, find_element, view_state

__all__ = ["Ack", "SimulatorError", "SlackSimulator"]

EVENTS_PATH = "/slack/events"
VERIFICATION_TOKEN = "standin-verification-token"
ACK_DEADLINE_MS = 3000
FORM = "application/x-www-form-urlencoded"


@dataclass
class Ack:
    """The app's HTTP answer to one request."""

    status: int
    body: str
    json: Any
    elapsed_ms: float
    trigger_id: str | None = None
    response_url: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    sent_at: float = 0.0  # time.monotonic() as the request left, comparable with RecordedCall.at
    acked_at: float = 0.0  # time.monotonic() as the app's answer (status and headers) arrived

    @property
    def in_time(self) -> bool:
        """Slack gives up on an app that has not answered within 3 seconds."""
        return self.elapsed_ms < ACK_DEADLINE_MS


@dataclass(frozen=True)
class PreparedClick:
    """A block_actions request ready to send: its form body, its payload, and what it carries."""

    body: str
    payload: dict[str, Any]
    trigger_id: str
    response_url: str | None


class SlackSimulator:
    """Plays Slack's side of the conversation with the app at app_url, against a SlackStandIn."""

    def __init__(
        self,
        app_url: str,
        signing_secret: str,
        standin: SlackStandIn,
        *,
        team_id: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        root = app_url.rstrip("/")
        self.events_url = root if root.endswith(EVENTS_PATH) else root + EVENTS_PATH
        self.signing_secret = signing_secret
        self.standin = standin
        self.team_id = team_id or standin.team_id
        self.clock = clock
        self._verifier = SignatureVerifier(signing_secret)
        self._session: aiohttp.ClientSession | None = None
        self._sequence = itertools.count(1)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> SlackSimulator:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- what a person does ---------------------------------------------------------------------------

    async def slash_command(
        self, user_id: str, command: str, text: str = "", channel_id: str = DEFAULT_CHANNEL["id"]
    ) -> Ack:
        trigger_id = self.new_trigger_id(user_id)
        response_url = self.standin.new_response_url(user_id, channel_id)
        fields = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "team_domain": self._team_domain(),
            "channel_id": channel_id,
            "channel_name": self.standin.directory.channel_name(channel_id),
            "user_id": user_id,
            "user_name": self.standin.directory.user_name(user_id),
            "command": command,
            "text": text,
            "api_app_id": self.standin.app_id,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id,
        }
        ack = await self.post(urlencode(fields), FORM)
        ack.trigger_id, ack.response_url, ack.payload = trigger_id, response_url, fields
        return ack

    async def submit_view(
        self, user_id: str, view: dict[str, Any], values: dict[str, Any], *, require: bool = True
    ) -> Ack:
        """Submit a modal with values by block_id (or action_id) in natural form: str, date, ids, option value.

        The app's answer is applied to the stand-in's modal stack (close, update, push, errors, clear).
        """
        view = self._current_view(view)
        self._check_open(user_id, view)
        submitted = clone(view)
        submitted["state"] = {"values": view_state(view, values, require=require)}
        trigger_id = self.new_trigger_id(user_id)
        payload = {
            "type": "view_submission",
            **self._envelope(user_id, trigger_id),
            "view": submitted,
            "response_urls": self._response_urls(user_id, submitted),
        }
        ack = await self._post_payload(payload)
        ack.trigger_id = trigger_id
        if ack.status == 200:
            self.standin.apply_view_submission_ack(
                user_id, view["id"], ack.json if isinstance(ack.json, dict) else None
            )
        return ack

    async def close_view(self, user_id: str, view: dict[str, Any]) -> Ack | None:
        """Press Cancel: Slack tells the app (view_closed) only when the view asked with notify_on_close."""
        view = self._current_view(view)
        self.standin.view_store.close(user_id, view["id"])
        if not view.get("notify_on_close"):
            return None
        payload = {"type": "view_closed", **self._envelope(user_id, None), "view": view, "is_cleared": False}
        return await self._post_payload(payload)

    async def click(
        self,
        user_id: str,
        *,
        action_id: str,
        value: Any = None,
        message: dict[str, Any] | None = None,
        channel_id: str | None = None,
        view: dict[str, Any] | None = None,
        block_id: str | None = None,
    ) -> Ack:
        """Press a button or pick from a select in a message (from standin.messages/ephemerals) or a view."""
        return await self.send_click(self.prepare_click(
            user_id, action_id=action_id, value=value, message=message, channel_id=channel_id, view=view,
            block_id=block_id))

    async def send_click(self, click: PreparedClick) -> Ack:
        """Send a click built earlier by prepare_click (a load generator builds them before its clock starts)."""
        ack = await self.post(click.body, FORM)
        ack.payload = click.payload
        ack.trigger_id, ack.response_url = click.trigger_id, click.response_url
        return ack

    def prepare_click(
        self,
        user_id: str,
        *,
        action_id: str,
        value: Any = None,
        message: dict[str, Any] | None = None,
        channel_id: str | None = None,
        view: dict[str, Any] | None = None,
        block_id: str | None = None,
    ) -> PreparedClick:
        """The block_actions request a click sends, as click() would send it now."""
        if (message is None) == (view is None):
            raise SimulatorError("click needs exactly one of message= or view=")
        trigger_id = self.new_trigger_id(user_id)
        payload: dict[str, Any] = {"type": "block_actions", **self._envelope(user_id, trigger_id)}
        response_url = None
        if view is not None:
            view = self._current_view(view)
            block, element = find_element(view.get("blocks") or [], action_id, block_id, value)
            state = view_state(view, {}, require=False)
            payload["container"] = {"type": "view", "view_id": view["id"]}
            payload["view"] = {**clone(view), "state": {"values": state}}
        else:
            assert message is not None
            channel = channel_id or message.get("channel") or DEFAULT_CHANNEL["id"]
            ephemeral = "visible_to" in message
            block, element = find_element(message.get("blocks") or [], action_id, block_id, value)
            response_url = self.standin.new_response_url(
                user_id, channel, message_ts=message["ts"], is_ephemeral=ephemeral
            )
            payload["container"] = {
                "type": "message",
                "message_ts": message["ts"],
                "channel_id": channel,
                "is_ephemeral": ephemeral,
            }
            payload["channel"] = {"id": channel, "name": self.standin.directory.channel_name(channel)}
            if not ephemeral:  # Slack leaves the message out of payloads from ephemeral messages
                payload["message"] = MessageStore.api_shape(message, with_metadata=True)
            payload["state"] = {"values": {}}
            payload["response_url"] = response_url
        payload["actions"] = [action_entry(block, element, value)]
        return PreparedClick(urlencode({"payload": json.dumps(payload)}), payload, trigger_id, response_url)

    async def event(self, event: dict[str, Any], *, event_id: str | None = None, retry_num: int | None = None) -> Ack:
        """Deliver an Events API event_callback; retry_num adds Slack's retry headers."""
        now = int(self.clock())
        envelope = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "api_app_id": self.standin.app_id,
            "event": {"event_ts": f"{now}.{next(self._sequence):06d}", **event},
            "type": "event_callback",
            "event_id": event_id or f"Ev{secrets.token_hex(5).upper()}",
            "event_time": now,
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.team_id,
                    "user_id": self.standin.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": secrets.token_hex(16),
        }
        headers = {}
        if retry_num is not None:
            headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
        ack = await self.post(json.dumps(envelope), "application/json", headers=headers)
        ack.payload = envelope
        return ack

    async def open_home(self, user_id: str) -> Ack:
        """The person opens the app's Home tab."""
        dm = self.standin.directory.dm_id(user_id)
        return await self.event({"type": "app_home_opened", "user": user_id, "channel": dm, "tab": "home"})

    # --- the wire -------------------------------------------------------------------------------------

    def sign(self, body: str, timestamp: str | None = None) -> dict[str, str]:
        """The X-Slack-Request-Timestamp and X-Slack-Signature headers for body."""
        timestamp = timestamp or str(int(self.clock()))
        signature = self._verifier.generate_signature(timestamp=timestamp, body=body)
        return {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature}

    async def post(
        self, body: str, content_type: str, *, headers: dict[str, str] | None = None, signed: bool = True
    ) -> Ack:
        """POST a raw body to the app; headers given override the signature (to test tampering)."""
        all_headers = {"Content-Type": content_type, "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)"}
        if signed:
            all_headers.update(self.sign(body))
        all_headers.update(headers or {})
        session = self._client()
        sent_at = time.monotonic()
        async with session.post(self.events_url, data=body.encode(), headers=all_headers) as response:
            acked_at = time.monotonic()
            text = await response.text()
        elapsed = (acked_at - sent_at) * 1000
        return Ack(response.status, text, _parse_json(text), elapsed, sent_at=sent_at, acked_at=acked_at)

    def new_trigger_id(self, user_id: str) -> str:
        """A fresh trigger_id the stand-in will honour once, for the next few seconds."""
        trigger_id = f"{next(self._sequence)}{secrets.randbelow(10**6)}.{int(self.clock())}.{secrets.token_hex(16)}"
        self.standin.register_trigger(trigger_id, user_id)
        return trigger_id

    # --- internals ------------------------------------------------------------------------------------

    async def _post_payload(self, payload: dict[str, Any]) -> Ack:
        ack = await self.post(urlencode({"payload": json.dumps(payload)}), FORM)
        ack.payload = payload
        return ack

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        return self._session

    def _envelope(self, user_id: str, trigger_id: str | None) -> dict[str, Any]:
        name = self.standin.directory.user_name(user_id)
        envelope: dict[str, Any] = {
            "user": {"id": user_id, "username": name, "name": name, "team_id": self.team_id},
            "api_app_id": self.standin.app_id,
            "token": VERIFICATION_TOKEN,
            "team": {"id": self.team_id, "domain": self._team_domain()},
            "enterprise": None,
            "is_enterprise_install": False,
        }
        if trigger_id is not None:
            envelope["trigger_id"] = trigger_id
        return envelope

    def _team_domain(self) -> str:
        return self.standin.team_name.lower().replace(" ", "-")

    def _current_view(self, view: dict[str, Any]) -> dict[str, Any]:
        """The stand-in's latest copy of the view (tests may hold an older one)."""
        view_id = view.get("id")
        if not view_id:
            raise SimulatorError("the view has no id: pass the view the stand-in recorded (standin.views[...])")
        return clone(self.standin.views.get(view_id, view))

    def _check_open(self, user_id: str, view: dict[str, Any]) -> None:
        owner = self.standin.view_store.owners.get(view["id"])
        if owner is None or view.get("type") != "modal":
            return
        open_ids = [v["id"] for v in self.standin.open_views(user_id)]
        if owner != user_id or view["id"] not in open_ids:
            raise SimulatorError(f"view {view['id']} is not open for {user_id} (open: {open_ids})")

    def _response_urls(self, user_id: str, view: dict[str, Any]) -> list[dict[str, str]]:
        """response_url entries for conversation selects with response_url_enabled, as Slack adds them."""
        urls = []
        for block in view.get("blocks") or []:
            element = block.get("element") or {}
            if block.get("type") != "input" or not element.get("response_url_enabled"):
                continue
            entry = view["state"]["values"].get(block.get("block_id", ""), {}).get(element.get("action_id", ""), {})
            channel = entry.get("selected_conversation") or entry.get("selected_channel")
            if channel:
                url = self.standin.new_response_url(user_id, channel)
                urls.append(
                    {
                        "block_id": block["block_id"],
                        "action_id": element["action_id"],
                        "channel_id": channel,
                        "response_url": url,
                    }
                )
        return urls


def _parse_json(text: str) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return None
