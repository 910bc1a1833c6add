"""The LLM path of `/okr ask`: the providers the launch planner uses (Anthropic first, then OpenAI), asked for
the typed query as JSON under its schema. The answer is validated by agents/query_types.py before use; anything
else (no provider answering, malformed JSON) raises QueryError and the rule parser answers instead.

People's names never reach a model: they are replaced by Slack mentions (<@U…>) before the question is sent,
and the model may only name an owner by such an id.

Every answer's tokens and cost are recorded as it arrives (storage/llm_usage.py, a row of the workspace with no
launch), and a workspace's questions share a monthly budget: once it is spent, the rule parser answers alone.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from agents.llm_planner import Budget, PlanModel, PlanModels, UsageSink
from agents.query_types import QueryError
from integrations.llm.pricing import cost_usd
from integrations.llm.types import LlmRequest, LlmResult, LlmUnavailable, Turn
from storage.db import Database
from storage.llm_usage import CallOutcome, LlmUsageRepository, UsageRecord
from storage.scope import Scope

log = logging.getLogger(__name__)

SCHEMA_NAME = "okr_query"
QUESTION_PURPOSE = "question"
# A question is a short interactive wait; a provider slower than this is skipped for the next one.
QUERY_TIMEOUT_SECONDS = 20.0
MAX_OUTPUT_TOKENS = 400


def mask_people(question: str, people: dict[str, str]) -> str:
    """Full names, and first names written with their capital that only one person has, become <@ID>."""
    masked = question
    for slack_id, name in sorted(people.items(), key=lambda item: len(item[1]), reverse=True):
        if name.strip():
            masked = re.sub(r"\b" + re.escape(name) + r"\b", f"<@{slack_id}>", masked, flags=re.IGNORECASE)
    firsts: dict[str, list[str]] = {}
    for slack_id, name in people.items():
        if name.strip():
            firsts.setdefault(name.split()[0], []).append(slack_id)
    for first, ids in firsts.items():
        if len(ids) == 1 and first[:1].isupper():
            masked = re.sub(r"\b" + re.escape(first) + r"\b", f"<@{ids[0]}>", masked)
    return masked


class LlmQueryModel:
    """A QueryModel over the planner's providers, in order, each behind its circuit breaker.

    With `llm`, `budget` and `sink` (metered_query_model), each answer's usage goes to the sink and no call is
    made once the budget is spent."""

    def __init__(self, models: Sequence[PlanModel], timeout_s: float = QUERY_TIMEOUT_SECONDS, *,
                 llm: PlanModels | None = None, budget: Budget | None = None, sink: UsageSink | None = None) -> None:
        self.models = list(models)
        self.timeout_s = timeout_s
        self.llm = llm
        self.budget = budget
        self.sink = sink

    async def complete_json(self, system: str, user: str, schema: dict[str, Any],
                            check: Callable[[dict[str, Any]], object] | None = None) -> dict[str, Any]:
        """The first provider's answer that is a JSON object (and passes `check`, which raises QueryError)."""
        request = LlmRequest(static_system=system, dynamic_system="", turns=(Turn("user", user),),
                             schema_name=SCHEMA_NAME, schema=schema, max_output_tokens=MAX_OUTPUT_TOKENS)
        for entry in self.models:
            provider = str(entry.client.provider)
            if not entry.breaker.allows():
                continue
            if self.budget is not None and self.budget.exhausted:
                raise QueryError("the monthly LLM budget for questions is spent")
            try:
                result = await asyncio.wait_for(entry.client.complete(request), self.timeout_s)
            except (LlmUnavailable, TimeoutError) as exc:
                entry.breaker.record_failure()
                log.warning("OKR question: %s did not answer (%s)", provider, exc)
                continue
            entry.breaker.record_success()
            try:
                data = json.loads(result.text)
            except ValueError:
                data = None
            if not isinstance(data, dict):
                log.warning("OKR question: %s answered with malformed JSON", provider)
                await self._record(result, CallOutcome.MALFORMED, entry.client.model)
                continue
            try:
                if check is not None:
                    check(data)
            except QueryError as exc:
                log.warning("OKR question: %s gave a query that does not validate (%s)", provider, exc)
                await self._record(result, CallOutcome.REJECTED, entry.client.model)
                continue
            await self._record(result, CallOutcome.ACCEPTED, entry.client.model)
            return data
        raise QueryError("no model gave a query")

    async def _record(self, result: LlmResult, outcome: CallOutcome, requested: str) -> None:
        if self.llm is None or self.sink is None:
            return
        cost = cost_usd(result, self.llm.price_for(result.model, requested))
        if self.budget is not None:
            self.budget.spent_usd += cost
        await self.sink(UsageRecord(
            provider=str(result.provider), model=result.model, purpose=QUESTION_PURPOSE, outcome=str(outcome),
            input_tokens=result.input_tokens, output_tokens=result.output_tokens,
            cache_read_tokens=result.cache_read_tokens, cache_write_tokens=result.cache_write_tokens, cost_usd=cost,
        ))


def query_model(llm: PlanModels | None) -> LlmQueryModel | None:
    """The LLM path when keys are set (and LLM use is not turned off with LLM_BUDGET_USD=0); None: rules only.

    Unmetered: nothing is recorded. Slack and the CLI use metered_query_model."""
    if llm is None or not llm.models or llm.budget_usd <= 0:
        return None
    return LlmQueryModel(llm.models)


def month_start(now: datetime) -> datetime:
    """The first instant of `now`'s calendar month (in now's timezone, UTC for the app)."""
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


async def metered_query_model(llm: PlanModels | None, db: Database, scope: Scope,
                              now: datetime) -> LlmQueryModel | None:
    """The LLM path of one question, recording every call for the workspace; None (rules only) without keys, with
    LLM use turned off, or when the workspace's questions have spent this month's budget."""
    if query_model(llm) is None or llm is None or llm.question_budget_usd <= 0:
        return None
    async with db.reader() as session:
        spent = await LlmUsageRepository(session, scope).workspace_spent_usd(month_start(now))
    budget = Budget(llm.question_budget_usd, spent)
    if budget.exhausted:
        log.info("OKR questions of %s: this month's LLM budget (%.2f USD) is spent; rules only",
                 scope.workspace_id, llm.question_budget_usd)
        return None

    async def record(usage: UsageRecord) -> None:
        async with db.session() as session:
            await LlmUsageRepository(session, scope).record(None, usage)

    return LlmQueryModel(llm.models, llm=llm, budget=budget, sink=record)
