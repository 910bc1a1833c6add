"""Block Kit as readable text: roughly what Slack would show, for `liftoff demo`, logs and test failures."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from typing import Any

RULE = "-" * 40
BLANK = "______"
PICKER_HINTS = {"datepicker": "yyyy-mm-dd", "timepicker": "hh:mm", "datetimepicker": "yyyy-mm-dd hh:mm"}
PICKED_KEYS = (
    ("initial_user", "@"),
    ("initial_users", "@"),
    ("initial_conversation", "#"),
    ("initial_conversations", "#"),
    ("initial_channel", "#"),
    ("initial_channels", "#"),
)
_LINK = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>")

Names = Mapping[str, str]


def render_blocks(blocks: list[dict[str, Any]], names: Names | None = None) -> str:
    """The blocks, one after another; unknown block types show as a visible placeholder."""
    names = names or {}
    return "\n".join(_block(block, names) for block in blocks)


def render_view(view: dict[str, Any], names: Names | None = None) -> str:
    """A modal (title, blocks, buttons) or a Home tab."""
    names = names or {}
    if view.get("type") == "home":
        return "\n".join(["=== Home ===", render_blocks(view.get("blocks") or [], names)])
    title = _plain(view.get("title"))
    buttons = [f"[{_plain(view.get('close')) or 'Cancel'}]"]
    if view.get("submit"):
        buttons.append(f"[{_plain(view['submit'])}]")
    return "\n".join([f"=== {title} ===", render_blocks(view.get("blocks") or [], names), " ".join(buttons)])


def render_message(message: dict[str, Any], names: Names | None = None) -> str:
    """A message's blocks, or its text when it has none (as Slack falls back), plus attached files."""
    names = names or {}
    body = render_blocks(message["blocks"], names) if message.get("blocks") else mrkdwn(message.get("text"), names)
    files = [f"[file: {f.get('title') or f.get('name')}]" for f in message.get("files") or []]
    return "\n".join([body, *files]) if files else body


def mrkdwn(text: str | None, names: Names | None = None) -> str:
    """Slack's mrkdwn with mentions, channel links, special mentions and <url|label> links made readable."""
    names = names or {}

    def link(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if target.startswith("@"):
            return "@" + (label or names.get(target[1:], target[1:]))
        if target.startswith("#"):
            return "#" + (label or names.get(target[1:], target[1:]))
        if target.startswith("!subteam^"):
            return label or "@" + target.split("^", 1)[1]
        if target.startswith("!date^"):
            return label or target
        if target.startswith("!"):
            return "@" + target[1:]
        return label or target

    return html.unescape(_LINK.sub(link, text or ""))


# --- blocks -------------------------------------------------------------------------------------------------


def _block(block: dict[str, Any], names: Names) -> str:
    renderer = _BLOCKS.get(block.get("type", ""))
    if renderer is None:
        return f"[unsupported block: {block.get('type')}]"
    return renderer(block, names)


def _header(block: dict[str, Any], names: Names) -> str:
    text = _plain(block.get("text")).upper()
    return f"{text}\n{'=' * len(text)}"


def _section(block: dict[str, Any], names: Names) -> str:
    lines = [_text(block["text"], names)] if block.get("text") else []
    # Slack lays fields out in two columns; one per line, each on a single line, reads better as text.
    lines.extend(" ".join(_text(f, names).split("\n")) for f in block.get("fields") or [])
    accessory = block.get("accessory")
    if accessory:
        rendered = _element(accessory, names)
        if "\n" in rendered or not lines:
            lines.append(rendered)
        else:
            lines[-1] = f"{lines[-1]}  {rendered}"
    return "\n".join(lines)


def _context(block: dict[str, Any], names: Names) -> str:
    return " | ".join(_element(e, names) for e in block.get("elements") or [])


def _actions(block: dict[str, Any], names: Names) -> str:
    return " ".join(_element(e, names) for e in block.get("elements") or [])


def _input(block: dict[str, Any], names: Names) -> str:
    label = _plain(block.get("label")) + (" (optional)" if block.get("optional") else "")
    element = _element(block.get("element") or {}, names)
    lines = [f"{label}:\n{_indent(element)}" if "\n" in element else f"{label}: {element}"]
    if block.get("hint"):
        lines.append(f"  ({_plain(block['hint'])})")
    return "\n".join(lines)


def _image(block: dict[str, Any], names: Names) -> str:
    title = f" {_plain(block['title'])}" if block.get("title") else ""
    return f"[image: {block.get('alt_text', '')}]{title}"


def _rich_text(block: dict[str, Any], names: Names) -> str:
    return "\n".join(_rich_container(c, names) for c in block.get("elements") or [])


def _markdown(block: dict[str, Any], names: Names) -> str:
    return mrkdwn(block.get("text"), names)


def _table(block: dict[str, Any], names: Names) -> str:
    return "\n".join(" | ".join(_cell(cell, names) for cell in row) for row in block.get("rows") or [])


def _alert(block: dict[str, Any], names: Names) -> str:
    return f"[{block.get('level', 'default')}] {_text(block.get('text'), names)}"


def _container(block: dict[str, Any], names: Names) -> str:
    title = _plain(block.get("title")) or _rich_text(block.get("rich_text_title") or {}, names)
    return f"{title}\n{_indent(render_blocks(block.get('child_blocks') or [], dict(names)))}"


def _video(block: dict[str, Any], names: Names) -> str:
    return f"[video: {_plain(block.get('title')) or block.get('alt_text', '')}]"


_BLOCKS: dict[str, Callable[[dict[str, Any], Names], str]] = {
    "header": _header,
    "section": _section,
    "divider": lambda block, names: RULE,
    "context": _context,
    "actions": _actions,
    "input": _input,
    "image": _image,
    "rich_text": _rich_text,
    "markdown": _markdown,
    "table": _table,
    "alert": _alert,
    "container": _container,
    "video": _video,
    "file": lambda block, names: "[file]",
}


# --- elements -----------------------------------------------------------------------------------------------


def _element(element: dict[str, Any], names: Names) -> str:
    kind = element.get("type", "")
    if kind in ("plain_text", "mrkdwn"):
        return _text(element, names)
    if kind == "image":
        return f"[image: {element.get('alt_text', '')}]"
    if kind in ("button", "workflow_button"):
        return f"[{_plain(element.get('text'))}]"
    if kind == "overflow":
        return "[...: " + ", ".join(_plain(o.get("text")) for o in element.get("options") or []) + "]"
    if kind in ("checkboxes", "radio_buttons"):
        return _choices(element, names)
    if kind.endswith("_select"):
        return _select(element, names)
    if kind.endswith("input"):
        value = element.get("initial_value")
        return f"[{value}]" if isinstance(value, str) and value else BLANK
    if kind in ("datepicker", "timepicker", "datetimepicker"):
        initial = element.get("initial_date") or element.get("initial_time") or element.get("initial_date_time")
        return f"[{initial or _plain(element.get('placeholder')) or PICKER_HINTS[kind]}]"
    return f"[unsupported element: {kind}]"


def _select(element: dict[str, Any], names: Names) -> str:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options.extend(group.get("options") or [])
    listed = f" (options: {', '.join(_plain(o.get('text')) for o in options)})" if options else ""
    return f"[{_selection(element, names)} v]{listed}"


def _selection(element: dict[str, Any], names: Names) -> str:
    """What the select shows before anyone touches it: its initial choice(s), else its placeholder."""
    chosen = [element["initial_option"]] if element.get("initial_option") else element.get("initial_options") or []
    if chosen:
        return ", ".join(_plain(o.get("text")) for o in chosen)
    for key, prefix in PICKED_KEYS:
        picked = element.get(key)
        if picked:
            ids = picked if isinstance(picked, list) else [picked]
            return ", ".join(prefix + names.get(i, i) for i in ids)
    return _plain(element.get("placeholder")) or "Select"


def _choices(element: dict[str, Any], names: Names) -> str:
    checked = {o.get("value") for o in element.get("initial_options") or []}
    if element.get("initial_option"):
        checked.add(element["initial_option"].get("value"))
    box = ("[x]", "[ ]") if element["type"] == "checkboxes" else ("(o)", "( )")
    return "\n".join(
        f"{box[0] if o.get('value') in checked else box[1]} {_text(o.get('text'), names)}"
        for o in element.get("options") or []
    )


# --- text ---------------------------------------------------------------------------------------------------


def _plain(obj: Any) -> str:
    if isinstance(obj, dict):
        return str(obj.get("text", ""))
    return str(obj) if obj else ""


def _text(obj: Any, names: Names) -> str:
    if isinstance(obj, dict) and obj.get("type") == "mrkdwn":
        return mrkdwn(obj.get("text"), names)
    return _plain(obj)


def _cell(cell: dict[str, Any], names: Names) -> str:
    if cell.get("type") == "rich_text":
        return _rich_text(cell, names)
    return str(cell.get("text", ""))


def _rich_container(container: dict[str, Any], names: Names) -> str:
    kind = container.get("type")
    if kind == "rich_text_list":
        ordered = container.get("style") == "ordered"
        indent = "  " * int(container.get("indent", 0))
        items = [_rich_container(item, names) for item in container.get("elements") or []]
        return "\n".join(f"{indent}{f'{n}.' if ordered else '•'} {item}" for n, item in enumerate(items, 1))
    text = "".join(_rich_leaf(leaf, names) for leaf in container.get("elements") or [])
    if kind == "rich_text_preformatted":
        return f"```\n{text}\n```"
    if kind == "rich_text_quote":
        return "\n".join(f"> {line}" for line in text.split("\n"))
    return text


def _rich_leaf(leaf: dict[str, Any], names: Names) -> str:
    kind = leaf.get("type")
    if kind == "text":
        return str(leaf.get("text", ""))
    if kind == "link":
        return str(leaf.get("text") or leaf.get("url", ""))
    if kind == "user":
        return "@" + names.get(leaf.get("user_id", ""), leaf.get("user_id", ""))
    if kind == "channel":
        return "#" + names.get(leaf.get("channel_id", ""), leaf.get("channel_id", ""))
    if kind == "usergroup":
        return "@" + names.get(leaf.get("usergroup_id", ""), leaf.get("usergroup_id", ""))
    if kind == "emoji":
        return f":{leaf.get('name', '')}:"
    if kind == "broadcast":
        return "@" + str(leaf.get("range", ""))
    if kind == "date":
        return str(leaf.get("fallback") or leaf.get("timestamp", ""))
    if kind == "team":
        return "@" + str(leaf.get("team_id", ""))
    if kind == "color":
        return str(leaf.get("value", ""))
    return f"[unsupported rich text: {kind}]"


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.split("\n"))
