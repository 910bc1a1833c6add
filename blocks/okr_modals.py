"""OKR modals: propose an objective, check in on key results, comment, return with a reason."""

from __future__ import annotations

import json
from typing import Any

from blocks.okr_format import number
from blocks.okr_ids import UPDATE_VALUE_PREFIX, OkrCallback, OkrField
from blocks.text import truncate
from storage.okr_enums import ObjectiveLevel, Visibility

MAX_UPDATE_ROWS = 45


def _plain(text: str, limit: int = 75) -> dict[str, Any]:
    return {"type": "plain_text", "text": truncate(text, limit)}


def _input(block_id: str, label: str, element: dict[str, Any], *, optional: bool = False,
           hint: str | None = None) -> dict[str, Any]:
    block = {"type": "input", "block_id": block_id, "label": _plain(label, 2000),
             "element": {**element, "action_id": element.get("action_id", block_id)}, "optional": optional}
    if hint:
        block["hint"] = _plain(hint, 2000)
    return block


def _text_input(block_id: str, label: str, *, optional: bool = False, multiline: bool = False,
                max_length: int = 300, placeholder: str | None = None, hint: str | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "plain_text_input", "multiline": multiline, "max_length": max_length}
    if placeholder:
        element["placeholder"] = _plain(placeholder, 150)
    return _input(block_id, label, element, optional=optional, hint=hint)


def _option(value: str, label: str) -> dict[str, Any]:
    return {"text": _plain(label), "value": value}


def new_objective_modal(periods: list[Any], current_period_id: int | None) -> dict[str, Any]:
    period_options = [_option(str(p.id), p.name) for p in periods][:100]
    period_select: dict[str, Any] = {"type": "static_select", "options": period_options}
    initial = next((o for o in period_options if o["value"] == str(current_period_id)), None)
    if initial:
        period_select["initial_option"] = initial
    blocks = [
        _text_input(OkrField.TITLE, "Objective"),
        _input(OkrField.LEVEL, "Level", {"type": "static_select", "options": [
            _option(lv.value, lv.value.capitalize()) for lv in ObjectiveLevel]}),
        _input(OkrField.PERIOD, "Period", period_select),
        _input(OkrField.PARENT, "Aligns to", {"type": "external_select", "min_query_length": 0,
                                              "placeholder": _plain("Type to search objectives")},
               optional=True, hint="Company objectives align to nothing; everything else picks a parent."),
        _text_input(OkrField.DEPARTMENT, "Department", optional=True, max_length=80),
        _text_input(OkrField.TEAM, "Team", optional=True, max_length=80),
        _input(OkrField.VISIBILITY, "Visibility", {"type": "radio_buttons", "options": [
            _option(Visibility.PUBLIC, "Public"), _option(Visibility.PRIVATE, "Private (me and Admins)")],
            "initial_option": _option(Visibility.PUBLIC, "Public")}),
        {"type": "divider"},
        _text_input(OkrField.KR_TITLE, "First key result", optional=True),
        _text_input(OkrField.KR_START, "Start value", optional=True, max_length=20, placeholder="0"),
        _text_input(OkrField.KR_TARGET, "Target value", optional=True, max_length=20, placeholder="100"),
        _text_input(OkrField.KR_UNIT, "Unit", optional=True, max_length=40, placeholder="%"),
    ]
    return {"type": "modal", "callback_id": OkrCallback.NEW_OBJECTIVE, "title": _plain("New objective", 24),
            "submit": _plain("Submit", 24), "close": _plain("Cancel", 24), "blocks": blocks}


def update_modal(key_results: list[Any]) -> dict[str, Any]:
    """One optional value field per key result, each showing its last value; plus one note."""
    shown = key_results[:MAX_UPDATE_ROWS]
    blocks: list[dict[str, Any]] = []
    for kr in shown:
        last = kr.current_value if kr.current_value is not None else kr.start_value
        label = f"{kr.key} · {kr.title}"
        hint = f"Last value {number(last)} {kr.unit}, target {number(kr.target_value)}".strip()
        blocks.append(_text_input(f"{UPDATE_VALUE_PREFIX}{kr.id}", label, optional=True, max_length=20,
                                  placeholder=number(last), hint=hint))
    if not shown:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "_You own no key results yet._"}})
    else:
        blocks.append(_text_input(OkrField.NOTE, "Note", optional=True, multiline=True, max_length=3000))
    if len(key_results) > MAX_UPDATE_ROWS:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": (
            f"Showing {MAX_UPDATE_ROWS} of {len(key_results)}. Use `/okr update KEY VALUE` for the rest.")}]})
    view: dict[str, Any] = {"type": "modal", "callback_id": OkrCallback.UPDATE, "title": _plain("Check in", 24),
                            "close": _plain("Cancel", 24), "blocks": blocks}
    if shown:
        view["submit"] = _plain("Save", 24)
    return view


def comment_modal(objective: Any) -> dict[str, Any]:
    return {"type": "modal", "callback_id": OkrCallback.COMMENT, "title": _plain("Comment", 24),
            "submit": _plain("Post", 24), "close": _plain("Cancel", 24),
            "private_metadata": json.dumps({"objective_id": objective.id}),
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": truncate(
                f"*{objective.key}* {objective.title}", 3000)}},
                _input(OkrField.COMMENT, "Comment", {"type": "rich_text_input"},
                       hint="Mention people with @name to let them know.")]}


def return_modal(objective: Any, *, channel: str | None, ts: str | None) -> dict[str, Any]:
    return {"type": "modal", "callback_id": OkrCallback.RETURN, "title": _plain("Return objective", 24),
            "submit": _plain("Return", 24), "close": _plain("Cancel", 24),
            "private_metadata": json.dumps({"objective_id": objective.id, "channel": channel, "ts": ts}),
            "blocks": [_text_input(OkrField.REASON, f"Why return {objective.key}?", multiline=True,
                                   max_length=1000)]}
