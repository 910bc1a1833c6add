"""OpenAI Chat Completions client: JSON output through response_format with the plan's schema."""

from __future__ import annotations

from typing import Any

import openai

from integrations.llm.types import ClientOptions, LlmRequest, LlmResult, LlmUnavailable, Provider


class OpenAIClient:
    provider = Provider.OPENAI

    def __init__(self, options: ClientOptions) -> None:
        self.model = options.model
        self._sdk = openai.AsyncOpenAI(**options.sdk_kwargs())

    async def complete(self, request: LlmRequest) -> LlmResult:
        """One call; the SDK retries 429 (honouring retry-after), 5xx and timeouts before we give up."""
        try:
            completion = await self._sdk.chat.completions.create(
                model=self.model,
                max_completion_tokens=request.max_output_tokens,
                messages=chat_messages(request),  # type: ignore[arg-type]
                response_format={  # type: ignore[typeddict-item]
                    "type": "json_schema",
                    "json_schema": {"name": request.schema_name, "schema": request.schema, "strict": True},
                },
            )
        except openai.APITimeoutError as exc:
            raise LlmUnavailable(self.provider, "timed out") from exc
        except openai.APIStatusError as exc:
            raise LlmUnavailable(self.provider, f"HTTP {exc.status_code}") from exc
        except openai.APIConnectionError as exc:
            raise LlmUnavailable(self.provider, "could not connect") from exc
        if not completion.choices:
            raise LlmUnavailable(self.provider, "the answer had no choices")
        choice = completion.choices[0]
        usage = completion.usage
        prompt = usage.prompt_tokens if usage else 0
        details = usage.prompt_tokens_details if usage else None
        cached = (details.cached_tokens or 0) if details else 0
        return LlmResult(
            provider=self.provider,
            model=completion.model or self.model,
            text=choice.message.content or "",
            input_tokens=max(prompt - cached, 0),
            output_tokens=usage.completion_tokens if usage else 0,
            cache_read_tokens=cached,
            stop_reason=choice.finish_reason,
        )

    async def close(self) -> None:
        await self._sdk.close()


def chat_messages(request: LlmRequest) -> list[dict[str, Any]]:
    """Static system text first so OpenAI's automatic prefix caching can reuse it across launches."""
    messages: list[dict[str, Any]] = [{"role": "system", "content": request.static_system}]
    if request.dynamic_system:
        messages.append({"role": "system", "content": request.dynamic_system})
    messages.extend({"role": t.role, "content": t.text} for t in request.turns)
    return messages
