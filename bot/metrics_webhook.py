"""POST /webhooks/metrics: an inbound metric, HMAC-signed with the workspace's secret, becomes check-ins.

Headers: X-Liftoff-Workspace (the Slack team id), X-Liftoff-Timestamp (seconds), X-Liftoff-Signature
("v0=" + hex HMAC-SHA256 of "v0:TIMESTAMP:BODY"). Body: {"metric": NAME, "value": N, "timestamp": ISO or epoch}.
Repeating a metric and timestamp changes nothing.
"""

from __future__ import annotations

import json
import logging

from aiohttp import web

from agents.okr_sources import MetricError, parse_metric, record_metric, verify_metric_signature
from bot.services import Services
from storage.okrs import OkrRepository
from storage.scope import Scope

log = logging.getLogger(__name__)
SERVICES = web.AppKey("okr_services", Services)


async def metrics_webhook(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    workspace = request.headers.get("X-Liftoff-Workspace", "")[:32]
    body = await request.read()
    scope = Scope(workspace)
    async with services.db.reader() as session:
        settings = await OkrRepository(session, scope).settings() if workspace else None
    if settings is None or not settings.metric_secret:
        return web.json_response({"ok": False, "error": "unknown_workspace"}, status=401)
    try:
        verify_metric_signature(settings.metric_secret, request.headers.get("X-Liftoff-Timestamp", ""), body,
                                request.headers.get("X-Liftoff-Signature", ""))
    except MetricError as exc:
        return web.json_response({"ok": False, "error": str(exc)}, status=401)
    try:
        point = parse_metric(json.loads(body or b"null"))
    except (MetricError, ValueError) as exc:
        return web.json_response({"ok": False, "error": str(exc)}, status=400)
    async with services.db.session() as session:
        results = await record_metric(OkrRepository(session, scope), point)
    recorded = sum(r.recorded for r in results)
    return web.json_response({"ok": True, "key_results": [r.key_result.key for r in results], "recorded": recorded})


def add_routes(web_app: web.Application, services: Services) -> None:
    web_app[SERVICES] = services
    web_app.router.add_post("/webhooks/metrics", metrics_webhook)
