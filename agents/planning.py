"""Planning with LLMs when they are configured: guardrail → LLM planner (or templates) → dependency →
scheduler → evaluator. Without models it plans exactly as `agents.pipeline.build_plan` does.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from agents import guardrail, planner
from agents.guardrail import PiiMapping
from agents.llm_planner import Budget, DraftReport, PlanModels, UsageSink, draft_plan
from agents.llm_prompt import build_prompt
from agents.pipeline import finish_plan
from agents.plan import Brief, Plan, PlannedTask
from agents.similar_launches import most_similar, redacted_examples
from storage.db import Database
from storage.llm_usage import LlmUsageRepository, PastLaunch, PastLaunchRepository, UsageRecord
from storage.scope import Scope

log = logging.getLogger(__name__)


@dataclass
class PlanResult:
    plan: Plan
    report: DraftReport
    # The placeholders of this plan's redactions: stored with the launch, so that later redactions keep the
    # numbers and the readers allowed to see originals get them back (agents/launch_pii.py).
    mapping: PiiMapping = field(default_factory=PiiMapping)

    @property
    def planned_by(self) -> str:
        draft = self.report.draft
        return f"{draft.provider}:{draft.model}" if draft else "templates"


async def _discard(_: UsageRecord) -> None:
    return None


async def plan_brief(
    brief: Brief,
    today: date | None = None,
    *,
    llm: PlanModels | None,
    examples: Sequence[PastLaunch] = (),
    budget: Budget | None = None,
    sink: UsageSink = _discard,
    other_launches: Sequence[list[PlannedTask]] = (),
    mapping: PiiMapping | None = None,
) -> PlanResult:
    """Plan a brief with the LLM providers in order, falling back to the templates.

    `mapping` is the launch's (a re-plan passes the stored one, so numbers stay stable); it is updated in place
    and returned in the result. Raises GuardrailError, and plans nothing, when the brief cannot be checked.
    """
    today = today or date.today()
    roster = [m.name for m in brief.team]
    mapping = mapping if mapping is not None else PiiMapping()
    redacted = await asyncio.to_thread(guardrail.redact, brief.text, roster=roster, mapping=mapping)
    safe = replace(brief, text=redacted.text)
    report = DraftReport()
    budget = budget or Budget(llm.budget_usd if llm else 0.0)
    if llm is not None and llm.models and not budget.exhausted:
        name = await asyncio.to_thread(guardrail.redact, brief.name, roster=roster, mapping=mapping)
        shown = await asyncio.to_thread(redacted_examples, brief, examples, mapping)
        prompt = build_prompt(safe, name.text, today, shown)
        report = await draft_plan(llm, prompt, brief.team, budget, sink)
    elif llm is not None and llm.models:
        report.stopped_by_budget = True
    if report.draft is not None:
        tasks, edges = report.draft.plan.tasks, report.draft.plan.edges
    else:
        tasks, edges = await asyncio.to_thread(planner.plan_from_templates, safe)
    plan = await asyncio.to_thread(finish_plan, safe, tasks, edges, today, other_launches)
    return PlanResult(plan, report, mapping)


async def plan_stored_launch(
    db: Database,
    scope: Scope,
    launch_id: int,
    brief: Brief,
    today: date | None,
    llm: PlanModels,
    other_launches: Sequence[list[PlannedTask]] = (),
    mapping: PiiMapping | None = None,
) -> PlanResult:
    """plan_brief for a stored launch: examples from the workspace's past launches, the budget net of
    what this launch already spent, and every call's usage written as it happens."""
    async with db.reader() as session:
        spent = await LlmUsageRepository(session, scope).spent_usd(launch_id)
        past = PastLaunchRepository(session, scope)
        nearest = most_similar(brief, await past.candidates(exclude_id=launch_id))
        examples = await past.with_tasks(nearest)

    async def record(usage: UsageRecord) -> None:
        async with db.session() as session:
            await LlmUsageRepository(session, scope).record(launch_id, usage)

    result = await plan_brief(
        brief, today, llm=llm, examples=examples, budget=Budget(llm.budget_usd, spent), sink=record,
        other_launches=other_launches, mapping=mapping,
    )
    log.info("launch %s planned by %s (%s)", launch_id, result.planned_by,
             "; ".join(f"{a.provider} {a.outcome}" for a in result.report.attempts) or "no LLM calls")
    return result
