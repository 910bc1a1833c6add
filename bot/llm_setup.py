"""Builds the LLM planner's providers from settings: Anthropic first, OpenAI second, only those with a key."""

from __future__ import annotations

from agents.llm_planner import PlanModel, PlanModels
from bot.settings import Settings
from integrations.llm.anthropic_client import AnthropicClient
from integrations.llm.openai_client import OpenAIClient
from integrations.llm.types import ClientOptions

# The SDKs' own retries (429 honouring retry-after, 529/5xx, timeouts) before we move to the next provider.
LLM_MAX_RETRIES = 2


def build_plan_models(settings: Settings) -> PlanModels | None:
    """None without any LLM key: the planner then uses its templates, exactly as offline."""
    models: list[PlanModel] = []
    if settings.anthropic_api_key:
        models.append(PlanModel(AnthropicClient(_options(settings, settings.anthropic_api_key,
                                                          settings.anthropic_model, settings.anthropic_base_url))))
    if settings.openai_api_key:
        models.append(PlanModel(OpenAIClient(_options(settings, settings.openai_api_key,
                                                      settings.openai_model, settings.openai_base_url))))
    if not models:
        return None
    return PlanModels(models=models, prices=dict(settings.llm_prices), budget_usd=settings.llm_budget_usd,
                      question_budget_usd=settings.llm_question_budget_usd)


def _options(settings: Settings, key: str, model: str, base_url: str | None) -> ClientOptions:
    return ClientOptions(
        api_key=key, model=model, base_url=base_url, timeout_s=settings.llm_timeout_seconds,
        max_retries=LLM_MAX_RETRIES,
    )
