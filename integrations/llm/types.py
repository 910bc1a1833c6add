"""What every LLM client takes and returns, so the planner never sees a provider's SDK types."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol


class Provider(StrEnum):
    ANTHROPIC = "anthropic"
    OPENAI = "openai"


@dataclass(frozen=True)
class Turn:
    """One message of the conversation after the system prompt."""

    role: str  # "user" or "assistant"
    text: str


@dataclass(frozen=True)
class LlmRequest:
    """A JSON-producing call: a static system part (the same for every call, so it can be cached),
    a dynamic system part, the conversation, and the JSON schema the answer must follow."""

    static_system: str
    dynamic_system: str
    turns: tuple[Turn, ...]
    schema_name: str
    schema: dict[str, Any]
    max_output_tokens: int = 8000


@dataclass(frozen=True)
class LlmResult:
    """The model's text and what it cost in tokens. `input_tokens` excludes cache reads and writes."""

    provider: Provider
    model: str
    text: str
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    stop_reason: str | None = None

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens + self.cache_read_tokens + self.cache_write_tokens


class LlmUnavailable(RuntimeError):
    """The provider did not answer usefully (after the SDK's own retries): try the next one."""

    def __init__(self, provider: Provider, reason: str) -> None:
        super().__init__(f"{provider}: {reason}")
        self.provider = provider
        self.reason = reason


class LlmClient(Protocol):
    provider: Provider
    model: str

    async def complete(self, request: LlmRequest) -> LlmResult: ...


@dataclass
class ClientOptions:
    """How a client reaches its provider; built from settings in bot/, passed in here."""

    api_key: str
    model: str
    base_url: str | None = None
    timeout_s: float = 60.0
    max_retries: int = 2
    extra_headers: dict[str, str] = field(default_factory=dict)

    def sdk_kwargs(self) -> dict[str, Any]:
        """The constructor arguments the anthropic and openai SDK clients both take."""
        return {
            "api_key": self.api_key,
            "base_url": self.base_url,
            "timeout": self.timeout_s,
            "max_retries": self.max_retries,
            "default_headers": self.extra_headers or None,
        }
