"""Edge inference, cycle breaking, critical path and slack, and schedule/resource conflicts."""

from __future__ import annotations

from datetime import date

import pytest

from agents.dependency import (
    CYCLE_BROKEN,
    analyze,
    critical_path_length,
    infer_edges,
    make_inferred_edge,
    resource_conflicts,
    schedule_conflicts,
)
from agents.plan import Edge, EdgeKind, Phase, PlannedTask, Priority

TODAY = date(2026, 11, 23)


def task(key: str, days: float = 1.0, title: str | None = None, module: str = "", **extra) -> PlannedTask:
    return PlannedTask(
        key=key,
        title=title or key,
        description="",
        team="engineering",
        role="engineer",
        estimate_days=days,
        module=module,
        **extra,
    )


# --- critical path and slack ------------------------------------------------------------------


def test_critical_path_and_slack_on_a_diamond() -> None:
    tasks = [task("A", 3), task("B", 2), task("C", 4), task("D", 1)]
    edges = [Edge("A", "B"), Edge("A", "C"), Edge("B", "D"), Edge("C", "D")]
    result = analyze(tasks, edges)
    assert result.critical_path == ["A", "C", "D"]
    assert result.critical_path_days == 8
    assert result.slack == {"A": 0, "B": 2, "C": 0, "D": 0}
    assert result.earliest_start == {"A": 0, "B": 3, "C": 3, "D": 7}
    assert result.earliest_finish == {"A": 3, "B": 5, "C": 7, "D": 8}
    assert result.latest_start["B"] == 5


def test_parallel_chains_and_an_independent_task() -> None:
    tasks = [task("A", 1), task("B", 5), task("C", 2), task("D", 2), task("E", 0.5)]
    edges = [Edge("A", "B"), Edge("C", "D")]
    result = analyze(tasks, edges)
    assert result.critical_path == ["A", "B"]
    assert result.critical_path_days == 6
    assert result.slack["C"] == 2 and result.slack["D"] == 2 and result.slack["E"] == 5.5


def test_related_edges_do_not_order_work() -> None:
    tasks = [task("A", 3), task("B", 2)]
    result = analyze(tasks, [Edge("A", "B", EdgeKind.RELATED, "text", 0.5)])
    assert result.critical_path_days == 3
    assert result.slack["B"] == 1


def test_launch_milestone_pins_the_critical_path() -> None:
    tasks = [
        task("A", 4),
        task("B", 1),
        task("GO", 0, milestone=True, phase=Phase.LAUNCH),
        task("POST", 10, phase=Phase.POST),
    ]
    edges = [Edge("A", "GO"), Edge("B", "GO"), Edge("GO", "POST")]
    result = analyze(tasks, edges)
    assert result.launch_key == "GO"
    assert result.critical_path == ["A", "GO"]
    assert result.critical_path_days == 4
    assert result.slack["B"] == 3 and result.slack["A"] == 0


def test_critical_path_length_oracle() -> None:
    durations = {"s": 0, "a": 2, "b": 3, "c": 4, "t": 0}
    edges = [("s", "a"), ("s", "b"), ("a", "c"), ("b", "t"), ("c", "t")]
    assert critical_path_length(durations, edges) == 6
    assert critical_path_length({}, []) == 0


# --- cycles -----------------------------------------------------------------------------------


def test_cycle_broken_at_the_weakest_edge_and_the_dependent_task_flagged() -> None:
    tasks = [task("A"), task("B"), task("C")]
    weak = Edge("C", "A", EdgeKind.BLOCKS, "gate:x", 0.75)
    edges = [Edge("A", "B"), Edge("B", "C"), weak]
    result = analyze(tasks, edges)
    assert result.broken_edges == [weak]
    assert weak not in result.edges and len(result.edges) == 2
    assert CYCLE_BROKEN in tasks[0].flags
    assert CYCLE_BROKEN not in tasks[1].flags and CYCLE_BROKEN not in tasks[2].flags
    assert result.critical_path == ["A", "B", "C"]


def test_with_equal_evidence_the_edge_into_the_lowest_priority_task_goes() -> None:
    tasks = [
        task("A", priority=Priority.P0),
        task("B", priority=Priority.P1),
        task("C", priority=Priority.P3),
    ]
    edges = [Edge("A", "B"), Edge("B", "C"), Edge("C", "A")]
    result = analyze(tasks, edges)
    assert [(e.from_key, e.to_key) for e in result.broken_edges] == [("B", "C")]
    assert tasks[2].flags == [CYCLE_BROKEN]


def test_template_edges_outrank_inferred_ones() -> None:
    tasks = [task("A"), task("B")]
    edges = [Edge("A", "B", source="template"), Edge("B", "A", source="artefact:x", confidence=1.0)]
    result = analyze(tasks, edges)
    assert [(e.from_key, e.to_key) for e in result.broken_edges] == [("B", "A")]


def test_two_separate_cycles_and_a_self_loop() -> None:
    tasks = [task(k) for k in "ABCDE"]
    edges = [
        Edge("A", "B"),
        Edge("B", "A", confidence=0.8, source="gate:x"),
        Edge("C", "D"),
        Edge("D", "C", confidence=0.9, source="gate:y"),
        Edge("E", "E"),
    ]
    result = analyze(tasks, edges)
    assert {(e.from_key, e.to_key) for e in result.broken_edges} == {("B", "A"), ("D", "C"), ("E", "E")}
    assert all(CYCLE_BROKEN in tasks[i].flags for i in (0, 2, 4))


# --- inference --------------------------------------------------------------------------------


def test_inferred_edge_under_threshold_is_related() -> None:
    assert make_inferred_edge("A", "B", "text", 0.69).kind == EdgeKind.RELATED
    assert make_inferred_edge("A", "B", "text", 0.7).kind == EdgeKind.BLOCKS
    tasks = [task("A"), task("B")]
    out = infer_edges(tasks, [Edge("A", "B", EdgeKind.BLOCKS, "llm", 0.5)])
    assert out == [Edge("A", "B", EdgeKind.RELATED, "llm", 0.5)]


def test_same_object_text_edges_carry_confidence_and_kind() -> None:
    tasks = [
        task("MKT-1", title="Write the launch blog post", module="marketing"),
        task("LEG-1", title="Review the launch blog post", module="legal"),
        task("DOC-1", title="Draft the pricing FAQ", module="docs"),
        task("SUP-1", title="Review the pricing FAQ with the support team", module="support"),
    ]
    out = {(e.from_key, e.to_key): e for e in infer_edges(tasks, [])}
    strong = out[("MKT-1", "LEG-1")]
    assert strong.kind == EdgeKind.BLOCKS and strong.source == "text:same_object" and strong.confidence >= 0.7
    weak = out[("DOC-1", "SUP-1")]
    assert weak.kind == EdgeKind.RELATED and weak.confidence < 0.7


def test_artefact_and_gate_edges_across_modules() -> None:
    tasks = [
        task(
            "ENG-1", title="Cut the release candidate", module="engineering", produces=("release_candidate",)
        ),
        task("QA-1", title="QA sign-off on the release candidate", module="qa", needs=("release_candidate",)),
        task("MOB-1", title="Submit to the App Store for review", module="mobile_store"),
        task("LEG-1", title="Legal review of the launch", module="legal_review"),
        task("MKT-1", title="Publish the launch blog post", module="marketing_launch", phase=Phase.LAUNCH),
    ]
    out = {(e.from_key, e.to_key): e for e in infer_edges(tasks, [])}
    assert out[("ENG-1", "QA-1")].source == "artefact:release_candidate"
    gate = out[("QA-1", "MOB-1")]
    assert gate.kind == EdgeKind.BLOCKS and gate.source == "gate:qa_signoff->store_submission"
    assert out[("LEG-1", "MKT-1")].source == "gate:legal_review->public_announcement"
    assert out[("MOB-1", "MKT-1")].confidence == pytest.approx(0.8)


def test_inference_never_closes_a_cycle_or_repeats_an_order() -> None:
    tasks = [
        task("MOB-1", title="Submit to the App Store for review", module="mobile_store"),
        task("QA-1", title="QA sign-off on the release candidate", module="qa"),
        task("X-1", title="Something in between", module="x"),
    ]
    given = [Edge("MOB-1", "X-1"), Edge("X-1", "QA-1")]
    out = infer_edges(tasks, given)
    assert out == given  # the gate QA-1 -> MOB-1 would close a cycle


def test_loose_ends_join_the_launch_milestone() -> None:
    tasks = [task("A"), task("GO", 0, milestone=True, phase=Phase.LAUNCH), task("P", phase=Phase.POST)]
    out = {(e.from_key, e.to_key): e for e in infer_edges(tasks, [])}
    assert out[("A", "GO")].source == "launch_spine"
    assert ("GO", "P") in out


# --- conflicts --------------------------------------------------------------------------------


def test_timeline_too_short_reports_the_shortfall() -> None:
    tasks = [task("A", 10), task("B", 10)]
    result = analyze(tasks, [Edge("A", "B")])
    conflicts = schedule_conflicts(tasks, result.edges, date(2026, 12, 4), TODAY, result.critical_path_days)
    short = [c for c in conflicts if c.kind == "timeline_too_short"]
    assert len(short) == 1
    assert short[0].shortfall_days == 20 - 9  # Mon 23 Nov up to Fri 4 Dec: 9 business days left


def test_task_due_before_its_predecessor_can_finish() -> None:
    a = task("A", 5, start=TODAY, due=date(2026, 11, 27))
    b = task("B", 1, start=date(2026, 11, 25), due=date(2026, 11, 25))
    conflicts = schedule_conflicts([a, b], [Edge("A", "B")], date(2027, 1, 15), TODAY)
    late = [c for c in conflicts if c.kind == "due_before_predecessor"]
    assert [(c.task_key, c.predecessor_key) for c in late] == [("B", "A")]
    assert late[0].shortfall_days == 3  # B could be done on Mon 30 Nov at the earliest


def test_resource_conflicts_across_concurrent_launches() -> None:
    monday, friday = date(2027, 1, 4), date(2027, 1, 8)
    first = [task("A", 4, assignee="Eve", start=monday, due=friday)]
    second = [
        task("B", 3, assignee="Eve", start=monday, due=date(2027, 1, 6)),
        task("C", 5, assignee="Sam", start=monday, due=friday),
    ]
    conflicts = resource_conflicts([first, second])
    assert len(conflicts) == 1
    eve = conflicts[0]
    assert eve.person == "Eve" and eve.week_start == monday
    assert eve.booked_days == 7 and eve.overbooked_days == 2
    assert eve.launches == [0, 1]
    assert resource_conflicts([first, second], capacity_days_per_week=8) == []


def test_resource_load_spreads_over_weeks() -> None:
    wednesday, next_tuesday = date(2027, 1, 6), date(2027, 1, 12)
    long_task = [task("A", 10, assignee="Eve", start=wednesday, due=next_tuesday)]  # 5 business days
    conflicts = resource_conflicts([long_task])
    assert [(c.week_start, c.booked_days) for c in conflicts] == [(date(2027, 1, 4), 6.0)]
