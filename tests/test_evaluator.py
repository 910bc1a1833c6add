"""The evaluator: score parts with reasons, risks with evidence, and task flags."""

from __future__ import annotations

from datetime import date, timedelta

from agents.dependency import analyze, infer_edges
from agents.evaluator import LOW_CONFIDENCE, ODD_DURATION, UNOWNED, evaluate, flag_tasks
from agents.plan import Brief, Edge, PlannedTask, Severity, TeamMember
from agents.planner import plan_from_templates
from agents.scheduler import schedule_backwards

TODAY = date(2026, 11, 23)
TEAM = (
    TeamMember("Pat", "pm"),
    TeamMember("Lee", "eng_lead"),
    TeamMember("Eve", "engineer"),
    TeamMember("Sam", "engineer"),
    TeamMember("Quinn", "qa"),
    TeamMember("Dana", "designer"),
    TeamMember("Mo", "marketing"),
    TeamMember("Sue", "support"),
    TeamMember("Doc", "docs"),
)
PARTS = {"coverage", "ownership", "estimates", "dependencies", "schedule"}


def evaluated(text: str, target: date, team=TEAM, launch_type: str = "software_release", level: bool = True):
    brief = Brief(name="Launch", target_date=target, text=text, launch_type=launch_type, team=team)
    tasks, edges = plan_from_templates(brief)
    analysis = analyze(tasks, infer_edges(tasks, edges))
    schedule_backwards(tasks, analysis.edges, target, TODAY, level_resources=level)
    return tasks, evaluate(brief, tasks, analysis, TODAY)


def test_score_is_made_of_named_parts_each_with_a_reason() -> None:
    _, evaluation = evaluated("Version 3 of the product for everyone.", date(2027, 4, 12))
    assert {p.name for p in evaluation.parts} == PARTS
    for part in evaluation.parts:
        assert 0 <= part.score <= 1 and part.weight > 0
        assert len(part.reason) > 15
    assert 0 <= evaluation.quality_score <= 1
    weighted = sum(p.score * p.weight for p in evaluation.parts) / sum(p.weight for p in evaluation.parts)
    assert abs(evaluation.quality_score - weighted) < 1e-3
    assert evaluation.quality_score > 0.9
    assert evaluation.risks == [] or all(r.evidence for r in evaluation.risks)


def test_a_healthy_plan_has_no_timeline_or_owner_risks() -> None:
    _, evaluation = evaluated("Version 3 of the product for everyone.", date(2027, 4, 12))
    codes = evaluation.risk_codes()
    assert "timeline_tight" not in codes and "unowned_work" not in codes and "missing_qa" not in codes


def test_tight_timeline_is_a_high_risk_with_the_shortfall() -> None:
    tasks, evaluation = evaluated("Version 3 of the product.", TODAY + timedelta(days=14))
    risk = next(r for r in evaluation.risks if r.code == "timeline_tight")
    assert risk.severity == Severity.HIGH
    assert "short" in evaluation.part("schedule").reason
    assert "business days" in risk.evidence and "before today" in risk.evidence
    assert evaluation.part("schedule").score < 0.6
    assert any("starts_in_past" in t.flags for t in tasks)


def test_missing_people_show_up_as_unowned_work_and_missing_qa() -> None:
    team = (TeamMember("Pat", "pm"), TeamMember("Eve", "engineer"))
    tasks, evaluation = evaluated(
        "Version 3 of the product. Legal must review the terms.", date(2027, 6, 1), team=team
    )
    codes = evaluation.risk_codes()
    assert "unowned_work" in codes and "missing_qa" in codes and "missing_legal" in codes
    unowned = [t for t in tasks if not t.assignee]
    assert unowned and all(UNOWNED in t.flags for t in unowned)
    assert evaluation.part("ownership").score < 1
    assert "legal" in evaluation.part("ownership").reason


def test_coverage_names_the_missing_function() -> None:
    brief = Brief(
        name="L", target_date=date(2027, 4, 12), text="x", launch_type="software_release", team=TEAM
    )
    tasks = [PlannedTask("ENG-1", "Build it", "", "engineering", "engineer", 2, assignee="Eve")]
    analysis = analyze(tasks, [])
    schedule_backwards(tasks, [], brief.target_date, TODAY)
    part = evaluate(brief, tasks, analysis, TODAY).part("coverage")
    assert part.score < 0.5
    assert "qa" in part.reason and "support" in part.reason


def test_resource_conflict_and_scope_creep() -> None:
    brief = Brief(name="L", target_date=date(2027, 1, 8), text="x", team=(TeamMember("Eve", "engineer"),))
    tasks = [
        PlannedTask(f"ENG-{i}", f"Build part {i}", "", "engineering", "engineer", 5, assignee="Eve")
        for i in range(1, 4)
    ]
    analysis = analyze(tasks, [])
    schedule_backwards(tasks, [], brief.target_date, TODAY, level_resources=False)
    evaluation = evaluate(brief, tasks, analysis, TODAY)
    conflict = next(r for r in evaluation.risks if r.code == "resource_conflict")
    assert "Eve" in conflict.evidence and conflict.severity == Severity.HIGH
    assert evaluation.overbooked and evaluation.overbooked[0].booked_days == 15
    few_days = Brief(name="L", target_date=TODAY + timedelta(days=7), text="x", team=brief.team)
    codes = evaluate(few_days, tasks, analysis, TODAY).risk_codes()
    assert "scope_creep" in codes


def test_task_flags() -> None:
    tasks = [
        PlannedTask("A-1", "Guess", "", "engineering", "engineer", 2, confidence=0.6, assignee="Eve"),
        PlannedTask("A-2", "Tiny", "", "engineering", "engineer", 0.05, assignee="Eve"),
        PlannedTask("A-3", "Huge", "", "engineering", "engineer", 200, assignee="Eve"),
        PlannedTask("A-4", "Nobody", "", "legal", "legal", 1),
        PlannedTask("A-5", "Launch day", "", "product", "pm", 0, milestone=True, assignee="Pat"),
    ]
    flag_tasks(tasks)
    flag_tasks(tasks)  # idempotent
    assert tasks[0].flags == [LOW_CONFIDENCE]
    assert tasks[1].flags == [ODD_DURATION] and tasks[2].flags == [ODD_DURATION]
    assert tasks[3].flags == [UNOWNED]
    assert tasks[4].flags == []


def test_dependency_cycle_is_a_risk_and_costs_score() -> None:
    brief = Brief(name="L", target_date=date(2027, 4, 12), text="x", team=TEAM)
    tasks = [PlannedTask(k, k, "", "engineering", "engineer", 1, assignee="Eve") for k in ("A", "B")]
    analysis = analyze(tasks, [Edge("A", "B"), Edge("B", "A", source="gate:x", confidence=0.8)])
    schedule_backwards(tasks, analysis.edges, brief.target_date, TODAY)
    evaluation = evaluate(brief, tasks, analysis, TODAY)
    assert "dependency_cycle" in evaluation.risk_codes()
    part = evaluation.part("dependencies")
    assert part.score < 1 and "B->A" in part.reason
