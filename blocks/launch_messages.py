"""Messages about a launch: the plan announcement, the health card, the list and help."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from blocks.ids import ActionId
from blocks.text import escape, render, short_date, truncate
from storage.llm_usage import UsageSummary
from storage.models import Launch, Task
from storage.snapshots import HealthState, LaunchHealth

SECTION_LIMIT = 3000
CRITICAL_PATH_LINES = 8
RISK_LINES = 3

STATE_LABEL = {
    HealthState.ON_TRACK: ":large_green_circle: On track",
    HealthState.AT_RISK: ":large_orange_circle: At risk",
    HealthState.OFF_TRACK: ":red_circle: Off track",
    HealthState.DONE: ":white_check_mark: Done",
}


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=truncate(text, SECTION_LIMIT)))


def _task_lines(tasks: list[Task], limit: int, *, show_slack: bool = False) -> str:
    return render("task_lines.md.j2", tasks=tasks[:limit], more=len(tasks) - limit, show_slack=show_slack)


def _risks(launch: Launch) -> str:
    return render("risk_lines.md.j2", risks=launch.risks[:RISK_LINES])


def _health_button(launch: Launch) -> ActionsBlock:
    return ActionsBlock(
        block_id=f"launch_actions:{launch.id}",
        elements=[ButtonElement(text="Show health", action_id=ActionId.SHOW_HEALTH, value=str(launch.id))],
    )


def planned_by_line(usage: UsageSummary | None) -> str:
    """How the plan was made: "LLM: claude-… · 12.3k tokens · $0.04" or "made offline from templates"."""
    if usage is None or not usage.used_llm:
        return "made offline from templates"
    spent = f"{_tokens(usage.total_tokens)} tokens · ${usage.cost_usd:.2f}"
    if usage.planned_by is None:
        return f"made from templates after the LLM failed ({spent})"
    return f"LLM: {escape(usage.planned_by)} · {spent}"


def _tokens(count: int) -> str:
    return f"{count / 1000:.1f}k" if count >= 1000 else str(count)


def plan_message(
    health: LaunchHealth, tasks: list[Task], usage: UsageSummary | None = None, awaiting_review: int = 0
) -> dict[str, Any]:
    """The announcement posted when a plan is ready: counts, critical path, risks, next milestones.

    `tasks` leaves out flagged tasks still under review; `awaiting_review` says how many there are.
    """
    launch = health.launch
    waiting = f" (+{awaiting_review} in review)" if awaiting_review else ""
    intro = render(
        "plan_intro.md.j2",
        launch=launch,
        days_left=health.business_days_left,
        task_count=len(tasks),
        team_count=len({t.team for t in tasks}),
        owner_count=len({t.assignee for t in tasks if t.assignee}),
    )
    blocks: list[Block] = [
        HeaderBlock(text=truncate(f"Launch plan: {launch.name}", 150)),
        _section(intro),
        SectionBlock(
            fields=[
                MarkdownTextObject(text=f"*Tasks*\n{len(tasks)}{waiting}"),
                MarkdownTextObject(text=f"*Critical path*\n{launch.critical_path_days:g} business days"),
                MarkdownTextObject(text=f"*Quality score*\n{round(100 * launch.quality_score)}%"),
                MarkdownTextObject(text=f"*Target date*\n{short_date(launch.target_date)}"),
            ]
        ),
        DividerBlock(),
        _section(f"*Critical path* ({len(health.critical_path)} tasks)\n"
                 + _task_lines(health.critical_path, CRITICAL_PATH_LINES)),
        _section("*Top risks*\n" + _risks(launch)),
        _section("*Next milestones*\n" + (_task_lines(health.next_milestones, 3) or "_None scheduled._")),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"Plan v{launch.version} · {planned_by_line(usage)} · `/launch status {escape(launch.name)}`"
                )
            ]
        ),
        _health_button(launch),
    ]
    text = f"Launch plan for {launch.name}: {len(tasks)} tasks, critical path {launch.critical_path_days:g} days"
    return {"text": text, "blocks": [b.to_dict() for b in blocks]}


def planning_in_progress(launch: Launch) -> dict[str, Any]:
    text = f":hourglass_flowing_sand: *{escape(launch.name)}* is still being planned. Try again in a moment."
    return {"text": text, "blocks": [_section(text).to_dict()]}


def planning_failed(launch: Launch, reason: str) -> dict[str, Any]:
    text = (f":warning: I could not plan *{escape(launch.name)}*: {escape(reason)}\n"
            "Nothing was sent anywhere. Fix the brief and run `/launch new` again.")
    return {"text": f"Could not plan {launch.name}", "blocks": [_section(text).to_dict()]}


def launch_list(launches: list[Launch]) -> dict[str, Any]:
    if not launches:
        text = "No launches yet. Start one with `/launch new`."
        return {"text": text, "blocks": [_section(text).to_dict()]}
    lines = [
        f"• *{escape(launch.name)}* · {short_date(launch.target_date)} · {launch.status}"
        for launch in launches
    ]
    return {
        "text": f"{len(launches)} launches",
        "blocks": [_section("*Launches*\n" + "\n".join(lines)).to_dict()],
    }


def help_message() -> dict[str, Any]:
    text = render("help.md.j2")
    return {"text": "Liftoff help", "blocks": [_section(text).to_dict()]}


def not_found(name: str, suggestions: list[str]) -> dict[str, Any]:
    text = f"I found no launch called *{escape(name)}*."
    if suggestions:
        text += " Did you mean " + ", ".join(f"*{escape(s)}*" for s in suggestions) + "?"
    return {"text": text, "blocks": [_section(text).to_dict()]}


def error_message(error_id: str) -> dict[str, Any]:
    text = f":warning: Something went wrong on our side. Nothing was lost; please try again. (error id `{error_id}`)"
    return {"text": text, "blocks": [_section(text).to_dict()]}
