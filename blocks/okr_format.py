"""Small text pieces every OKR surface shares: status labels, progress bars, one-line summaries."""

from __future__ import annotations

from typing import Any

from agents.okr_board import KrView, ObjectiveView
from blocks.text import escape, truncate
from storage.okr_enums import OkrStatus

STATUS_LABEL = {
    OkrStatus.ON_TRACK: ":large_green_circle: on track",
    OkrStatus.AT_RISK: ":large_orange_circle: at risk",
    OkrStatus.OFF_TRACK: ":red_circle: off track",
    OkrStatus.DONE: ":white_check_mark: done",
}
LINE_LIMIT = 600


def bar(progress: float, width: int = 10) -> str:
    filled = round(max(0.0, min(1.0, progress)) * width)
    return "█" * filled + "░" * (width - filled)


def number(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def objective_line(view: ObjectiveView, *, why: bool = True) -> str:
    row = view.row
    text = (f"*{escape(row.key)}* {escape(row.title)} · {STATUS_LABEL[view.status]} · `{bar(view.progress)}` "
            f"{round(100 * view.progress)}% · <@{row.owner_id}>")
    if why:
        text += f"\n    _{escape(view.reason())}_"
    return truncate(text, LINE_LIMIT)


def key_result_line(kr: KrView, *, why: bool = True) -> str:
    row = kr.row
    current = row.current_value if row.current_value is not None else row.start_value
    text = (f"*{escape(row.key)}* {escape(row.title)} · {STATUS_LABEL[kr.status]} · "
            f"{number(current)} of {number(row.target_value)} {escape(row.unit)} · <@{row.owner_id}>")
    if why:
        text += f"\n    _{escape(kr.verdict.reason())}_"
    return truncate(text, LINE_LIMIT)


def chunk_lines(lines: list[str], limit: int = 2900) -> list[str]:
    """Join lines into section texts that each fit Slack's 3,000-character section limit."""
    chunks: list[str] = []
    current = ""
    for line in lines:
        if current and len(current) + 1 + len(line) > limit:
            chunks.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        chunks.append(current)
    return chunks


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": truncate(text, 3000)}}


def context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": truncate(text, 2000)}]}
