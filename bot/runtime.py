"""Starting and stopping a whole Liftoff: migrations, services, Slack app, web server."""

from __future__ import annotations

import asyncio
import gc
import logging
from dataclasses import dataclass, field

import aiohttp
from slack_bolt.async_app import AsyncApp

from agents.guardrail import warm_up
from bot.scheduler import InProcessScheduler
from bot.server import RunningServer, build_web_app, start_server
from bot.services import Services
from bot.settings import Settings
from bot.wiring import build_app, build_services
from storage.migrate import upgrade_async

log = logging.getLogger(__name__)

# The database connections `liftoff serve` opens at start: what 20 concurrent requests keep busy.
WARM_CONNECTIONS = 20


@dataclass
class RunningLiftoff:
    services: Services
    bolt: AsyncApp
    server: RunningServer
    # The embedded schedule (digests, notification delivery, the daily audit purge); None on RQ, where the
    # `liftoff scheduler` process runs it.
    scheduler: InProcessScheduler | None = field(default=None)

    @property
    def url(self) -> str:
        return self.server.url

    async def stop(self) -> None:
        if self.scheduler is not None:
            await self.scheduler.stop()
        await self.server.stop()
        if self.services.slack.http is not None:
            await self.services.slack.http.close()
        await self.services.db.dispose()


async def start_liftoff(settings: Settings, *, host: str = "127.0.0.1", port: int = 3000,
                        migrate: bool = True, reuse_port: bool = False, warm_connections: int = 0) -> RunningLiftoff:
    if migrate:
        await upgrade_async(settings.database_url)
    services = build_services(settings)
    await services.db.warm(warm_connections)
    # The PII engine is built now, not by the first request that redacts (an edit, a re-plan, a question; and
    # with inline jobs every plan): loading it takes a few hundred milliseconds, and the event loop would stall
    # every request in flight while it did.
    await asyncio.to_thread(warm_up)
    bolt, authorizer = build_app(services)
    services.slack.share_connections(aiohttp.ClientSession(), bolt.client)
    if authorizer is not None:
        # One auth.test at start: a bad token fails here, and no request ever waits on it before its ack.
        identity = await authorizer.prime()
        log.info("connected to Slack team %s as bot %s", identity.team_id, identity.bot_user_id)
    else:
        log.info("multi-workspace mode: install Liftoff into a workspace at /slack/install")
    # Everything built so far (the imported libraries, the app, the listeners) lives as long as the process: out
    # of the collector's sight, a full collection no longer walks that heap, which paused every request for a
    # few hundred milliseconds now and then.
    gc.collect()
    gc.freeze()
    server = await start_server(build_web_app(bolt, services), host, port, reuse_port=reuse_port)
    scheduler = InProcessScheduler(services) if settings.jobs_inline else None
    if scheduler is not None:
        scheduler.start()
    return RunningLiftoff(services=services, bolt=bolt, server=server, scheduler=scheduler)
