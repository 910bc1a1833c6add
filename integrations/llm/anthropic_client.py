"""Anthropic Messages API client: the static system block is marked for prompt caching."""

from __future__ import annotations

from typing import Any

import anthropic

from integrations.llm.types import ClientOptions, LlmRequest, LlmResult, LlmUnavailable, Provider

CACHE_CONTROL = {"type": "ephemeral"}


class AnthropicClient:
    provider = Provider.ANTHROPIC

    def __init__(self, options: ClientOptions) -> None:
        self.model = options.model
        self._sdk = anthropic.AsyncAnthropic(**options.sdk_kwargs())

    async def complete(self, request: LlmRequest) -> LlmResult:
        """One call; the SDK retries 429 (honouring retry-after), 529 and timeouts before we give up."""
        try:
            message = await self._sdk.messages.create(
                model=self.model,
                max_tokens=request.max_output_tokens,
                system=system_blocks(request),
                messages=[{"role": t.role, "content": t.text} for t in request.turns],  # type: ignore[misc]
                output_config={"format": {"type": "json_schema", "schema": request.schema}},
            )
        except anthropic.APITimeoutError as exc:
            raise LlmUnavailable(self.provider, "timed out") from exc
        except anthropic.APIStatusError as exc:
            raise LlmUnavailable(self.provider, f"HTTP {exc.status_code}") from exc
        except anthropic.APIConnectionError as exc:
            raise LlmUnavailable(self.provider, "could not connect") from exc
        text = "".join(getattr(block, "text", "") for block in message.content if block.type == "text")
        usage = message.usage
        return LlmResult(
            provider=self.provider,
            model=str(message.model or self.model),
            text=text,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cache_read_tokens=usage.cache_read_input_tokens or 0,
            cache_write_tokens=usage.cache_creation_input_tokens or 0,
            stop_reason=message.stop_reason,
        )

    async def close(self) -> None:
        await self._sdk.close()


def system_blocks(request: LlmRequest) -> list[dict[str, Any]]:
    """The static part first, cached (it is the same for every launch); the dynamic part after it."""
    blocks: list[dict[str, Any]] = [
        {"type": "text", "text": request.static_system, "cache_control": dict(CACHE_CONTROL)}
    ]
    if request.dynamic_system:
        blocks.append({"type": "text", "text": request.dynamic_system})
    return blocks
