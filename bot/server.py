"""The aiohttp web server: Slack events at /slack/events, health at /healthz."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from email.utils import format_datetime

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from sqlalchemy import text

from bot.answers_first import AnswersFirst
from bot.prompt_ack import answers_first_of
from bot.services import Services
from bot.slack_request import to_bolt_request

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
SERVICES_APP_KEY = web.AppKey("services", Services)
BOLT_APP_KEY = web.AppKey("bolt", AsyncApp)
ANSWERS_FIRST_APP_KEY = web.AppKey("answers_first", AnswersFirst)


def build_web_app(bolt: AsyncApp, services: Services) -> web.Application:
    web_app = web.Application(client_max_size=MAX_BODY_BYTES)
    web_app[SERVICES_APP_KEY] = services
    web_app[BOLT_APP_KEY] = bolt
    web_app[ANSWERS_FIRST_APP_KEY] = answers_first_of(bolt)
    web_app.router.add_post("/slack/events", slack_events)
    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/calendar/{kind:person|launch}/{token}.ics", calendar_feed)
    from bot.metrics_webhook import add_routes as add_metrics_routes

    add_metrics_routes(web_app, services)
    from bot.tracker_webhooks import add_routes as add_tracker_webhook_routes

    add_tracker_webhook_routes(web_app, services)
    if bolt.oauth_flow is not None:
        web_app.router.add_get(bolt.oauth_flow.install_path, slack_oauth)
        web_app.router.add_get(bolt.oauth_flow.redirect_uri_path, slack_oauth)
    return web_app


async def slack_events(request: web.Request) -> web.Response:
    bolt = request.app[BOLT_APP_KEY]
    # Counted from arrival to answer: listeners that have answered wait for these (bot/answers_first.py).
    with request.app[ANSWERS_FIRST_APP_KEY].awaiting_answer():
        response = await bolt.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(response)


async def slack_oauth(request: web.Request) -> web.Response:
    """The OAuth install flow: /slack/install sends the person to Slack, /slack/oauth_redirect stores the tokens."""
    flow = request.app[BOLT_APP_KEY].oauth_flow
    assert flow is not None
    bolt_request = await to_bolt_request(request)
    if request.path == flow.install_path:
        response = await flow.handle_installation(bolt_request)
    else:
        response = await flow.handle_callback(bolt_request)
    return await to_aiohttp_response(response)


async def calendar_feed(request: web.Request) -> web.Response:
    """A secret calendar URL: the iCalendar feed, or 404 alike for a token that never existed or was revoked."""
    from agents.calendar_feed import load_feed
    from agents.guardrail import GuardrailError
    from storage.calendar import FeedKind

    try:
        feed = await load_feed(request.app[SERVICES_APP_KEY].db, FeedKind(request.match_info["kind"]),
                               request.match_info["token"])
    except GuardrailError as error:  # an unchecked text never leaves the workspace
        log.error("calendar feed not served (%s): %s", error.error_id, error)
        return web.Response(status=503, text="Try again later.")
    if feed is None:
        return web.Response(status=404, text="Not found.")
    headers = {"ETag": feed.etag, "Last-Modified": format_datetime(feed.last_modified, usegmt=True),
               "Cache-Control": "private, max-age=900"}
    if feed.etag in request.headers.get("If-None-Match", ""):
        return web.Response(status=304, headers=headers)
    return web.Response(body=feed.body, content_type="text/calendar", charset="utf-8", headers=headers)


async def healthz(request: web.Request) -> web.Response:
    services = request.app[SERVICES_APP_KEY]
    try:
        async with services.db.reader() as session:
            await session.execute(text("SELECT 1"))
    except Exception:
        log.exception("health check: database unreachable")
        return web.json_response({"ok": False, "database": "unreachable"}, status=503)
    return web.json_response({"ok": True, "database": "ok", "jobs": "inline" if services.settings.jobs_inline
                              else "rq"})


@dataclass
class RunningServer:
    runner: web.AppRunner
    url: str

    async def stop(self) -> None:
        await self.runner.cleanup()


async def start_server(web_app: web.Application, host: str, port: int, *, reuse_port: bool = False) -> RunningServer:
    """Serve web_app; with reuse_port, several processes listen on one port and the kernel shares connections."""
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_port=reuse_port or None)
    await site.start()
    bound = runner.addresses[0]
    return RunningServer(runner=runner, url=f"http://{bound[0]}:{bound[1]}")
