"""Earlier plan versions: one version's summary (`/launch status NAME v1`) and the list of versions."""

from __future__ import annotations

from collections import Counter
from typing import Any

from slack_sdk.models.blocks import Block, ContextBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from blocks.plan_diff import summary_line
from blocks.text import escape, render, short_date, truncate
from storage.models import Launch, LaunchVersion
from storage.versions import PlanChanges, is_pending

SECTION_LIMIT = 3000
TEAM_LINES = 12
PATH_LINES = 8
RISK_LINES = 3


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=truncate(text, SECTION_LIMIT)))


def _message(text: str) -> dict[str, Any]:
    return {"text": text, "blocks": [_section(text).to_dict()]}


def version_summary(launch: Launch, row: LaunchVersion) -> dict[str, Any]:
    """A stored version as it was planned: counts, teams, critical path, risks and what it changed."""
    if is_pending(row):
        return _message(f":hourglass_flowing_sand: Plan v{row.version} of *{escape(launch.name)}* is still "
                        "being made. Try again in a moment.")
    plan = row.plan
    tasks: list[dict[str, Any]] = list(plan.get("tasks", []))
    by_key = {t.get("key"): t for t in tasks}
    teams = Counter(str(t.get("team", "")) for t in tasks)
    team_lines = [f"• {escape(team)}: {n}" for team, n in sorted(teams.items())[:TEAM_LINES]]
    if len(teams) > TEAM_LINES:
        team_lines.append(f"_…and {len(teams) - TEAM_LINES} more_")
    path = [by_key[k] for k in plan.get("critical_path", []) if k in by_key]
    path_lines = [
        f"• `{escape(t['key'])}` {escape(truncate(str(t.get('title', '')), 90))} · due {t.get('due') or 'no date'}"
        for t in path[:PATH_LINES]
    ]
    if len(path) > PATH_LINES:
        path_lines.append(f"_…and {len(path) - PATH_LINES} more_")
    current = " (current)" if row.version == launch.version else ""
    blocks: list[Block] = [
        HeaderBlock(text=truncate(f"{plan.get('launch', {}).get('name') or launch.name}: plan v{row.version}", 150)),
        SectionBlock(fields=[
            MarkdownTextObject(text=f"*Version*\nv{row.version}{current} of v{launch.version}"),
            MarkdownTextObject(text=f"*Tasks*\n{len(tasks)}"),
            MarkdownTextObject(text=f"*Target date*\n{short_date(row.target_date)}"),
            MarkdownTextObject(text=f"*Critical path*\n{float(plan.get('critical_path_days', 0)):g} business days"),
            MarkdownTextObject(text=f"*Quality score*\n{round(100 * float(plan.get('quality_score', 0)))}%"),
            MarkdownTextObject(text=f"*Made*\n{short_date(row.created_at.date())} by <@{row.created_by}>"),
        ]),
        _section("*Tasks by team*\n" + ("\n".join(team_lines) or "_No tasks._")),
        _section("*Critical path*\n" + ("\n".join(path_lines) or "_None._")),
        _section("*Top risks*\n" + render("risk_lines.md.j2", risks=list(plan.get("risks", []))[:RISK_LINES])),
    ]
    if "changes" in plan:
        changes = PlanChanges.from_json(plan["changes"])
        blocks.append(_section(f"*Changes from v{row.version - 1}*\n{summary_line(changes)}"))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(
        text=f"The current plan: `/launch status {escape(launch.name)}` · all versions: "
             f"`/launch versions {escape(launch.name)}`")]))
    text = f"{launch.name}, plan v{row.version}: {len(tasks)} tasks"
    return {"text": text, "blocks": [b.to_dict() for b in blocks]}


def versions_list(launch: Launch, rows: list[LaunchVersion]) -> dict[str, Any]:
    lines = []
    for row in rows[-40:]:
        if is_pending(row):
            lines.append(f"• v{row.version}: _being planned_ (asked by <@{row.created_by}>)")
            continue
        count = len(row.plan.get("tasks", []))
        current = " · *current*" if row.version == launch.version else ""
        lines.append(f"• v{row.version}: {count} tasks · target {short_date(row.target_date)} · "
                     f"{short_date(row.created_at.date())} by <@{row.created_by}>{current}")
    if not lines:
        lines.append(f"• v{launch.version}: the current plan (no earlier version was stored)")
    text = (f"*{escape(launch.name)}*: plan versions\n" + "\n".join(lines)
            + f"\nShow one with `/launch status {escape(launch.name)} v1`.")
    return _message(text)


def version_not_found(launch: Launch, version: int, rows: list[LaunchVersion]) -> dict[str, Any]:
    known = ", ".join(f"v{r.version}" for r in rows) or f"v{launch.version}"
    return _message(f"*{escape(launch.name)}* has no plan v{version}. Its versions: {known}.")
