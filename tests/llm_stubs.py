"""Local stand-ins for the Anthropic Messages API and OpenAI Chat Completions, scriptable per test.

Each provider has a queue of replies; a request takes the next one (or the default when the queue is
empty) and is recorded with its headers and JSON body, so tests can assert on what the model saw.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Reply:
    status: int = 200
    body: dict[str, Any] | str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    hang_s: float = 0.0


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    at: float


@dataclass
class Script:
    replies: deque[Reply] = field(default_factory=deque)
    default: Reply | None = None
    requests: list[Recorded] = field(default_factory=list)

    def queue(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    def next(self) -> Reply:
        if self.replies:
            return self.replies.popleft()
        if self.default is not None:
            return self.default
        return Reply(500, {"error": "the test scripted no reply"})

    def reset(self) -> None:
        self.replies.clear()
        self.default = None
        self.requests.clear()


# --- wire-format builders -------------------------------------------------------------------------


def anthropic_message(
    text: str, *, model: str = "claude-sonnet-4-5", input_tokens: int = 900, output_tokens: int = 1200,
    cache_read: int = 0, cache_write: int = 0, stop_reason: str = "end_turn",
) -> Reply:
    return Reply(200, {
        "id": f"msg_{uuid.uuid4().hex[:20]}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": text}],
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "cache_read_input_tokens": cache_read,
            "cache_creation_input_tokens": cache_write,
        },
    }, {"request-id": f"req_{uuid.uuid4().hex[:12]}"})


def anthropic_error(status: int, kind: str, *, retry_after: str | None = None) -> Reply:
    headers = {"retry-after": retry_after} if retry_after is not None else {}
    return Reply(status, {"type": "error", "error": {"type": kind, "message": f"stub {kind}"}}, headers)


def openai_completion(
    text: str, *, model: str = "gpt-4.1-mini", prompt_tokens: int = 1500, completion_tokens: int = 1100,
    cached_tokens: int = 0,
) -> Reply:
    return Reply(200, {
        "id": f"chatcmpl-{uuid.uuid4().hex[:20]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": text, "refusal": None},
            "finish_reason": "stop",
            "logprobs": None,
        }],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": cached_tokens},
        },
    })


def openai_error(status: int, code: str, *, retry_after: str | None = None) -> Reply:
    headers = {"retry-after": retry_after} if retry_after is not None else {}
    return Reply(status, {"error": {"message": f"stub {code}", "type": code, "param": None, "code": code}}, headers)


# --- the server -----------------------------------------------------------------------------------


class LlmStubServer:
    """Both providers on one 127.0.0.1 port: POST /v1/messages and POST /v1/chat/completions."""

    def __init__(self) -> None:
        self.anthropic = Script()
        self.openai = Script()
        self._runner: web.AppRunner | None = None
        self._release = asyncio.Event()
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def anthropic_url(self) -> str:
        return self.url

    @property
    def openai_url(self) -> str:
        return self.url + "/v1"

    def reset(self) -> None:
        self.anthropic.reset()
        self.openai.reset()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/messages", self._handler(self.anthropic))
        app.router.add_post("/v1/chat/completions", self._handler(self.openai))
        self._runner = web.AppRunner(app, handler_cancellation=True)
        await self._runner.setup()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()

    def _handler(self, script: Script) -> Any:
        async def handle(request: web.Request) -> web.StreamResponse:
            raw = await request.read()
            try:
                body = json.loads(raw)
            except ValueError:
                return web.json_response({"error": "request body is not JSON"}, status=400)
            script.requests.append(Recorded(request.path, dict(request.headers), body, time.monotonic()))
            reply = script.next()
            if reply.hang_s:
                try:
                    await asyncio.wait_for(self._release.wait(), reply.hang_s)
                except TimeoutError:
                    pass
            if isinstance(reply.body, str):
                return web.Response(status=reply.status, text=reply.body, headers=reply.headers,
                                    content_type="application/json")
            return web.json_response(reply.body, status=reply.status, headers=reply.headers)

        return handle
