"""What a person's input looks like inside Slack payloads: view state values and block action entries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any


class SimulatorError(ValueError):
    """The simulated person tried something Slack's client would not let them do."""


_MISSING: Any = object()

# element type -> (state key, key of its initial value, empty value)
SELECTION_KEYS: dict[str, tuple[str, str, Any]] = {
    "plain_text_input": ("value", "initial_value", None),
    "email_text_input": ("value", "initial_value", None),
    "url_text_input": ("value", "initial_value", None),
    "number_input": ("value", "initial_value", None),
    "datepicker": ("selected_date", "initial_date", None),
    "timepicker": ("selected_time", "initial_time", None),
    "datetimepicker": ("selected_date_time", "initial_date_time", None),
    "users_select": ("selected_user", "initial_user", None),
    "multi_users_select": ("selected_users", "initial_users", []),
    "conversations_select": ("selected_conversation", "initial_conversation", None),
    "multi_conversations_select": ("selected_conversations", "initial_conversations", []),
    "channels_select": ("selected_channel", "initial_channel", None),
    "multi_channels_select": ("selected_channels", "initial_channels", []),
    "static_select": ("selected_option", "initial_option", None),
    "external_select": ("selected_option", "initial_option", None),
    "radio_buttons": ("selected_option", "initial_option", None),
    "overflow": ("selected_option", "", None),
    "multi_static_select": ("selected_options", "initial_options", []),
    "multi_external_select": ("selected_options", "initial_options", []),
    "checkboxes": ("selected_options", "initial_options", []),
    "rich_text_input": ("rich_text_value", "initial_value", None),
    "file_input": ("files", "", []),
}


def elements_of(block: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The interactive elements of a block: its accessory, its input element, its actions."""
    for key in ("accessory", "element"):
        if isinstance(block.get(key), dict):
            yield block[key]
    if block.get("type") in ("actions", "context_actions"):
        yield from (e for e in block.get("elements") or [] if isinstance(e, dict))


def state_entry(element: dict[str, Any], value: Any = _MISSING) -> dict[str, Any]:
    """The element's entry in state.values: what was typed or picked, else its initial value."""
    element_type = element.get("type", "")
    if element_type not in SELECTION_KEYS:
        raise SimulatorError(f"a {element_type or 'typeless'} element holds no value")
    key, initial_key, empty = SELECTION_KEYS[element_type]
    if value is _MISSING or value is None:
        initial = element.get(initial_key, empty) if initial_key else empty
        if element_type == "number_input" and initial is not None:
            initial = str(initial)
        return {"type": element_type, key: initial}
    return {"type": element_type, key: _natural_to_slack(element, value)}


def is_empty(entry: dict[str, Any]) -> bool:
    return all(v in (None, "", []) for k, v in entry.items() if k != "type")


def _natural_to_slack(element: dict[str, Any], value: Any) -> Any:
    element_type = element["type"]
    if element_type in ("plain_text_input", "email_text_input", "url_text_input"):
        text = str(value)
        if len(text) > element.get("max_length", 3000):
            raise SimulatorError(
                f"{element.get('action_id')}: {len(text)} characters; the field stops at "
                f"{element.get('max_length', 3000)}"
            )
        if len(text) < element.get("min_length", 0):
            raise SimulatorError(f"{element.get('action_id')}: needs at least {element['min_length']} characters")
        return text
    if element_type == "number_input":
        return str(value)
    if element_type == "datepicker":
        return value.isoformat() if isinstance(value, dt.date) else str(value)
    if element_type == "datetimepicker":
        return int(value.timestamp()) if isinstance(value, dt.datetime) else int(value)
    if element_type == "timepicker":
        return value.strftime("%H:%M") if isinstance(value, dt.time) else str(value)
    if element_type.startswith("multi_") or element_type == "checkboxes":
        values = [value] if isinstance(value, str | dict) else list(value)
        if element_type in ("multi_static_select", "checkboxes", "multi_external_select"):
            return [_option(element, v) for v in values]
        return [str(v) for v in values]
    if element_type in ("static_select", "radio_buttons", "overflow", "external_select"):
        return _option(element, value)
    if element_type == "rich_text_input":
        return _rich_text(str(value))
    if element_type == "file_input":
        return list(value)
    return str(value)


def _option(element: dict[str, Any], value: Any) -> dict[str, Any]:
    """The option object whose value (or, failing that, label) is value; external selects make one up."""
    if isinstance(value, dict):
        return value
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options.extend(group.get("options") or [])
    if element["type"] in ("external_select", "multi_external_select") and not options:
        return {"text": {"type": "plain_text", "text": str(value), "emoji": True}, "value": str(value)}
    for option in options:
        if option.get("value") == str(value):
            return option
    for option in options:
        if option.get("text", {}).get("text") == str(value):
            return option
    choices = [o.get("value") for o in options]
    raise SimulatorError(f"{element.get('action_id')}: no option {value!r}; the choices are {choices}")


def _rich_text(text: str) -> dict[str, Any]:
    section = {"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}
    return {"type": "rich_text", "elements": [section]}


def view_state(view: dict[str, Any], values: dict[str, Any], *, require: bool) -> dict[str, Any]:
    """state.values for a view: every stateful element, holding the given value (by block_id or
    action_id) or its initial one; with require, empty required inputs raise as Slack's client refuses."""
    unused = set(values)
    state: dict[str, dict[str, Any]] = {}
    for block in view.get("blocks") or []:
        block_id = block.get("block_id", "")
        for element in elements_of(block):
            if element.get("type") not in SELECTION_KEYS:
                continue
            action_id = element.get("action_id", "")
            key = block_id if block_id in values else action_id if action_id in values else None
            unused.discard(key)
            entry = state_entry(element, values[key] if key is not None else _MISSING)
            if require and block.get("type") == "input" and not block.get("optional") and is_empty(entry):
                label = block.get("label", {}).get("text", block_id)
                raise SimulatorError(f"required field {label!r} (block_id {block_id!r}) was left empty")
            state.setdefault(block_id, {})[action_id] = entry
    if unused:
        known = [b.get("block_id") for b in view.get("blocks") or [] if any(True for _ in elements_of(b))]
        raise SimulatorError(f"no field {sorted(unused)} in view {view.get('id')}; its blocks are {known}")
    return state


def find_element(blocks: list[dict[str, Any]], action_id: str, block_id: str | None, value: Any):
    """(block, element) for the element with action_id; block_id or a button's value tell look-alikes apart."""
    found = [
        (block, element)
        for block in blocks
        for element in elements_of(block)
        if element.get("action_id") == action_id and block_id in (None, block.get("block_id"))
    ]
    if len(found) > 1 and value is not None:
        found = [(b, e) for b, e in found if e.get("type") != "button" or e.get("value") == value] or found
    if not found:
        present = sorted({e.get("action_id") for b in blocks for e in elements_of(b) if e.get("action_id")})
        raise SimulatorError(f"no element with action_id {action_id!r} (block_id {block_id}); present: {present}")
    if len(found) > 1:
        where = [b.get("block_id") for b, _ in found]
        raise SimulatorError(f"action_id {action_id!r} is in several blocks {where}; pass block_id or value")
    return found[0]


def action_entry(block: dict[str, Any], element: dict[str, Any], value: Any) -> dict[str, Any]:
    """One entry of a block_actions payload's actions list."""
    base = {"block_id": block.get("block_id", ""), "action_id": element.get("action_id", "")}
    if element.get("type") in ("button", "workflow_button"):
        entry = {"type": element["type"], **base, "text": element.get("text")}
        if "value" in element:
            entry["value"] = element["value"]
        if "style" in element:
            entry["style"] = element["style"]
    else:
        entry = {**state_entry(element, value), **base}
    entry["action_ts"] = f"{dt.datetime.now(dt.UTC).timestamp():.6f}"
    return entry
