"""Conversion between rich_text values (what a rich_text_input holds) and plain Markdown text."""

from __future__ import annotations

from typing import Any


def rich_text_value(text: str) -> dict[str, Any]:
    """A rich_text block holding `text` as plain paragraphs (for a rich_text_input's initial_value)."""
    section = {"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}
    return {"type": "rich_text", "elements": [section]}


def rich_text_to_markdown(value: dict[str, Any] | None) -> str:
    """Flatten a rich_text value to Markdown: lists become '- ' lines, quotes '> ', code blocks fenced."""
    if not value:
        return ""
    parts = [_element(element) for element in value.get("elements", [])]
    return "\n".join(p for p in parts if p).strip()


def _element(element: dict[str, Any]) -> str:
    kind = element.get("type")
    if kind == "rich_text_section":
        return _leaves(element.get("elements", []))
    if kind == "rich_text_list":
        bullet = "1." if element.get("style") == "ordered" else "-"
        indent = "  " * int(element.get("indent", 0))
        return "\n".join(f"{indent}{bullet} {_element(item)}" for item in element.get("elements", []))
    if kind == "rich_text_quote":
        return "\n".join("> " + line for line in _leaves(element.get("elements", [])).splitlines())
    if kind == "rich_text_preformatted":
        return "```\n" + _leaves(element.get("elements", [])) + "\n```"
    return _leaves(element.get("elements", []))


def _leaves(leaves: list[dict[str, Any]]) -> str:
    out: list[str] = []
    for leaf in leaves:
        kind = leaf.get("type")
        if kind == "text":
            out.append(str(leaf.get("text", "")))
        elif kind == "link":
            out.append(str(leaf.get("text") or leaf.get("url", "")))
        elif kind == "user":
            out.append(f"<@{leaf.get('user_id', '')}>")
        elif kind == "channel":
            out.append(f"<#{leaf.get('channel_id', '')}>")
        elif kind == "emoji":
            out.append(f":{leaf.get('name', '')}:")
        elif kind == "date":
            out.append(str(leaf.get("fallback", "")))
        elif "elements" in leaf:
            out.append(_element(leaf))
    return "".join(out)
