"""Prices per model in USD per million tokens, and the cost of one call.

The defaults are the providers' list prices; LLM_PRICES (JSON, read in bot/settings.py) overrides or adds models.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from integrations.llm.types import LlmResult

PER_MILLION = 1_000_000


@dataclass(frozen=True)
class Price:
    input: float
    output: float
    cache_read: float
    cache_write: float


DEFAULT_PRICES: dict[str, Price] = {
    "claude-opus-4-6": Price(5.0, 25.0, 0.50, 6.25),
    "claude-opus-4-5": Price(5.0, 25.0, 0.50, 6.25),
    "claude-sonnet-4-6": Price(3.0, 15.0, 0.30, 3.75),
    "claude-sonnet-4-5": Price(3.0, 15.0, 0.30, 3.75),
    "claude-haiku-4-5": Price(1.0, 5.0, 0.10, 1.25),
    "gpt-4.1": Price(2.0, 8.0, 0.50, 2.0),
    "gpt-4.1-mini": Price(0.40, 1.60, 0.10, 0.40),
    "gpt-5": Price(1.25, 10.0, 0.125, 1.25),
    "gpt-5-mini": Price(0.25, 2.0, 0.025, 0.25),
}


def cost_usd(result: LlmResult, price: Price) -> float:
    return (
        result.input_tokens * price.input
        + result.output_tokens * price.output
        + result.cache_read_tokens * price.cache_read
        + result.cache_write_tokens * price.cache_write
    ) / PER_MILLION


def parse_prices(raw: str) -> dict[str, Price]:
    """Prices from JSON like {"model": {"input": 3, "output": 15, "cache_read": 0.3, "cache_write": 3.75}}.

    cache_read and cache_write default to the input price. Raises ValueError with a one-line reason.
    """
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg})") from None
    if not isinstance(data, Mapping):
        raise ValueError("must be a JSON object of model -> prices")
    prices: dict[str, Price] = {}
    for model, entry in data.items():
        if not isinstance(entry, Mapping) or not {"input", "output"} <= set(entry):
            raise ValueError(f"{model!r} needs at least input and output prices")
        try:
            values = {k: float(entry.get(k, entry["input"])) for k in ("input", "output", "cache_read", "cache_write")}
        except (TypeError, ValueError):
            raise ValueError(f"{model!r} has a price that is not a number") from None
        if any(v < 0 for v in values.values()):
            raise ValueError(f"{model!r} has a negative price")
        prices[str(model)] = Price(**values)
    return prices


def price_table(overrides: Mapping[str, Price] | None = None) -> dict[str, Price]:
    return {**DEFAULT_PRICES, **(overrides or {})}
