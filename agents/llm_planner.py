"""The LLM planner: Anthropic first, then OpenAI, each skipped while its circuit breaker is open.

Each provider gets the prompt; a malformed answer gets one repair attempt (the error goes back to the
model), then the next provider is tried. Every answer's tokens and cost are handed to a usage sink as
soon as it arrives, and a per-launch budget stops LLM use. None means: plan from the templates.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

from agents.llm_checks import CheckedPlan, MalformedPlan, UnusablePlan, check_plan, parse_plan
from agents.llm_prompt import SCHEMA_NAME, Prompt, repair_message
from agents.plan import TeamMember
from integrations.llm.circuit_breaker import CircuitBreaker
from integrations.llm.pricing import Price, cost_usd
from integrations.llm.types import LlmClient, LlmRequest, LlmResult, LlmUnavailable, Turn
from storage.llm_usage import CallOutcome, UsageRecord

log = logging.getLogger(__name__)

PLAN_PURPOSE = "plan"
REPAIR_PURPOSE = "repair"

UsageSink = Callable[[UsageRecord], Awaitable[None]]


@dataclass
class PlanModel:
    """One provider in the fallback order, with its own breaker."""

    client: LlmClient
    breaker: CircuitBreaker = field(default_factory=CircuitBreaker)


@dataclass
class PlanModels:
    """The providers in order, their prices, the per-launch budget and the questions' monthly budget per
    workspace; built once from settings in bot/."""

    models: list[PlanModel]
    prices: Mapping[str, Price]
    budget_usd: float
    question_budget_usd: float = 5.0

    def price_for(self, model: str, requested: str) -> Price:
        """The price of the model that answered; a dated id ("claude-haiku-4-5-20251001") is priced as its
        family, and an unknown one as the model we asked for (settings made sure that one has a price)."""
        if model in self.prices:
            return self.prices[model]
        family = max((k for k in self.prices if model.startswith(k)), key=len, default=None)
        return self.prices[family if family is not None else requested]


@dataclass
class Budget:
    limit_usd: float
    spent_usd: float = 0.0

    @property
    def exhausted(self) -> bool:
        return self.spent_usd >= self.limit_usd


@dataclass
class Attempt:
    provider: str
    outcome: str


@dataclass
class LlmDraft:
    plan: CheckedPlan
    provider: str
    model: str


@dataclass
class DraftReport:
    """What happened, in order: a provider skipped, failing, answering badly or answering well."""

    attempts: list[Attempt] = field(default_factory=list)
    draft: LlmDraft | None = None
    stopped_by_budget: bool = False


async def draft_plan(
    models: PlanModels, prompt: Prompt, team: tuple[TeamMember, ...], budget: Budget, sink: UsageSink
) -> DraftReport:
    """Try each provider in order; the report's draft is None when the templates must plan."""
    report = DraftReport()
    for entry in models.models:
        provider = str(entry.client.provider)
        if not entry.breaker.allows():
            report.attempts.append(Attempt(provider, "skipped: circuit open"))
            continue
        turns: list[Turn] = [Turn("user", prompt.user)]
        for purpose in (PLAN_PURPOSE, REPAIR_PURPOSE):
            if budget.exhausted:
                report.stopped_by_budget = True
                report.attempts.append(Attempt(provider, "stopped: budget spent"))
                return report
            try:
                result = await entry.client.complete(_request(prompt, turns))
            except LlmUnavailable as exc:
                entry.breaker.record_failure()
                log.warning("LLM planner: %s", exc)
                report.attempts.append(Attempt(provider, f"unavailable: {exc.reason}"))
                break
            entry.breaker.record_success()
            try:
                plan = check_plan(parse_plan(result.text), team, prompt.handles)
            except MalformedPlan as exc:
                await _record(models, budget, sink, result, purpose, CallOutcome.MALFORMED, entry.client.model)
                report.attempts.append(Attempt(provider, f"malformed: {exc}"))
                turns += [Turn("assistant", result.text), Turn("user", repair_message(str(exc)))]
                continue
            except UnusablePlan as exc:
                await _record(models, budget, sink, result, purpose, CallOutcome.REJECTED, entry.client.model)
                report.attempts.append(Attempt(provider, f"rejected: {exc}"))
                break
            await _record(models, budget, sink, result, purpose, CallOutcome.ACCEPTED, entry.client.model)
            report.attempts.append(Attempt(provider, "accepted"))
            report.draft = LlmDraft(plan, provider, result.model)
            return report
    return report


def _request(prompt: Prompt, turns: Sequence[Turn]) -> LlmRequest:
    return LlmRequest(
        static_system=prompt.static_system,
        dynamic_system=prompt.dynamic_system,
        turns=tuple(turns),
        schema_name=SCHEMA_NAME,
        schema=prompt.schema,
    )


async def _record(
    models: PlanModels, budget: Budget, sink: UsageSink, result: LlmResult, purpose: str, outcome: CallOutcome,
    requested: str,
) -> None:
    cost = cost_usd(result, models.price_for(result.model, requested))
    budget.spent_usd += cost
    await sink(
        UsageRecord(
            provider=str(result.provider),
            model=result.model,
            purpose=purpose,
            outcome=str(outcome),
            input_tokens=result.input_tokens,
            output_tokens=result.output_tokens,
            cache_read_tokens=result.cache_read_tokens,
            cache_write_tokens=result.cache_write_tokens,
            cost_usd=cost,
        )
    )
