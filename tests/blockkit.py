"""Block Kit validator for tests: the community JSON Schema in ../shared plus Slack's payload-level rules.

The schema (see shared/specs/slack-block-kit/SOURCE.txt) checks one block at a time and lets an array
hold 100 blocks; the rules it cannot express are added here: 50 blocks per message, unique block_ids,
unique action_ids within a block, one table and two charts per message, 12,000 markdown characters,
surface restrictions, and initial values that must agree with their element.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

SHARED = Path(__file__).resolve().parents[2] / "shared"
SCHEMA_PATH = SHARED / "specs" / "slack-block-kit" / "slack-block-kit.schema.json"

MAX_BLOCKS = {"message": 50, "modal": 100, "home": 100}
MAX_MESSAGE_TEXT = 40_000
MAX_MARKDOWN_TOTAL = 12_000
MAX_CHARTS_PER_MESSAGE = 2
TABLE_TYPES = ("table", "data_table")
# Where a block type may appear, per the schema's descriptions; types not listed may appear anywhere.
SURFACES = {
    "container": {"message", "home"},
    "data_visualization": {"message", "home"},
    "file": set(),  # only appears in messages Slack itself returns
}
MODAL_ONLY_ELEMENTS = {"file_input"}
INSTANCE_PREVIEW = 60

ValidatorFn = Callable[[str, dict[str, Any]], list[str]]


def load_validator(schema_path: Path = SCHEMA_PATH) -> ValidatorFn:
    """A validator(kind, payload) -> errors; kind "message" takes {"blocks": [...]}, "modal"/"home" a view."""
    schema = json.loads(schema_path.read_text())
    return BlockKitValidator(schema)


@cache
def default_validator() -> ValidatorFn:
    return load_validator()


class BlockKitValidator:
    """Validates each block against the schema for its own type, so errors name the field at fault."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self._defs: dict[str, Any] = schema["$defs"]
        self._dialect = schema.get("$schema", "https://json-schema.org/draft/2020-12/schema")
        self._block_checkers = {
            block_type: self._checker({"$ref": f"#/$defs/{name}"}) for block_type, name in self._block_defs()
        }
        self._view_checkers = {
            kind: self._checker(self._view_without_block_items(f"{kind}_view")) for kind in ("modal", "home")
        }

    def __call__(self, kind: str, payload: dict[str, Any] | list[Any]) -> list[str]:
        if kind not in MAX_BLOCKS:
            return [f"unknown surface kind {kind!r} (expected message, modal or home)"]
        if isinstance(payload, list):  # a bare blocks array is accepted for messages
            payload = {"blocks": payload}
        blocks = payload.get("blocks")
        errors: list[str] = []
        if kind == "message":
            text = payload.get("text")
            if isinstance(text, str) and len(text) > MAX_MESSAGE_TEXT:
                errors.append(f"text: {len(text)} characters, more than the {MAX_MESSAGE_TEXT} allowed")
            if blocks is None:
                return errors
        else:
            errors.extend(_messages(self._view_checkers[kind].iter_errors(payload), "view"))
        if not isinstance(blocks, list):
            return errors + ["blocks: must be an array of blocks"]
        if kind == "message" and not blocks:
            errors.append("blocks: must hold at least one block when given")
        if len(blocks) > MAX_BLOCKS[kind]:
            errors.append(f"blocks: {len(blocks)} blocks, more than the {MAX_BLOCKS[kind]} a {kind} may hold")
        for index, block in enumerate(blocks):
            errors.extend(self._block_errors(kind, block, f"blocks[{index}]"))
        errors.extend(_payload_rules(kind, blocks))
        return errors

    # --- per block ------------------------------------------------------------------------------------

    def _block_errors(self, kind: str, block: Any, where: str) -> list[str]:
        if not isinstance(block, dict):
            return [f"{where}: a block must be an object"]
        block_type = block.get("type")
        checker = self._block_checkers.get(block_type)  # type: ignore[arg-type]
        if checker is None:
            return [f"{where}: unknown block type {block_type!r}"]
        errors = _messages(checker.iter_errors(block), where)
        if block_type in SURFACES and kind not in SURFACES[block_type]:
            errors.append(f"{where}: a {block_type} block cannot be used in a {kind}")
        errors.extend(_element_rules(kind, block, where))
        return errors

    # --- schema plumbing ------------------------------------------------------------------------------

    def _checker(self, root: dict[str, Any]) -> Draft202012Validator:
        return Draft202012Validator({"$schema": self._dialect, "$defs": self._defs, **root})

    def _block_defs(self) -> Iterable[tuple[str, str]]:
        for ref in self._defs["block"]["oneOf"]:
            name = ref["$ref"].rsplit("/", 1)[-1]
            yield self._defs[name]["properties"]["type"]["const"], name

    def _view_without_block_items(self, name: str) -> dict[str, Any]:
        """The view schema with block items unchecked: blocks are checked one by one, for clearer errors."""
        view = json.loads(json.dumps(self._defs[name]))
        view["properties"]["blocks"].pop("items", None)
        return view


def _element_rules(kind: str, block: dict[str, Any], where: str) -> list[str]:
    errors: list[str] = []
    elements = _elements(block)
    action_ids = Counter(e.get("action_id") for e in elements if e.get("action_id"))
    for action_id, count in action_ids.items():
        if count > 1:
            errors.append(f"{where}: action_id {action_id!r} is used {count} times in one block")
    for element in elements:
        element_type = element.get("type")
        if element_type in MODAL_ONLY_ELEMENTS and kind != "modal":
            errors.append(f"{where}: a {element_type} element can only be used in a modal")
        errors.extend(_initial_value_errors(element, where))
    return errors


def _initial_value_errors(element: dict[str, Any], where: str) -> list[str]:
    """Slack rejects an initial value its element could not hold."""
    errors: list[str] = []
    value = element.get("initial_value")
    if element.get("type") == "plain_text_input" and isinstance(value, str):
        if "max_length" in element and len(value) > element["max_length"]:
            errors.append(f"{where}: initial_value is longer than max_length {element['max_length']}")
    options = element.get("options") or [o for g in element.get("option_groups") or [] for o in g.get("options", [])]
    if not options or element.get("type") in ("overflow", "external_select", "multi_external_select"):
        return errors
    chosen = [element["initial_option"]] if "initial_option" in element else list(element.get("initial_options", []))
    for option in chosen:
        if option not in options:
            errors.append(f"{where}: initial option {option.get('value')!r} does not exactly match one of the options")
    return errors


def _elements(block: dict[str, Any]) -> list[dict[str, Any]]:
    found = [block[key] for key in ("accessory", "element") if isinstance(block.get(key), dict)]
    if block.get("type") in ("actions", "context_actions"):
        found.extend(e for e in block.get("elements") or [] if isinstance(e, dict))
    return found


def _payload_rules(kind: str, blocks: list[Any]) -> list[str]:
    """Rules across the blocks of one payload."""
    errors: list[str] = []
    seen: dict[str, list[int]] = defaultdict(list)
    for index, block in enumerate(blocks):
        if isinstance(block, dict) and isinstance(block.get("block_id"), str):
            seen[block["block_id"]].append(index)
    for block_id, where in seen.items():
        if len(where) > 1:
            shown = ", ".join(map(str, where[:5])) + (", …" if len(where) > 5 else "")
            errors.append(f"blocks[{shown}]: duplicate block_id {block_id!r} ({len(where)} blocks use it)")
    types = Counter(b.get("type") for b in blocks if isinstance(b, dict))
    markdown = sum(len(b.get("text") or "") for b in blocks if isinstance(b, dict) and b.get("type") == "markdown")
    if markdown > MAX_MARKDOWN_TOTAL:
        errors.append(f"markdown blocks hold {markdown} characters, more than the {MAX_MARKDOWN_TOTAL} allowed")
    if kind == "message":
        if sum(types[t] for t in TABLE_TYPES) > 1:
            errors.append("only one table is allowed per message")
        if types["data_visualization"] > MAX_CHARTS_PER_MESSAGE:
            errors.append(f"at most {MAX_CHARTS_PER_MESSAGE} data_visualization blocks are allowed per message")
    return errors


# --- turning jsonschema errors into one line each ---------------------------------------------------------


def _messages(errors: Iterable[ValidationError], where: str) -> list[str]:
    lines: list[str] = []
    for error in sorted(errors, key=lambda e: list(map(str, e.absolute_path))):
        for leaf in _explain(error):
            line = _describe(leaf, where)
            if line not in lines:
                lines.append(line)
    return lines


def _explain(error: ValidationError) -> list[ValidationError]:
    """Descend a oneOf/anyOf into the branch whose `type` matches the instance, or the best guess."""
    if error.validator not in ("oneOf", "anyOf") or not error.context:
        return [error]
    branches: dict[Any, list[ValidationError]] = defaultdict(list)
    for sub in error.context:
        branches[sub.relative_schema_path[0]].append(sub)
    instance = error.instance
    if isinstance(instance, dict) and "type" in instance:
        matching = [subs for subs in branches.values() if not any(_type_mismatch(s) for s in subs)]
        if len(matching) == 1:
            return [leaf for sub in matching[0] for leaf in _explain(sub)]
        if not matching:
            error.message = f"type {instance['type']!r} is not allowed here"
            return [error]
    best = best_match(error.context)
    return _explain(best) if best is not None else [error]


def _type_mismatch(error: ValidationError) -> bool:
    return list(error.relative_path) == ["type"] and error.validator in ("const", "enum")


def _describe(error: ValidationError, where: str) -> str:
    path = where + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    instance = error.instance
    if error.validator == "maxLength" and isinstance(instance, str):
        return f"{path}: {len(instance)} characters, more than the {error.validator_value} allowed"
    if error.validator == "minLength" and isinstance(instance, str):
        return f"{path}: must be at least {error.validator_value} character(s) long"
    if error.validator == "maxItems" and isinstance(instance, list):
        return f"{path}: {len(instance)} items, more than the {error.validator_value} allowed"
    message = error.message
    if len(message) > 200:
        message = message[:200] + "…"
    return f"{path}: {message}"
