"""The post-launch retro message, and the answer before the retro opens. Within Block Kit limits at any size."""

from __future__ import annotations

from datetime import date
from typing import Any

from slack_sdk.models.blocks import Block, ContextBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from blocks.text import escape, render, short_date, truncate
from storage.models import Launch
from storage.retro_snapshot import RetroReport

SECTION_LIMIT = 3000
TEAM_LINES = 12
TASK_LINES = 10
WEEKS = 8


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=truncate(text, SECTION_LIMIT)))


def _lines(lines: list[str], limit: int) -> str:
    """Up to `limit` lines, then "…and N more", shortened further until it fits one section."""
    while True:
        text = render("retro_lines.md.j2", lines=lines[:limit], more=len(lines) - limit)
        if len(text) <= SECTION_LIMIT - 100 or limit <= 1:
            return text
        limit = max(1, limit * 2 // 3)


def slip(days: int | None) -> str:
    if days is None:
        return "not finished"
    if days == 0:
        return "on time"
    return f"{days} day{'s' if abs(days) != 1 else ''} {'late' if days > 0 else 'early'}"


def retro_message(report: RetroReport) -> dict[str, Any]:
    finished = short_date(report.last_completion) if report.last_completion else "nothing done yet"
    still_open = f" · {report.open_tasks} still open" if report.open_tasks else ""
    blocks: list[Block] = [
        HeaderBlock(text=truncate(f"Retro: {report.launch_name}", 150)),
        SectionBlock(fields=[
            MarkdownTextObject(text=f"*Target date*\n{short_date(report.target_date)}"),
            MarkdownTextObject(text=f"*Last task done*\n{finished} ({slip(report.slip_days)})"),
            MarkdownTextObject(text=f"*Done*\n{report.done} of {report.total}{still_open}"),
            MarkdownTextObject(text=f"*Scope creep*\n{len(report.scope_creep)} task"
                                    f"{'' if len(report.scope_creep) == 1 else 's'} added after the first plan"),
        ]),
        _section("*Planned vs actual end, by team*\n" + _lines([
            f"{escape(t.team)}: planned {short_date(t.planned_end)} · "
            + (f"finished {short_date(t.last_completion)} ({slip(t.slip_days)})" if not t.open_tasks
               else f"{t.open_tasks} open")
            for t in report.teams
        ], TEAM_LINES)),
        _section(f"*Completed late* ({len(report.late_tasks)} of {report.done} done)\n" + _lines([
            f"{escape(t.team)}: {t.late} of {t.done}" for t in report.late_by_team if t.late
        ], TEAM_LINES) + ("\n" + _lines([
            f"`{escape(t.key)}` {escape(truncate(t.title, 80))} · {escape(t.team)} · due {short_date(t.due)}, "
            f"done {short_date(t.completed)} (+{t.days_late}d)" for t in report.late_tasks
        ], TASK_LINES) if report.late_tasks else "\n_Nothing was done late._")),
        _section("*Velocity* (tasks done per ISO week)\n" + (_lines([
            f"{escape(v.team)}: " + " · ".join(f"{w.week[-3:]} {w.done}" for w in v.weeks[-WEEKS:])
            + f" · avg {v.average:.1f}/week" for v in report.velocity
        ], TEAM_LINES) or "_No completed tasks yet._")),
        _section("*Cycle time* (started → done)\n" + (_lines([
            f"{escape(c.team)}: median {c.median_days:.1f}d · p90 {c.p90_days:.1f}d ({c.count} tasks)"
            for c in report.cycle_times
        ], TEAM_LINES + 1) or "_No task has both a start and a completion time._")),
        _section(f"*Added after the plan* ({len(report.scope_creep)})\n" + (_lines([
            f"`{escape(t.key)}` {escape(truncate(t.title, 80))} · {escape(t.team)} · v{t.version} · "
            f"{t.status.replace('_', ' ')}" for t in report.scope_creep
        ], TASK_LINES) or "_No scope creep: every task was in the first plan._")),
        ContextBlock(elements=[MarkdownTextObject(
            text="Dates are UTC days. Cycle time p90 is the nearest-rank 90th percentile; velocity counts every "
                 "week from a team's first to its last completion.")]),
    ]
    text = f"Retro of {report.launch_name}: {report.done} of {report.total} done, last task {slip(report.slip_days)}"
    return {"text": text, "blocks": [b.to_dict() for b in blocks]}


def retro_not_yet(launch: Launch, available: date) -> dict[str, Any]:
    text = (f":calendar: The retro of *{escape(launch.name)}* looks back on the launch, so it opens after the "
            f"target date ({short_date(launch.target_date)}). Ask again from {short_date(available)} "
            f"with `/launch retro {escape(launch.name)}`.")
    return {"text": text, "blocks": [_section(text).to_dict()]}


def retro_posted(launch: Launch, channel_id: str) -> dict[str, Any]:
    text = f":white_check_mark: The retro of *{escape(launch.name)}* is on its way to <#{channel_id}>."
    return {"text": text, "blocks": [_section(text).to_dict()]}
