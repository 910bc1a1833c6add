"""What a person does on the sandbox page, turned into what Slack would send the app (through the simulator)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.standin.api import SlackStandIn
from bot.standin.messages import MessageStore
from bot.standin.simulator import Ack, SimulatorError, SlackSimulator
from bot.standin.state import find_element, view_state

MAX_OPTIONS = 100  # what Slack shows of an options answer


class ActionError(ValueError):
    """Something Slack's client would refuse or report; the message is shown on the page."""


@dataclass
class Outcome:
    """What the page learns from one action: whether the app answered, and any field errors."""

    ok: bool
    error: str | None = None
    errors: dict[str, str] | None = None

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": self.ok}
        if self.error:
            body["error"] = self.error
        if self.errors:
            body["errors"] = self.errors
        return body


def split_command(text: str) -> tuple[str, str]:
    """("/launch", "status Smart Search") from "/launch status Smart Search"."""
    command, _, rest = text.strip().partition(" ")
    return command.lower(), rest.strip()


def _answered(ack: Ack, what: str) -> Outcome:
    """Slack shows a failed request as an error line; an app that answers 200 has done its part."""
    if ack.status == 200:
        return Outcome(ok=True)
    if ack.status == 404:
        return Outcome(ok=False, error=f"{what} failed: the app does not handle it (HTTP 404)")
    return Outcome(ok=False, error=f"{what} failed with the error \"dispatch_failed\" (HTTP {ack.status})")


def options_of(answer: Any) -> list[dict[str, Any]]:
    """The options of an options-load answer, groups flattened, at most MAX_OPTIONS."""
    if not isinstance(answer, dict):
        return []
    options = list(answer.get("options") or [])
    for group in answer.get("option_groups") or []:
        options.extend(group.get("options") or [])
    return [o for o in options if isinstance(o, dict) and "value" in o][:MAX_OPTIONS]


class PersonActions:
    """Slash commands, messages, modal submissions, clicks and Home tab visits, as one person."""

    def __init__(self, standin: SlackStandIn, simulator: SlackSimulator) -> None:
        self.standin = standin
        self.simulator = simulator

    def _check_person(self, user_id: str) -> None:
        if user_id not in self.standin.directory.users:
            raise ActionError(f"no person {user_id!r} in this workspace")

    async def send(self, user_id: str, channel_id: str, text: str) -> Outcome:
        """The composer: a slash command goes to the app; other text is posted to the conversation."""
        self._check_person(user_id)
        if channel_id.startswith("D"):
            channel_id = self.standin.directory.dm_id(user_id)
        elif channel_id not in self.standin.directory.channels:
            raise ActionError(f"no channel {channel_id!r}")
        text = text.strip()
        if not text:
            raise ActionError("type a message or a slash command")
        if not text.startswith("/"):
            self.standin.message_store.post(channel_id, text=text, user=user_id)
            return Outcome(ok=True)
        command, rest = split_command(text)
        ack = await self.simulator.slash_command(user_id, command, rest, channel_id=channel_id)
        if ack.status == 200 and isinstance(ack.json, dict) and (ack.json.get("text") or ack.json.get("blocks")):
            # An app may answer in the ack itself; Slack shows that answer only to the person.
            self.standin.message_store.post_ephemeral(
                channel_id, user_id, text=ack.json.get("text") or "", blocks=ack.json.get("blocks"), source="ack"
            )
        elif ack.status == 200 and ack.body.strip() and ack.json is None:
            self.standin.message_store.post_ephemeral(channel_id, user_id, text=ack.body, blocks=None, source="ack")
        return _answered(ack, command)

    async def submit(self, user_id: str, view_id: str, values: dict[str, Any]) -> Outcome:
        view = self._open_view(user_id, view_id)
        try:
            ack = await self.simulator.submit_view(user_id, view, values)
        except SimulatorError as exc:
            raise ActionError(str(exc)) from exc
        outcome = _answered(ack, "Submitting the form")
        outcome.errors = self.standin.view_errors(view_id) or None
        return outcome

    async def close(self, user_id: str, view_id: str) -> Outcome:
        view = self._open_view(user_id, view_id)
        ack = await self.simulator.close_view(user_id, view)
        return _answered(ack, "Closing the form") if ack is not None else Outcome(ok=True)

    async def click(self, user_id: str, target: dict[str, Any]) -> Outcome:
        """A button press or a pick in a message, an ephemeral message, a modal or the Home tab."""
        self._check_person(user_id)
        action_id = str(target.get("action_id") or "")
        block_id = target.get("block_id") or None
        value = target.get("value")
        try:
            if target.get("view_id"):
                view = self.standin.views.get(str(target["view_id"]))
                if view is None:
                    raise ActionError("that view is gone")
                ack = await self.simulator.click(
                    user_id, action_id=action_id, value=value, view=view, block_id=block_id
                )
            else:
                message = self._message(user_id, str(target.get("channel") or ""), str(target.get("ts") or ""))
                ack = await self.simulator.click(
                    user_id, action_id=action_id, value=value, message=message,
                    channel_id=message["channel"], block_id=block_id,
                )
        except SimulatorError as exc:
            raise ActionError(str(exc)) from exc
        return _answered(ack, "That action")

    async def suggest(self, user_id: str, target: dict[str, Any]) -> list[dict[str, Any]]:
        """What an external select offers for what the person typed: Slack asks the app (block_suggestion) and
        shows the options (or option groups) it answers with."""
        self._check_person(user_id)
        action_id = str(target.get("action_id") or "")
        block_id = target.get("block_id") or None
        typed = str(target.get("value") or "")
        payload: dict[str, Any] = {"type": "block_suggestion", **self.simulator._envelope(user_id, None),
                                   "action_id": action_id, "block_id": block_id, "value": typed}
        try:
            if target.get("view_id"):
                view = self.standin.views.get(str(target["view_id"]))
                if view is None:
                    raise ActionError("that view is gone")
                find_element(view.get("blocks") or [], action_id, block_id, None)
                payload["container"] = {"type": "view", "view_id": view["id"]}
                payload["view"] = {**view, "state": {"values": view_state(view, {}, require=False)}}
            else:
                message = self._message(user_id, str(target.get("channel") or ""), str(target.get("ts") or ""))
                find_element(message.get("blocks") or [], action_id, block_id, None)
                payload["container"] = {"type": "message", "message_ts": message["ts"],
                                        "channel_id": message["channel"], "is_ephemeral": "visible_to" in message}
                payload["channel"] = {"id": message["channel"]}
                payload["message"] = MessageStore.api_shape(message, with_metadata=True)
        except SimulatorError as exc:
            raise ActionError(str(exc)) from exc
        ack = await self.simulator._post_payload(payload)  # signed, as form-encoded `payload=`, like block_actions
        answered = _answered(ack, "Loading the options")
        if not answered.ok:
            raise ActionError(answered.error or "the app did not answer")
        return options_of(ack.json)

    async def open_home(self, user_id: str) -> Outcome:
        self._check_person(user_id)
        return _answered(await self.simulator.open_home(user_id), "Opening the Home tab")

    def _open_view(self, user_id: str, view_id: str) -> dict[str, Any]:
        self._check_person(user_id)
        open_ids = [v["id"] for v in self.standin.open_views(user_id)]
        if view_id not in open_ids:
            raise ActionError("that form is no longer open")
        return self.standin.views[view_id]

    def _message(self, user_id: str, channel_id: str, ts: str) -> dict[str, Any]:
        if channel_id.startswith("D"):
            channel_id = self.standin.directory.dm_id(user_id)
        for message in self.standin.ephemerals(user_id):
            if message["ts"] == ts:
                return message
        for message in self.standin.messages(channel_id):
            if message["ts"] == ts:
                return message
        raise ActionError("that message is gone")
