"""Modals (a stack per user), home tabs and the trigger_ids that open them."""

from __future__ import annotations

import time
from typing import Any

from bot.standin.ids import IdMaker
from bot.standin.records import SlackError, Trigger, clone

MAX_STACK = 3
VIEW_FIELDS = (
    "type", "title", "blocks", "close", "submit", "private_metadata", "callback_id",
    "clear_on_close", "notify_on_close", "external_id", "submit_disabled",
)  # fmt: skip


class ViewStore:
    """Every view ever opened (by id), the open modal stack per user, each user's home tab."""

    def __init__(self, ids: IdMaker, team_id: str, app: dict[str, str], trigger_ttl: float | None) -> None:
        self._ids = ids
        self._team_id = team_id
        self._app = app  # app_id, bot_id
        self._trigger_ttl = trigger_ttl
        self.views: dict[str, dict[str, Any]] = {}
        self.owners: dict[str, str | None] = {}
        self.stacks: dict[str, list[str]] = {}
        self.homes: dict[str, str] = {}
        self.triggers: dict[str, Trigger] = {}
        self.opened_by: dict[str, str] = {}
        self.errors: dict[str, dict[str, str]] = {}

    def reset(self) -> None:
        for table in (self.views, self.owners, self.stacks, self.homes, self.triggers, self.opened_by, self.errors):
            table.clear()

    def register_trigger(self, trigger_id: str, user_id: str) -> None:
        self.triggers[trigger_id] = Trigger(user_id=user_id, issued_at=time.monotonic())

    def open(self, trigger_id: str, view: dict[str, Any]) -> dict[str, Any]:
        user_id = self._exchange(trigger_id)
        stored = self._store(view, user_id, root_view_id=None, previous_view_id=None)
        self._remember_trigger(trigger_id, stored["id"])
        if user_id is not None:
            self.stacks[user_id] = [stored["id"]]
        return clone(stored)

    def push(self, trigger_id: str, view: dict[str, Any]) -> dict[str, Any]:
        user_id = self._exchange(trigger_id)
        stack = self.stacks.get(user_id, []) if user_id is not None else []
        if len(stack) >= MAX_STACK:
            raise SlackError("push_limit_reached")
        root = stack[0] if stack else None
        stored = self._store(view, user_id, root_view_id=root, previous_view_id=stack[-1] if stack else None)
        self._remember_trigger(trigger_id, stored["id"])
        if user_id is not None:
            self.stacks.setdefault(user_id, []).append(stored["id"])
        return clone(stored)

    def push_over(self, user_id: str, view_id: str, view: dict[str, Any]) -> dict[str, Any]:
        """Push a view onto the stack holding view_id (response_action push)."""
        stack = self.stacks.setdefault(user_id, [])
        if len(stack) >= MAX_STACK:
            raise SlackError("push_limit_reached")
        root = self.views[view_id]["root_view_id"]
        stored = self._store(view, user_id, root_view_id=root, previous_view_id=view_id)
        stack.append(stored["id"])
        return clone(stored)

    def update(
        self, view: dict[str, Any], *, view_id: str | None, external_id: str | None, hash_: str | None
    ) -> dict[str, Any]:
        current = self.find(view_id=view_id, external_id=external_id)
        if hash_ and hash_ != current["hash"]:
            raise SlackError("hash_conflict")
        external = view.get("external_id")
        if external and external != current.get("external_id"):
            self._check_external_id_free(external)
        for key in VIEW_FIELDS:
            current[key] = clone(view.get(key, _default(key)))
        current["blocks"] = self._ids.filled_blocks(view.get("blocks") or [])
        current["state"] = {"values": {}}
        current["hash"] = self._ids.view_hash()
        self.errors.pop(current["id"], None)
        return clone(current)

    def publish(self, user_id: str, view: dict[str, Any], hash_: str | None) -> dict[str, Any]:
        if view.get("type") != "home":
            raise SlackError("invalid_arguments", detail="views.publish takes a view of type home")
        home_id = self.homes.get(user_id)
        if home_id is None:
            stored = self._store(view, user_id, root_view_id=None, previous_view_id=None)
            self.homes[user_id] = stored["id"]
            return clone(stored)
        return self.update(view, view_id=home_id, external_id=None, hash_=hash_)

    def find(self, *, view_id: str | None, external_id: str | None) -> dict[str, Any]:
        if view_id:
            found = self.views.get(view_id)
        elif external_id:
            found = next((v for v in self.views.values() if v.get("external_id") == external_id), None)
        else:
            raise SlackError("invalid_arguments", detail="view_id or external_id is required")
        if found is None:
            raise SlackError("not_found")
        return found

    def stack(self, user_id: str) -> list[dict[str, Any]]:
        return [clone(self.views[view_id]) for view_id in self.stacks.get(user_id, [])]

    def close(self, user_id: str, view_id: str, *, everything: bool = False) -> None:
        stack = self.stacks.get(user_id, [])
        if everything:
            stack.clear()
        elif view_id in stack:
            del stack[stack.index(view_id) :]

    def home(self, user_id: str) -> dict[str, Any] | None:
        home_id = self.homes.get(user_id)
        return clone(self.views[home_id]) if home_id else None

    def _exchange(self, trigger_id: str) -> str | None:
        """Use up a trigger_id. Triggers the simulator did not issue are accepted, for direct API tests."""
        if not trigger_id:
            raise SlackError("invalid_arguments", detail="trigger_id is required")
        trigger = self.triggers.get(trigger_id)
        if trigger is None:
            return None
        if trigger.view_id is not None:
            raise SlackError("exchanged_trigger_id")
        if self._trigger_ttl is not None and time.monotonic() - trigger.issued_at > self._trigger_ttl:
            raise SlackError("expired_trigger_id")
        trigger.view_id = "pending"
        return trigger.user_id

    def _remember_trigger(self, trigger_id: str, view_id: str) -> None:
        self.opened_by[trigger_id] = view_id
        if trigger_id in self.triggers:
            self.triggers[trigger_id].view_id = view_id

    def _store(
        self, view: dict[str, Any], user_id: str | None, *, root_view_id: str | None, previous_view_id: str | None
    ) -> dict[str, Any]:
        if view.get("external_id"):
            self._check_external_id_free(view["external_id"])
        view_id = self._ids.view_id()
        stored: dict[str, Any] = {"id": view_id, "team_id": self._team_id}
        for key in VIEW_FIELDS:
            stored[key] = clone(view.get(key, _default(key)))
        stored["blocks"] = self._ids.filled_blocks(view.get("blocks") or [])
        stored.update(
            state={"values": {}},
            hash=self._ids.view_hash(),
            root_view_id=root_view_id or view_id,
            previous_view_id=previous_view_id,
            app_installed_team_id=self._team_id,
            **self._app,
        )
        self.views[view_id] = stored
        self.owners[view_id] = user_id
        return stored

    def _check_external_id_free(self, external_id: str) -> None:
        if any(v.get("external_id") == external_id for v in self.views.values()):
            raise SlackError("duplicate_external_id")


def _default(key: str) -> Any:
    return {"private_metadata": "", "callback_id": "", "external_id": ""}.get(
        key, False if key in ("clear_on_close", "notify_on_close", "submit_disabled") else None
    )
