"""Builds Services and the Bolt app from Settings. Nothing here is module-level state."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.authorization import BotTokenAuthorizer
from bot.installations import StoredBotAuthorize, build_oauth_flow, build_workspace_tokens
from bot.jobs import InlineJobs, build_queue
from bot.llm_setup import build_plan_models
from bot.prompt_ack import answer_on_ack
from bot.respond import respond_to
from bot.services import SERVICES_KEY, Services, SlackClients, build_web_client
from bot.settings import Settings
from bot.team_guard import refuse_other_teams
from handlers import register_all
from storage.db import Database

# How each kind of process names its PostgreSQL sessions (pg_stat_activity.application_name).
WEB_PROCESS = "liftoff-web"
WORKER_PROCESS = "liftoff-worker"


def build_services(settings: Settings, *, process: str = WEB_PROCESS) -> Services:
    """`process` (WEB_PROCESS, WORKER_PROCESS) names this process's database sessions."""
    jobs = build_queue(settings)
    db = Database(settings.database_url, encryption_key=settings.encryption_key, application_name=process)
    tokens = build_workspace_tokens(settings, db) if settings.multi_workspace else None
    services = Services(settings=settings, db=db, jobs=jobs, slack=SlackClients(settings, tokens),
                        llm=build_plan_models(settings))
    if isinstance(jobs, InlineJobs):
        jobs.bind(services)
    return services


def build_app(services: Services) -> tuple[AsyncApp, BotTokenAuthorizer | None]:
    """The Bolt app; the authorizer to prime at start in single-workspace mode (None with OAuth)."""
    settings = services.settings
    # Tokenless: Bolt gives each request a copy carrying the token that authorize() returns.
    client = build_web_client(settings, None)
    authorizer: BotTokenAuthorizer | None = None
    tokens = services.slack.tokens
    if tokens is not None:
        app = AsyncApp(
            signing_secret=settings.slack_signing_secret,
            authorize=StoredBotAuthorize(tokens),
            oauth_flow=build_oauth_flow(settings, services.db, tokens.store, client),
            client=client,
            logger=logging.getLogger("liftoff.slack"),
        )
    else:
        authorizer = BotTokenAuthorizer(services.slack.default_client)
        app = AsyncApp(
            signing_secret=settings.slack_signing_secret,
            # One token serves one workspace: a signed request from any other team is refused before authorize.
            before_authorize=refuse_other_teams(authorizer),
            authorize=authorizer.as_bolt_authorize(),
            client=client,
            logger=logging.getLogger("liftoff.slack"),
        )

    @app.middleware
    async def provide_services(context: Any, next: Any) -> Any:  # noqa: A002 - Bolt passes `next`
        context[SERVICES_KEY] = services
        http = services.slack.http
        if http is not None and context.response_url:
            context["respond"] = respond_to(context.response_url, http)
        return await next()

    register_all(app)
    answer_on_ack(app)
    return app, authorizer
