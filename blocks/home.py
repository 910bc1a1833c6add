"""The App Home tab."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import ContextBlock, DividerBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from blocks.text import escape, render, short_date
from storage.models import Launch, Task


def home_view(launches: list[Launch], tasks: list[Task],
              okr_blocks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    task_text = render("task_lines.md.j2", tasks=tasks, more=0, show_slack=False) or "_Nothing assigned to you._"
    launch_text = "\n".join(
        f"• *{escape(launch.name)}* · {short_date(launch.target_date)} · {launch.status}" for launch in launches
    ) or "_No launches yet. Start one with_ `/launch new`."
    blocks = [
        HeaderBlock(text="Liftoff"),
        SectionBlock(text=MarkdownTextObject(text="*My open tasks*\n" + task_text)),
        DividerBlock(),
        SectionBlock(text=MarkdownTextObject(text="*My launches*\n" + launch_text)),
        ContextBlock(elements=[MarkdownTextObject(text="`/launch new` plans a launch · `/launch help` for more")]),
    ]
    return {"type": "home", "blocks": [b.to_dict() for b in blocks] + (okr_blocks or [])}
