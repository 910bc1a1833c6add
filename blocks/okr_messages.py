"""OKR messages: help, lists, trees, answers to questions, check-in receipts, approval requests."""

from __future__ import annotations

from typing import Any

from agents.okr_board import KrView, ObjectiveView
from agents.query import QueryAnswer, answer_text
from agents.query_types import Intent, Subject
from blocks.okr_format import STATUS_LABEL, chunk_lines, context, key_result_line, number, objective_line, section
from blocks.okr_ids import OkrAction
from blocks.text import escape, truncate

MAX_ITEMS = 40
MAX_SECTIONS = 40
TREE_DEPTH = 4

HELP = """*OKRs in Liftoff*
• `/okr new` proposes an objective (its parent's owner or an Admin approves it)
• `/okr update` opens your key results; `/okr update KEY VALUE [note]` checks in from the keyboard
• `/okr list [mine|team|company|@person]` lists objectives; `/okr tree [KEY]` shows alignment
• `/okr ask QUESTION`, e.g. `/okr ask which key results are at risk in engineering?`
• `/okr report [period]` posts the quarterly review with a progress chart"""


def text_message(text: str) -> dict[str, Any]:
    return {"text": truncate(text, 3000), "blocks": [section(text)]}


def help_message() -> dict[str, Any]:
    return text_message(HELP)


def _sections(lines: list[str], more: int, hint: str) -> list[dict[str, Any]]:
    blocks = [section(chunk) for chunk in chunk_lines(lines)][:MAX_SECTIONS]
    if more > 0:
        blocks.append(context(f"… and {more} more. {hint}"))
    return blocks


def objectives_message(title: str, views: list[ObjectiveView], *, hint: str = "Narrow the list to see them.",
                       empty: str = "_No objectives here._") -> dict[str, Any]:
    lines = [objective_line(v) for v in views[:MAX_ITEMS]]
    blocks = [section(f"*{escape(title)}*")]
    blocks += _sections(lines, len(views) - MAX_ITEMS, hint) if lines else [section(empty)]
    return {"text": truncate(title, 300), "blocks": blocks}


def answer_message(answer: QueryAnswer) -> dict[str, Any]:
    """The answer to /okr ask, each item with the rule and figures behind its status."""
    head = answer_text(answer).split("\n", 1)[0]
    blocks = [section(f"*{escape(head)}*")]
    if answer.query.intent is not Intent.COUNT:
        if answer.query.subject is Subject.KEY_RESULTS:
            lines = [key_result_line(k) for k in answer.key_results[:MAX_ITEMS]]
        else:
            lines = [objective_line(v) for v in answer.objectives[:MAX_ITEMS]]
        blocks += _sections(lines, answer.count - MAX_ITEMS, "Ask a narrower question to see them.")
    filters = {k: v for k, v in answer.query.filters.to_json().items() if v}
    blocks.append(context(f"Read as {answer.query.intent} of {answer.query.subject}"
                          + (f" where {escape(filters)}" if filters else "") + f" ({answer.parsed_by})"))
    return {"text": truncate(head, 300), "blocks": blocks}


def tree_message(roots: list[ObjectiveView], title: str) -> dict[str, Any]:
    """The alignment tree, depth-limited and cut to fit one message."""
    lines: list[str] = []
    hidden = 0

    def walk(view: ObjectiveView, depth: int) -> None:
        nonlocal hidden
        if len(lines) >= MAX_ITEMS * 2:
            hidden += 1
            return
        indent = "\u2003" * depth
        lines.append(indent + objective_line(view, why=False))
        for kr in view.key_results:
            lines.append(indent + "\u2003◦ " + key_result_line(kr, why=False))
        if depth + 1 < TREE_DEPTH:
            for child in sorted(view.children, key=lambda c: c.row.key):
                walk(child, depth + 1)
        elif view.children:
            lines.append(indent + f"\u2003_{len(view.children)} aligned objectives: `/okr tree {view.row.key}`_")

    for root in roots:
        walk(root, 0)
    blocks = [section(f"*{escape(title)}*")]
    blocks += _sections(lines, hidden, "Open a branch with `/okr tree KEY`.") if lines else [section("_Nothing yet._")]
    if len(roots) == 1:
        blocks.append(comment_button(roots[0].row.id, roots[0].row.key))
    return {"text": truncate(title, 300), "blocks": blocks[:50]}


def comment_button(objective_id: int, key: str) -> dict[str, Any]:
    return {"type": "actions", "block_id": f"okr_comment:{objective_id}", "elements": [
        {"type": "button", "action_id": OkrAction.COMMENT, "value": str(objective_id),
         "text": {"type": "plain_text", "text": f"Comment on {key}"[:75]}},
    ]}


def checkin_receipt(kr: KrView | None, key: str, value: float, unit: str, path: list[str], recorded: bool) -> dict:
    if not recorded:
        return text_message(f"{escape(key)} already has that update; nothing changed.")
    status = f" · {STATUS_LABEL[kr.status]} ({escape(kr.verdict.reason())})" if kr else ""
    text = f":white_check_mark: Checked in *{escape(key)}* at {number(value)} {escape(unit)}{status}"
    return {"text": truncate(text, 300), "blocks": [section(text), context("Rolled up: " + " → ".join(path))]}


def approval_request(objective: Any, submitter: str, parent_key: str | None) -> dict[str, Any]:
    aligned = f", aligned to *{escape(parent_key)}*" if parent_key else ""
    text = (f"<@{submitter}> proposes *{escape(objective.key)}* {escape(objective.title)} "
            f"({objective.level}{aligned}). Approve it or return it with a reason.")
    return {"text": truncate(f"Approval needed: {objective.key}", 300), "blocks": [
        section(text),
        {"type": "actions", "block_id": f"okr_approval:{objective.id}", "elements": [
            {"type": "button", "action_id": OkrAction.APPROVE, "style": "primary", "value": str(objective.id),
             "text": {"type": "plain_text", "text": "Approve"}},
            {"type": "button", "action_id": OkrAction.RETURN, "value": str(objective.id),
             "text": {"type": "plain_text", "text": "Return"}},
        ]},
    ]}


def decision_notice(objective: Any, actor: str, approved: bool, reason: str) -> dict[str, Any]:
    if approved:
        text = f":white_check_mark: <@{actor}> approved *{escape(objective.key)}* {escape(objective.title)}."
    else:
        text = (f":leftwards_arrow_with_hook: <@{actor}> returned *{escape(objective.key)}* "
                f"{escape(objective.title)}: {escape(reason)}")
    return text_message(text)


def comment_notice(objective: Any, author: str, text: str) -> dict[str, Any]:
    body = f"<@{author}> commented on *{escape(objective.key)}* {escape(objective.title)}:\n>{escape(text)}"
    message = text_message(body)
    message["blocks"].append(comment_button(objective.id, objective.key))
    return message
