"""The planning pipeline as one function: guardrail → planner → dependency → evaluator.

It touches no database and no network, so `liftoff plan`, the plan_launch job and the tests
all run exactly this code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from agents import dependency, evaluator, guardrail, planner, scheduler
from agents.plan import Brief, Edge, Plan, PlannedTask


def build_plan(brief: Brief, today: date | None = None, other_launches: Sequence[list[PlannedTask]] = (),
               mapping: guardrail.PiiMapping | None = None) -> Plan:
    """Plan a launch. Raises GuardrailError, and plans nothing, when the brief cannot be checked for PII.

    `mapping`, when given, is the launch's placeholder mapping: used and updated in place.
    """
    today = today or date.today()
    # Everything downstream sees the brief with personal data replaced by placeholders.
    redacted = guardrail.redact(brief.text, roster=[member.name for member in brief.team], mapping=mapping)
    brief = replace(brief, text=redacted.text)
    tasks, template_edges = planner.plan_from_templates(brief)
    return finish_plan(brief, tasks, template_edges, today, other_launches)


def finish_plan(
    brief: Brief,
    tasks: list[PlannedTask],
    planned_edges: list[Edge],
    today: date,
    other_launches: Sequence[list[PlannedTask]] = (),
) -> Plan:
    """Dependency → scheduler → evaluator on tasks from any planner (templates or an LLM)."""
    edges = dependency.infer_edges(tasks, planned_edges)
    analysis = dependency.analyze(tasks, edges)
    scheduler.schedule_backwards(tasks, analysis.edges, brief.target_date, today)
    evaluation = evaluator.evaluate(brief, tasks, analysis, today, other_launches)
    return Plan(
        brief=brief,
        tasks=tasks,
        edges=analysis.edges,
        critical_path=analysis.critical_path,
        critical_path_days=analysis.critical_path_days,
        risks=evaluation.risks,
        quality_score=evaluation.quality_score,
        slack_days=dict(analysis.slack),
    )
