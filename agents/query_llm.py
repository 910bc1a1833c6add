"""The LLM path of `/okr ask`: the providers the launch planner uses (Anthropic first, then OpenAI), asked for
the typed query as JSON under its schema. The answer is validated by agents/query_types.py before use; anything
else (no provider answering, malformed JSON) raises QueryError and the rule parser answers instead.

People's names never reach a model: they are replaced by Slack mentions (<@U…>) before the question is sent,
and the model may only name an owner by such an id.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Sequence
from typing import Any

from agents.llm_planner import PlanModel, PlanModels
from agents.query_types import QueryError
from integrations.llm.types import LlmRequest, LlmUnavailable, Turn

log = logging.getLogger(__name__)

SCHEMA_NAME = "okr_query"
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
    """A QueryModel over the planner's providers, in order, each behind its circuit breaker."""

    def __init__(self, models: Sequence[PlanModel], timeout_s: float = QUERY_TIMEOUT_SECONDS) -> None:
        self.models = list(models)
        self.timeout_s = timeout_s

    async def complete_json(self, system: str, user: str, schema: dict[str, Any]) -> dict[str, Any]:
        request = LlmRequest(static_system=system, dynamic_system="", turns=(Turn("user", user),),
                             schema_name=SCHEMA_NAME, schema=schema, max_output_tokens=MAX_OUTPUT_TOKENS)
        for entry in self.models:
            provider = str(entry.client.provider)
            if not entry.breaker.allows():
                continue
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
                log.warning("OKR question: %s answered with malformed JSON", provider)
                continue
            if isinstance(data, dict):
                return data
        raise QueryError("no model gave a query")


def query_model(llm: PlanModels | None) -> LlmQueryModel | None:
    """The LLM path when keys are set (and LLM use is not turned off with LLM_BUDGET_USD=0); None: rules only."""
    if llm is None or not llm.models or llm.budget_usd <= 0:
        return None
    return LlmQueryModel(llm.models)
