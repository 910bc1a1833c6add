"""The health card of `/launch status`, the launch choices around it, and "did you mean" buttons.

Sized for Slack at any plan size: a dozen blocks, each list cut to a few lines and a character budget
with "…and N more", well inside 50 blocks, 3,000 characters a section and 12,000 a message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from blocks.ids import ActionId
from blocks.launch_messages import STATE_LABEL, planned_by_line
from blocks.text import escape, render, short_date, truncate
from storage.enums import TaskStatus
from storage.llm_usage import UsageSummary
from storage.models import Launch, Task
from storage.snapshots import LaunchHealth
from storage.tracker_inbound import SyncHealth, TrackerSyncState

SECTION_LIMIT = 3000
LIST_BUDGET = 1800  # characters per task list: six lists stay under the 12,000 a message may hold
TEAM_LINES = 12
CRITICAL_PATH_LINES = 8
RISK_LINES = 3
OVERDUE_LINES = 5
BLOCKED_LINES = 5
MILESTONE_LINES = 3
CHOICE_LINES = 40
TRACKER_ERROR_CHARS = 150
TRACKER_LABELS = {"linear": "Linear", "jira": "Jira", "notion": "Notion", "asana": "Asana"}
URL_UNSAFE = set("<>| \n")


def _section(text: str, block_id: str | None = None) -> SectionBlock:
    return SectionBlock(block_id=block_id, text=MarkdownTextObject(text=truncate(text, SECTION_LIMIT)))


def _reason(task: Task) -> str:
    # Underscores and line breaks would end the italics early.
    return " ".join((task.blocked_reason or "no reason given").replace("_", " ").split())


def _url(links: Mapping[int, str] | None, task: Task) -> str | None:
    """The task's remote item, when it has one that can sit in a mrkdwn link."""
    url = links.get(task.id) if links else None
    if not url or len(url) > 500 or not url.startswith(("https://", "http://")) or URL_UNSAFE & set(url):
        return None
    return url.replace("&", "&amp;")


def task_lines(tasks: Sequence[Task], limit: int, *, show_slack: bool = False, show_reason: bool = False,
               budget: int = LIST_BUDGET, links: Mapping[int, str] | None = None) -> str:
    """At most `limit` lines within `budget` characters, then "…and N more"; a task with a remote item links to it."""
    lines: list[str] = []
    used = 0
    for task in tasks[:limit]:
        reason = _reason(task) if show_reason and task.status == TaskStatus.BLOCKED else ""
        line = render("health_task_line.md.j2", task=task, show_slack=show_slack, reason=reason,
                      url=_url(links, task))
        if used + len(line) + 1 > budget:
            break
        lines.append(line)
        used += len(line) + 1
    if len(tasks) > len(lines):
        lines.append(f"_…and {len(tasks) - len(lines)} more_")
    return "\n".join(lines)


def _team_lines(health: LaunchHealth) -> str:
    lines = [f"• {escape(truncate(p.team, 60))}: {p.done}/{p.total}" for p in health.by_team[:TEAM_LINES]]
    if len(health.by_team) > TEAM_LINES:
        lines.append(f"_…and {len(health.by_team) - TEAM_LINES} more teams_")
    return "\n".join(lines) or "_No tasks yet._"


def _risk_lines(launch: Launch) -> str:
    risks = [r for r in launch.risks if isinstance(r, dict)]
    text = render("risk_lines.md.j2", risks=risks[:RISK_LINES])
    if len(risks) > RISK_LINES:
        text += f"\n_…and {len(risks) - RISK_LINES} more_"
    return text


def llm_cost_line(usage: UsageSummary | None) -> str:
    if usage is None or not usage.used_llm:
        return "$0.00 (planned offline from templates)"
    return f"${usage.cost_usd:.2f} ({usage.calls} call{'s' if usage.calls != 1 else ''})"


def tracker_line(sync: TrackerSyncState) -> str:
    """In sync, N pending, or failing since a time with the last error."""
    label = f"{TRACKER_LABELS.get(sync.kind, sync.kind)} {escape(truncate(sync.name, 60))}".strip()
    if sync.state == SyncHealth.FAILING:
        since = sync.failing_since.strftime("%a %b %-d %H:%M UTC") if sync.failing_since else "a while"
        error = escape(truncate(" ".join((sync.last_error or "unknown error").split()), TRACKER_ERROR_CHARS))
        return f":warning: {label}: failing since {since}: {error}"
    if sync.state == SyncHealth.PENDING:
        return f"{label}: {sync.pending} pending"
    return f"{label}: in sync"


def health_card(health: LaunchHealth, usage: UsageSummary | None = None, *, shared_by: str | None = None,
                tracker: TrackerSyncState | None = None, links: Mapping[int, str] | None = None) -> dict[str, Any]:
    """A launch's health; with `shared_by` it is the copy posted to a channel (no Share button).

    `tracker`: the sync state of the launch's tracker; `links`: task id -> its remote item's URL.
    """
    launch = health.launch
    critical_days = f"{launch.critical_path_days:g} business days of work left"
    fields = [
        MarkdownTextObject(text=f"*State*\n{STATE_LABEL[health.state]}"),
        MarkdownTextObject(text=f"*Progress*\n{health.done} of {health.total} done ({health.percent_done}%)"),
        MarkdownTextObject(text=f"*Target date*\n{short_date(launch.target_date)}"
                                f" ({health.business_days_left} business days left)"),
        MarkdownTextObject(text=f"*Critical path*\n{critical_days}"),
        MarkdownTextObject(text=f"*Quality score*\n{round(100 * launch.quality_score)}%"),
        MarkdownTextObject(text=f"*LLM cost*\n{llm_cost_line(usage)}"),
    ]
    if tracker is not None:
        fields.append(MarkdownTextObject(text=truncate(f"*Tracker*\n{tracker_line(tracker)}", 2000)))
    blocks: list[Block] = [
        HeaderBlock(text=truncate(f"{launch.name}: health", 150)),
        SectionBlock(fields=fields),
        _section("*Progress by team*\n" + _team_lines(health)),
        _section(f"*Critical path* ({len(health.critical_path)} open tasks)\n"
                 + (task_lines(health.critical_path, CRITICAL_PATH_LINES, show_slack=True, links=links)
                    or "_Nothing left on the critical path._")),
        _section("*Top risks*\n" + _risk_lines(launch)),
    ]
    if health.overdue:
        blocks.append(_section(f"*Overdue* ({len(health.overdue)})\n"
                               + task_lines(health.overdue, OVERDUE_LINES, links=links)))
    if health.blocked:
        blocks.append(_section(f"*Blocked* ({len(health.blocked)})\n"
                               + task_lines(health.blocked, BLOCKED_LINES, show_reason=True, links=links)))
    blocks.append(_section("*Next milestones*\n"
                           + (task_lines(health.next_milestones, MILESTONE_LINES, links=links) or "_None scheduled._")))
    footer = f"Plan v{launch.version} · {planned_by_line(usage)} · `/launch status {escape(launch.name)}`"
    if shared_by:
        footer = f"Shared by <@{shared_by}> · " + footer
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=truncate(footer, 2000))]))
    if not shared_by:
        share = ButtonElement(text="Share to channel", action_id=ActionId.SHARE_HEALTH, value=str(launch.id))
        # Re-plan opens the brief modal pre-filled (PM or admin; anyone else is told why not).
        replan = ButtonElement(text="Re-plan", action_id=ActionId.REPLAN, value=str(launch.id))
        blocks.append(ActionsBlock(block_id=f"health_actions:{launch.id}", elements=[share, replan]))
    text = f"{launch.name}: {health.done} of {health.total} tasks done, {STATE_LABEL[health.state]}"
    return {"text": text, "blocks": [b.to_dict() for b in blocks]}


def _choice(launch: Launch) -> SectionBlock:
    line = f"*{escape(truncate(launch.name, 150))}* · {short_date(launch.target_date)} · {launch.status}"
    button = ButtonElement(text="Show health", action_id=ActionId.SHOW_HEALTH, value=str(launch.id))
    return SectionBlock(block_id=f"launch_choice:{launch.id}", text=MarkdownTextObject(text=line), accessory=button)


def launch_choices(heading: str, launches: Sequence[Launch]) -> dict[str, Any]:
    """Launches to pick from, each with a Show health button."""
    blocks: list[Block] = [_section(heading)]
    blocks += [_choice(launch) for launch in launches[:CHOICE_LINES]]
    if len(launches) > CHOICE_LINES:
        more = f"_…and {len(launches) - CHOICE_LINES} more: `/launch status NAME` finds any of them._"
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=more)]))
    return {"text": heading, "blocks": [b.to_dict() for b in blocks]}


def launch_not_found(name: str, suggestions: Sequence[Launch]) -> dict[str, Any]:
    """No launch by that name; close matches as buttons that show their card."""
    text = f"I found no launch called *{escape(truncate(name, 150))}*."
    if not suggestions:
        text += " `/launch list` shows them all."
        return {"text": text, "blocks": [_section(text).to_dict()]}
    text += " Did you mean " + ", ".join(f"*{escape(s.name)}*" for s in suggestions) + "?"
    return {"text": text, "blocks": [_section(text).to_dict(), *(_choice(s).to_dict() for s in suggestions)]}
