"""Builds Services and the Bolt app from Settings. Nothing here is module-level state."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.authorization import BotTokenAuthorizer
from bot.jobs import InlineJobs, build_queue
from bot.services import SERVICES_KEY, Services, SlackClients, build_web_client
from bot.settings import Settings
from handlers import register_all
from storage.db import Database


def build_services(settings: Settings) -> Services:
    jobs = build_queue(settings)
    services = Services(settings=settings, db=Database(settings.database_url), jobs=jobs, slack=SlackClients(settings))
    if isinstance(jobs, InlineJobs):
        jobs.bind(services)
    return services


def build_app(services: Services) -> tuple[AsyncApp, BotTokenAuthorizer]:
    settings = services.settings
    authorizer = BotTokenAuthorizer(services.slack.default_client)
    app = AsyncApp(
        signing_secret=settings.slack_signing_secret,
        authorize=authorizer.as_bolt_authorize(),
        # Tokenless: Bolt gives each request a copy carrying the token that authorize() returns.
        client=build_web_client(settings, None),
        logger=logging.getLogger("liftoff.slack"),
    )

    @app.middleware
    async def provide_services(context: Any, next: Any) -> Any:  # noqa: A002 - Bolt passes `next`
        context[SERVICES_KEY] = services
        return await next()

    register_all(app)
    return app, authorizer
