"""Parse an LLM's plan and check it before anything downstream trusts it.

parse_plan turns the text into typed drafts or raises MalformedPlan (the message goes back to the model
for one repair). check_plan then runs four layers and merges duplicates:
  1. confidence under 0.7: flagged low_confidence and needs_review;
  2. an owner or role not in the team: flagged and reassigned to someone who fits;
  3. a duration under an hour or over six months: flagged odd_duration and clamped into that range;
  4. a dependency on a task that does not exist: dropped, and the task flagged dependency_dropped.
Tasks with the same title (or key) are merged into the first, flagged merged_duplicate.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from agents.evaluator import CONFIDENCE_FLOOR, HOUR_IN_DAYS, LOW_CONFIDENCE, ODD_DURATION, SIX_MONTHS_IN_DAYS
from agents.plan import Edge, EdgeKind, Phase, PlannedTask, Priority, TeamMember
from agents.planner import assign_owners, member_role
from agents.roles import role_from_title
from agents.template_library import Library, load_library

NEEDS_REVIEW = "needs_review"
OWNER_NOT_IN_TEAM = "owner_not_in_team"
ROLE_NOT_IN_TEAM = "role_not_in_team"
DEPENDENCY_DROPPED = "dependency_dropped"
MERGED_DUPLICATE = "merged_duplicate"
LLM_SOURCE = "llm"
LLM_EDGE_CONFIDENCE = 0.9
MAX_TASKS = 300
TITLE_LIMIT = 300
DESCRIPTION_LIMIT = 2000
_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.S)
_PRIORITY_RANK = {Priority.P0: 3, Priority.P1: 2, Priority.P2: 1, Priority.P3: 0}


class MalformedPlan(ValueError):
    """The text is not a plan in the schema; the message says what is wrong, for the repair prompt."""


class UnusablePlan(ValueError):
    """The plan parsed but cannot be used (no tasks at all)."""


@dataclass
class DraftTask:
    key: str
    title: str
    description: str
    role: str
    owner: str | None
    estimate_days: float
    priority: Priority
    confidence: float
    phase: Phase
    milestone: bool
    module: str
    depends_on: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)


def parse_plan(text: str) -> list[DraftTask]:
    """Typed drafts from the model's text; MalformedPlan names the first problem found."""
    fenced = _FENCE.match(text)
    raw = fenced.group(1) if fenced else text.strip()
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise MalformedPlan(f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    if not isinstance(data, Mapping) or not isinstance(data.get("tasks"), list):
        raise MalformedPlan('the top level must be an object with a "tasks" array')
    return [_draft(item, i) for i, item in enumerate(data["tasks"][:MAX_TASKS])]


def _draft(item: Any, index: int) -> DraftTask:
    where = f"tasks[{index}]"
    if not isinstance(item, Mapping):
        raise MalformedPlan(f"{where} is not an object")

    def text(name: str, *, required: bool = True) -> str:
        value = item.get(name)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or (required and not value.strip()):
            raise MalformedPlan(f"{where}.{name} must be a non-empty string")
        return value.strip()

    def number(name: str) -> float:
        value = item.get(name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise MalformedPlan(f"{where}.{name} must be a number")
        return float(value)

    def choice(name: str, allowed: type[Priority] | type[Phase]) -> Any:
        value = item.get(name)
        try:
            return allowed(value)
        except ValueError:
            raise MalformedPlan(f"{where}.{name} must be one of {', '.join(allowed)}") from None

    depends = item.get("depends_on", [])
    if not isinstance(depends, list) or not all(isinstance(d, str) for d in depends):
        raise MalformedPlan(f"{where}.depends_on must be an array of task keys")
    owner = item.get("owner")
    if owner is not None and not isinstance(owner, str):
        raise MalformedPlan(f"{where}.owner must be a team handle or null")
    milestone = item.get("milestone", False)
    if not isinstance(milestone, bool):
        raise MalformedPlan(f"{where}.milestone must be true or false")
    return DraftTask(
        key=text("key"),
        title=text("title")[:TITLE_LIMIT],
        description=text("description", required=False)[:DESCRIPTION_LIMIT],
        role=text("role"),
        owner=owner.strip() or None if owner else None,
        estimate_days=number("estimate_days"),
        priority=choice("priority", Priority),
        confidence=min(max(number("confidence"), 0.0), 1.0),
        phase=choice("phase", Phase),
        milestone=milestone,
        module=text("module", required=False),
        depends_on=[d.strip() for d in depends],
    )


@dataclass(frozen=True)
class CheckedPlan:
    tasks: list[PlannedTask]
    edges: list[Edge]


def check_plan(
    drafts: list[DraftTask], team: tuple[TeamMember, ...], handles: Mapping[str, TeamMember],
    lib: Library | None = None,
) -> CheckedPlan:
    """Run the four check layers and the duplicate merge; return tasks with owners and LLM edges."""
    lib = lib or load_library()
    drafts = merge_duplicates(drafts)
    if not any(not d.milestone for d in drafts):
        raise UnusablePlan("the plan has no tasks")
    _ensure_launch_milestone(drafts)
    for draft in drafts:
        _check_confidence(draft)
        _check_duration(draft)
    _check_dependencies(drafts)
    tasks = _to_tasks(drafts, lib)
    by_draft = dict(zip((d.key for d in drafts), tasks, strict=True))
    _assign(drafts, by_draft, team, handles, lib)
    edges = [
        Edge(by_draft[dep].key, by_draft[d.key].key, EdgeKind.BLOCKS, LLM_SOURCE, LLM_EDGE_CONFIDENCE)
        for d in drafts
        for dep in d.depends_on
    ]
    return CheckedPlan(tasks, edges)


def _norm_title(title: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", title.lower()))


def merge_duplicates(drafts: list[DraftTask]) -> list[DraftTask]:
    """One task per key and per title: later copies fold into the first (its dependencies are kept)."""
    kept: list[DraftTask] = []
    by_key: dict[str, DraftTask] = {}
    by_title: dict[str, DraftTask] = {}
    renamed: dict[str, str] = {}
    for draft in drafts:
        first = by_key.get(draft.key) or by_title.get(_norm_title(draft.title))
        if first is None:
            kept.append(draft)
            by_key[draft.key] = draft
            by_title[_norm_title(draft.title)] = draft
            continue
        renamed.setdefault(draft.key, first.key)
        first.depends_on.extend(d for d in draft.depends_on if d not in first.depends_on)
        first.estimate_days = max(first.estimate_days, draft.estimate_days)
        first.confidence = min(first.confidence, draft.confidence)
        first.priority = max(first.priority, draft.priority, key=lambda p: _PRIORITY_RANK[p])
        if MERGED_DUPLICATE not in first.flags:
            first.flags.append(MERGED_DUPLICATE)
    for draft in kept:
        deps = [renamed.get(d, d) for d in draft.depends_on]
        draft.depends_on = list(dict.fromkeys(d for d in deps if d != draft.key))
    return kept


def _flag(draft: DraftTask, *flags: str) -> None:
    draft.flags.extend(f for f in flags if f not in draft.flags)


def _check_confidence(draft: DraftTask) -> None:
    if draft.confidence < CONFIDENCE_FLOOR:
        _flag(draft, LOW_CONFIDENCE, NEEDS_REVIEW)


def _check_duration(draft: DraftTask) -> None:
    if draft.milestone:
        draft.estimate_days = 0.0
        return
    if draft.estimate_days < HOUR_IN_DAYS or draft.estimate_days > SIX_MONTHS_IN_DAYS:
        _flag(draft, ODD_DURATION)
        # Kept in range so one absurd estimate cannot push the whole schedule years into the past.
        draft.estimate_days = min(max(draft.estimate_days, HOUR_IN_DAYS), SIX_MONTHS_IN_DAYS)


def _check_dependencies(drafts: list[DraftTask]) -> None:
    keys = {d.key for d in drafts}
    for draft in drafts:
        missing = [dep for dep in draft.depends_on if dep not in keys]
        if missing:
            draft.depends_on = [dep for dep in draft.depends_on if dep in keys]
            _flag(draft, DEPENDENCY_DROPPED)


def _ensure_launch_milestone(drafts: list[DraftTask]) -> None:
    """The scheduler plans backwards from launch day; a plan without that milestone gets one."""
    if any(d.milestone and d.phase == Phase.LAUNCH for d in drafts):
        return
    keys = {d.key for d in drafts}
    key = next(k for k in (f"launch-day-{n}" for n in range(len(drafts) + 1)) if k not in keys)
    drafts.append(
        DraftTask(key, "Launch day", "The release goes out to customers.", "pm", None, 0.0, Priority.P0,
                  0.9, Phase.LAUNCH, True, "launch")
    )


def _known_role(role: str, lib: Library) -> str | None:
    """The planner role a model's role names: itself, an alias, or what it reads like as a job title."""
    normalized = lib.normalize_role(role)
    if normalized in lib.roles:
        return normalized
    guessed = role_from_title(role)
    return guessed if guessed in lib.roles else None


def _to_tasks(drafts: list[DraftTask], lib: Library) -> list[PlannedTask]:
    """PlannedTasks with fresh keys (module prefix + number) so a model's keys never reach storage."""
    numbers: dict[str, int] = {}
    tasks: list[PlannedTask] = []
    for draft in drafts:
        module = lib.modules.get(draft.module)
        prefix = module.prefix if module else "LLM"
        numbers[prefix] = numbers.get(prefix, 0) + 1
        role = _known_role(draft.role, lib)
        if role is None:
            _flag(draft, ROLE_NOT_IN_TEAM)
            role = "pm"  # nobody has a role the planner does not know; the PM owns it until reassigned
        tasks.append(
            PlannedTask(
                key=f"{prefix}-{numbers[prefix]}",
                title=draft.title,
                description=draft.description,
                team=lib.roles[role].team,
                role=role,
                estimate_days=draft.estimate_days,
                priority=draft.priority,
                confidence=draft.confidence,
                module=module.key if module else "",
                milestone=draft.milestone,
                phase=draft.phase,
                flags=list(draft.flags),
            )
        )
    return tasks


def _assign(
    drafts: list[DraftTask], by_draft: Mapping[str, PlannedTask], team: tuple[TeamMember, ...],
    handles: Mapping[str, TeamMember], lib: Library,
) -> None:
    """Owners the model named when they exist and fit; everyone else by role, least loaded first."""
    load = {m.name: 0.0 for m in team}
    team_roles = {member_role(m, lib) for m in team}
    pending: list[PlannedTask] = []
    for draft in drafts:
        task = by_draft[draft.key]
        if team and task.role not in team_roles and ROLE_NOT_IN_TEAM not in task.flags:
            task.flags.append(ROLE_NOT_IN_TEAM)
        member = handles.get(draft.owner) if draft.owner else None
        if draft.owner and member is None:
            task.flags.append(OWNER_NOT_IN_TEAM)
        if member is not None and task.role in team_roles and member_role(member, lib) != task.role:
            member = None  # a named owner of another role than the task's: let the role decide
        if member is None:
            pending.append(task)
            continue
        task.assignee = member.name
        load[member.name] += max(task.effort_days, 0.25)
    assign_owners(pending, team, lib, load)
