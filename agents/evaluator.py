"""The evaluator agent: scores a scheduled plan, names its risks and flags doubtful tasks.

The quality score is a weighted mean of named parts, each with a reason a PM can act on.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from agents.conflicts import (
    DUE_BEFORE_PREDECESSOR,
    TIMELINE_TOO_SHORT,
    ResourceConflict,
    ScheduleConflict,
    resource_conflicts,
    schedule_conflicts,
)
from agents.dependency import DependencyAnalysis
from agents.plan import Brief, EdgeKind, PlannedTask, Priority, Risk, Severity
from agents.planner import member_role
from agents.scheduler import STARTS_IN_PAST, business_days_between, is_business_day
from agents.template_library import Library, load_library

LOW_CONFIDENCE = "low_confidence"
ODD_DURATION = "odd_duration"
UNOWNED = "unowned"
CONFIDENCE_FLOOR = 0.7
HOUR_IN_DAYS = 1 / 8
SIX_MONTHS_IN_DAYS = 130  # working days
# Share of a person's week that goes to launch work; the rest is meetings, support, everything else.
FOCUS = 0.7

WEIGHTS = {"coverage": 0.25, "ownership": 0.2, "estimates": 0.15, "dependencies": 0.2, "schedule": 0.2}


@dataclass(frozen=True)
class ScorePart:
    name: str
    score: float
    weight: float
    reason: str


@dataclass
class Evaluation:
    quality_score: float
    parts: list[ScorePart]
    risks: list[Risk]
    conflicts: list[ScheduleConflict] = field(default_factory=list)
    overbooked: list[ResourceConflict] = field(default_factory=list)

    def part(self, name: str) -> ScorePart:
        for part in self.parts:
            if part.name == name:
                return part
        raise KeyError(name)

    def risk_codes(self) -> list[str]:
        return [r.code for r in self.risks]


def evaluate(
    brief: Brief,
    tasks: list[PlannedTask],
    analysis: DependencyAnalysis,
    today: date,
    other_launches: Sequence[list[PlannedTask]] = (),
) -> Evaluation:
    """Flag tasks, find conflicts and risks, and score the plan 0..1.

    `other_launches` are the workspace's concurrent launches: a person booked over capacity across
    them and this plan is a resource conflict of this plan.
    """
    lib = load_library()
    flag_tasks(tasks)
    conflicts = schedule_conflicts(
        tasks, analysis.edges, brief.target_date, today, analysis.critical_path_days
    )
    overbooked = [c for c in resource_conflicts([tasks, *other_launches]) if any(i == 0 for i, _ in c.tasks)]
    parts = [
        _coverage(brief, tasks, lib),
        _ownership(tasks),
        _estimates(tasks),
        _dependencies(tasks, analysis),
        _schedule(brief, tasks, analysis, today, conflicts),
    ]
    score = sum(p.score * p.weight for p in parts) / sum(p.weight for p in parts)
    risks = _risks(brief, tasks, analysis, today, conflicts, overbooked, lib)
    return Evaluation(round(score, 4), parts, risks, conflicts, overbooked)


def flag_tasks(tasks: list[PlannedTask]) -> None:
    """Add low_confidence, odd_duration and unowned flags (each at most once)."""
    for task in tasks:
        wanted = []
        if task.confidence < CONFIDENCE_FLOOR:
            wanted.append(LOW_CONFIDENCE)
        if not task.milestone and (
            task.estimate_days < HOUR_IN_DAYS or task.estimate_days > SIX_MONTHS_IN_DAYS
        ):
            wanted.append(ODD_DURATION)
        if not task.assignee:
            wanted.append(UNOWNED)
        task.flags.extend(f for f in wanted if f not in task.flags)


def _work(tasks: list[PlannedTask]) -> list[PlannedTask]:
    return [t for t in tasks if not t.milestone]


def _coverage(brief: Brief, tasks: list[PlannedTask], lib: Library) -> ScorePart:
    profile = lib.profile_for(brief.launch_type)
    teams = {t.team.strip().lower() for t in tasks}
    teams |= {lib.roles[r].team for r in (lib.normalize_role(t.role) for t in tasks) if r in lib.roles}
    needed = list(profile.functions)
    missing = [f for f in needed if not teams & set(lib.functions.get(f, (f,)))]
    score = 1.0 if not needed else (len(needed) - len(missing)) / len(needed)
    if missing:
        reason = f"no tasks for {', '.join(missing)}, which a {profile.key} needs"
    else:
        reason = f"covers all {len(needed)} functions a {profile.key} needs ({', '.join(needed)})"
    return ScorePart("coverage", round(score, 4), WEIGHTS["coverage"], reason)


def _ownership(tasks: list[PlannedTask]) -> ScorePart:
    work = _work(tasks)
    unowned = [t for t in work if not t.assignee]
    score = 1.0 if not work else 1 - len(unowned) / len(work)
    if unowned:
        roles = Counter(t.role for t in unowned)
        listed = ", ".join(f"{role} ({n})" for role, n in roles.most_common())
        reason = f"{len(unowned)} of {len(work)} tasks have no owner; nobody on the team for: {listed}"
    else:
        reason = f"every one of the {len(work)} tasks has an owner"
    return ScorePart("ownership", round(score, 4), WEIGHTS["ownership"], reason)


def _estimates(tasks: list[PlannedTask]) -> ScorePart:
    work = _work(tasks)
    odd = [t for t in work if ODD_DURATION in t.flags]
    low = [t for t in work if LOW_CONFIDENCE in t.flags]
    score = 1.0 if not work else max(0.0, 1 - (len(odd) + 0.5 * len(low)) / len(work))
    if not odd and not low:
        reason = "every estimate is between an hour and six months, with confidence of 0.7 or more"
    else:
        bits = []
        if odd:
            bits.append(f"{len(odd)} under an hour or over six months ({', '.join(t.key for t in odd[:5])})")
        if low:
            bits.append(f"{len(low)} with confidence under 0.7 ({', '.join(t.key for t in low[:5])})")
        reason = "estimates to check: " + "; ".join(bits)
    return ScorePart("estimates", round(score, 4), WEIGHTS["estimates"], reason)


def _dependencies(tasks: list[PlannedTask], analysis: DependencyAnalysis) -> ScorePart:
    linked = {e.from_key for e in analysis.edges} | {e.to_key for e in analysis.edges}
    work = _work(tasks)
    orphans = [t for t in work if t.key not in linked]
    broken = analysis.broken_edges
    score = 1.0 if not work else max(0.0, 1 - 0.1 * len(broken) - len(orphans) / len(work))
    bits = []
    if broken:
        pairs = ", ".join(f"{e.from_key}->{e.to_key}" for e in broken[:3])
        bits.append(f"{len(broken)} edge(s) dropped to break dependency cycles ({pairs})")
    if orphans:
        bits.append(
            f"{len(orphans)} task(s) with no dependencies at all ({', '.join(t.key for t in orphans[:5])})"
        )
    blocks = sum(1 for e in analysis.edges if e.kind == EdgeKind.BLOCKS)
    reason = "; ".join(bits) if bits else f"no cycles and every task is linked ({blocks} blocking edges)"
    return ScorePart("dependencies", round(score, 4), WEIGHTS["dependencies"], reason)


def _schedule(
    brief: Brief,
    tasks: list[PlannedTask],
    analysis: DependencyAnalysis,
    today: date,
    conflicts: list[ScheduleConflict],
) -> ScorePart:
    days_left = business_days_between(today, brief.target_date)
    needed = math.ceil(analysis.critical_path_days - 1e-9)
    in_past = [t for t in tasks if STARTS_IN_PAST in t.flags]
    order = [c for c in conflicts if c.kind == DUE_BEFORE_PREDECESSOR]
    score = 1.0 if needed <= days_left else (days_left / needed if needed else 0.0)
    if tasks:
        score -= 0.5 * len(in_past) / len(tasks)
    score = max(0.0, min(1.0, score))
    reason = f"critical path {needed} business days, {days_left} left before {brief.target_date.isoformat()}"
    if needed > days_left:
        reason += f" (short by {needed - days_left})"
    if in_past:
        reason += f"; {len(in_past)} task(s) would have to start before today"
    if order:
        reason += f"; {len(order)} task(s) due before a predecessor can finish"
    return ScorePart("schedule", round(score, 4), WEIGHTS["schedule"], reason)


def _risks(
    brief: Brief,
    tasks: list[PlannedTask],
    analysis: DependencyAnalysis,
    today: date,
    conflicts: list[ScheduleConflict],
    overbooked: list[ResourceConflict],
    lib: Library,
) -> list[Risk]:
    days_left = business_days_between(today, brief.target_date)
    return [
        *_timeline_risks(tasks, analysis, days_left, conflicts),
        *_resource_risks(overbooked),
        *_scope_risk(brief, tasks, days_left),
        *_unowned_risk(tasks),
        *_missing_function_risks(brief, tasks, lib),
        *_cycle_risk(analysis),
        *_key_person_risk(tasks, analysis),
        *_estimate_risk(tasks),
        *_weekend_risk(brief),
    ]


def _timeline_risks(
    tasks: list[PlannedTask], analysis: DependencyAnalysis, days_left: int, conflicts: list[ScheduleConflict]
) -> list[Risk]:
    risks = []
    needed = math.ceil(analysis.critical_path_days - 1e-9)
    in_past = [t for t in tasks if STARTS_IN_PAST in t.flags]
    short = [c for c in conflicts if c.kind == TIMELINE_TOO_SHORT]
    if short or in_past:
        evidence = short[0].detail if short else f"critical path {needed} business days, {days_left} left"
        if in_past:
            evidence += f"; {len(in_past)} task(s) would have to start before today, e.g. {in_past[0].key}"
        risks.append(Risk("timeline_tight", Severity.HIGH, evidence))
    elif needed > 0.85 * days_left:
        evidence = f"critical path {needed} of {days_left} business days left"
        risks.append(Risk("timeline_tight", Severity.MEDIUM, evidence))
    late = [c for c in conflicts if c.kind == DUE_BEFORE_PREDECESSOR]
    if late:
        severity = Severity.HIGH if len(late) > 3 else Severity.MEDIUM
        evidence = f"{len(late)} task(s) due before a predecessor can finish, e.g. {late[0].detail}"
        risks.append(Risk("schedule_conflict", severity, evidence))
    return risks


def _resource_risks(overbooked: list[ResourceConflict]) -> list[Risk]:
    if not overbooked:
        return []
    worst = max(overbooked, key=lambda c: c.booked_days / c.capacity_days)
    people = sorted({c.person for c in overbooked})
    severity = Severity.HIGH if worst.booked_days > 2 * worst.capacity_days else Severity.MEDIUM
    evidence = (
        f"{len(people)} person(s) booked over capacity in {len(overbooked)} week(s); worst: "
        f"{worst.person} with {worst.booked_days:g} days in the week of {worst.week_start.isoformat()}"
    )
    return [Risk("resource_conflict", severity, evidence)]


def _scope_risk(brief: Brief, tasks: list[PlannedTask], days_left: int) -> list[Risk]:
    effort = sum(t.effort_days for t in _work(tasks))
    people = max(len(brief.team), 1)
    capacity = people * days_left * FOCUS
    crew = f"{people} person" if people == 1 else f"{people} people"
    evidence = (
        f"{len(tasks)} tasks, {effort:g} person-days of work for {crew} with {days_left} business days "
        f"left (about {capacity:.0f} focused person-days)"
    )
    if effort > capacity:
        return [Risk("scope_creep", Severity.HIGH, evidence)]
    if effort > 0.75 * capacity or len(tasks) > 250:
        return [Risk("scope_creep", Severity.MEDIUM, evidence)]
    return []


def _unowned_risk(tasks: list[PlannedTask]) -> list[Risk]:
    unowned = [t for t in _work(tasks) if not t.assignee]
    if not unowned:
        return []
    roles = ", ".join(sorted({t.role for t in unowned}))
    urgent = sum(1 for t in unowned if t.priority in (Priority.P0, Priority.P1))
    severity = Severity.HIGH if any(t.priority == Priority.P0 for t in unowned) else Severity.MEDIUM
    evidence = f"{len(unowned)} task(s) with no owner ({urgent} P0/P1); no one on the team for {roles}"
    return [Risk("unowned_work", severity, evidence)]


def _missing_function_risks(brief: Brief, tasks: list[PlannedTask], lib: Library) -> list[Risk]:
    risks = []
    roles_on_team = {member_role(m, lib) for m in brief.team}
    qa_tasks = [t for t in _work(tasks) if t.role == "qa" or t.team == "qa"]
    builds = any(t.team == "engineering" for t in tasks)
    if builds and not qa_tasks:
        risks.append(Risk("missing_qa", Severity.HIGH, "the plan builds software but has no QA tasks"))
    elif qa_tasks and brief.team and "qa" not in roles_on_team:
        owners = ", ".join(sorted({t.assignee for t in qa_tasks if t.assignee})) or "nobody"
        evidence = f"no QA on the team: {len(qa_tasks)} testing task(s) fall to {owners}"
        risks.append(Risk("missing_qa", Severity.MEDIUM, evidence))
    legal_tasks = [t for t in _work(tasks) if t.role == "legal"]
    if legal_tasks and brief.team and "legal" not in roles_on_team:
        example = legal_tasks[0].title
        evidence = f"{len(legal_tasks)} legal task(s) (e.g. {example!r}) and no one from legal on the team"
        risks.append(Risk("missing_legal", Severity.MEDIUM, evidence))
    return risks


def _cycle_risk(analysis: DependencyAnalysis) -> list[Risk]:
    if not analysis.broken_edges:
        return []
    edge = analysis.broken_edges[0]
    evidence = (
        f"{len(analysis.broken_edges)} dependency cycle(s) broken; e.g. dropped "
        f"{edge.from_key} -> {edge.to_key} ({edge.source})"
    )
    return [Risk("dependency_cycle", Severity.MEDIUM, evidence)]


def _key_person_risk(tasks: list[PlannedTask], analysis: DependencyAnalysis) -> list[Risk]:
    by_key = {t.key: t for t in tasks}
    on_path = [by_key[k] for k in analysis.critical_path if k in by_key and not by_key[k].milestone]
    owners = Counter(t.assignee for t in on_path if t.assignee)
    total = sum(owners.values())
    if total < 4:
        return []
    person, count = owners.most_common(1)[0]
    if count / total <= 0.5:
        return []
    evidence = (
        f"{person} owns {count} of the {total} tasks on the critical path; any absence moves the launch"
    )
    return [Risk("key_person", Severity.MEDIUM, evidence)]


def _estimate_risk(tasks: list[PlannedTask]) -> list[Risk]:
    work = _work(tasks)
    low = [t for t in work if LOW_CONFIDENCE in t.flags]
    if not low or len(low) / len(work) <= 0.15:
        return []
    evidence = f"{len(low)} estimate(s) with confidence under 0.7, e.g. {low[0].key} {low[0].title!r}"
    return [Risk("low_confidence_estimates", Severity.LOW, evidence)]


def _weekend_risk(brief: Brief) -> list[Risk]:
    target = brief.target_date
    if is_business_day(target):
        return []
    evidence = (
        f"the target date {target.isoformat()} is a {target.strftime('%A')}; "
        "launch-day work is planned for the Friday before"
    )
    return [Risk("weekend_launch", Severity.LOW, evidence)]
