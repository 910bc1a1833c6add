"""What listeners and jobs need, built once from settings and passed in (never module-level)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient

from bot.settings import Settings
from storage.db import Database

if TYPE_CHECKING:
    from agents.llm_planner import PlanModels
    from bot.installations import WorkspaceTokens
    from bot.jobs import JobQueue

SERVICES_KEY = "liftoff_services"


@dataclass
class Services:
    settings: Settings
    db: Database
    jobs: JobQueue
    slack: SlackClients
    # The LLM planner's providers; None without keys (the template planner then plans).
    llm: PlanModels | None = None


class SlackClients:
    """Web API clients per workspace. Single-workspace mode: one bot token for every team;
    multi-workspace mode (tokens given): the workspace's installed bot token, rotated when due."""

    def __init__(self, settings: Settings, tokens: WorkspaceTokens | None = None) -> None:
        self.settings = settings
        self.tokens = tokens
        self.default_client = build_web_client(settings, settings.slack_bot_token)
        self.http: aiohttp.ClientSession | None = None

    def share_connections(self, http: aiohttp.ClientSession, *clients: AsyncWebClient) -> None:
        """Let every Web API call of this process reuse `http`'s kept-alive connections (a long-running
        process only: the session belongs to its event loop); without it slack_sdk opens one per call."""
        self.http = http
        for client in (self.default_client, *clients):
            client.session = http

    async def for_workspace(self, workspace_id: str) -> AsyncWebClient:
        if self.tokens is None:
            return self.default_client
        bot = await self.tokens.bot(workspace_id)
        if bot is None or not bot.bot_token:
            raise LookupError(f"Liftoff is not installed in workspace {workspace_id}")
        client = build_web_client(self.settings, bot.bot_token)
        client.session = self.http
        return client


def build_web_client(settings: Settings, token: str | None) -> AsyncWebClient:
    from slack_sdk.http_retry.builtin_async_handlers import (
        AsyncConnectionErrorRetryHandler,
        AsyncRateLimitErrorRetryHandler,
    )

    return AsyncWebClient(
        token=token,
        base_url=settings.slack_api_url,
        retry_handlers=[AsyncConnectionErrorRetryHandler(), AsyncRateLimitErrorRetryHandler(max_retry_count=2)],
    )


def services_of(context: Any) -> Services:
    """The Services a Bolt middleware put into the listener's context."""
    return context[SERVICES_KEY]
