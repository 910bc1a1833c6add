"""What a re-plan changed (posted in the launch thread), and the note when a re-plan could not be made."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import Block, ContextBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from blocks.text import escape, render, truncate
from storage.models import Launch
from storage.versions import PlanChanges

SECTION_LIMIT = 3000
LINES = 15


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=truncate(text, SECTION_LIMIT)))


def change_lines(kind: str, lines: list[Any], limit: int = LINES) -> str:
    """Up to `limit` lines of one kind of change, then "…and N more"; always within a section's 3,000 characters."""
    while True:
        text = render("plan_diff_lines.md.j2", kind=kind, lines=lines[:limit], more=len(lines) - limit)
        if len(text) <= SECTION_LIMIT or limit <= 1:
            return text
        limit = max(1, limit * 2 // 3)


def summary_line(changes: PlanChanges) -> str:
    return (f"+{len(changes.added)} added · −{len(changes.removed)} removed · "
            f"~{len(changes.changed)} changed · {len(changes.kept)} kept outside the new plan")


def diff_message(launch: Launch, version: int, changes: PlanChanges, requested_by: str) -> dict[str, Any]:
    """The diff of plan `version` against the one before: added, removed, changed (title, owner, due, estimate)."""
    blocks: list[Block] = [
        HeaderBlock(text=truncate(f"{launch.name}: plan v{version}", 150)),
        _section(f"<@{requested_by}> re-planned *{escape(launch.name)}* (v{version - 1} → v{version}). "
                 f"Work already started or done was kept with its status, owner and dates.\n{summary_line(changes)}"),
    ]
    if changes.empty:
        blocks.append(_section("_The new plan has the same tasks, owners and dates._"))
    for kind, title, lines in (
        ("added", "Added", changes.added),
        ("removed", "Removed", changes.removed),
        ("changed", "Changed", changes.changed),
        ("kept", "Kept (already worked on, not in the new plan)", changes.kept),
    ):
        if lines:
            blocks.append(_section(f"*{title}* ({len(lines)})\n" + change_lines(kind, list(lines))))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(
        text=f"Earlier plan: `/launch status {escape(launch.name)} v{version - 1}` · "
             f"all versions: `/launch versions {escape(launch.name)}`")]))
    text = (f"Plan v{version} of {launch.name}: {len(changes.added)} added, {len(changes.removed)} removed, "
            f"{len(changes.changed)} changed")
    return {"text": text, "blocks": [b.to_dict() for b in blocks]}


def replan_failed(launch: Launch, reason: str) -> dict[str, Any]:
    text = (f":warning: I could not re-plan *{escape(launch.name)}*: {escape(reason)}\n"
            f"The current plan (v{launch.version}) is unchanged. Fix the brief and run "
            f"`/launch replan {escape(launch.name)}` again.")
    return {"text": f"Could not re-plan {launch.name}", "blocks": [_section(text).to_dict()]}
