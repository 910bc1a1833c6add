"""POST /webhooks/{linear,jira,notion,asana}/<connection id>: a tracker's status changes, signed.

The connection id in the URL names the workspace (each connection has its own secret, see
agents/tracker_inbound.py). The answer goes back fast: Linear and Jira carry the new status and it is applied
in the request (one short transaction); Notion and Asana only name items, which a job fetches. Bad signature:
401; unknown connection: 404; never a 500 (a database error is a 503, which the tracker retries).
"""

from __future__ import annotations

import logging

from aiohttp import web

from agents.tracker_inbound import receive_webhook
from bot.jobs import JobName
from bot.services import Services
from bot.tracker_inbound_jobs import after_changes
from storage.trackers import TrackerKind

log = logging.getLogger(__name__)
SERVICES = web.AppKey("tracker_webhook_services", Services)
KINDS = "|".join(k.value for k in TrackerKind)
MAX_BODY_BYTES = 1024 * 1024


async def tracker_webhook(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    kind = request.match_info["kind"]
    try:
        connection_id = int(request.match_info.get("connection_id", ""))
    except ValueError:
        return web.json_response({"ok": False, "error": "name the connection: /webhooks/<kind>/<id>"}, status=404)
    if not services.settings.encryption_key:
        return web.json_response({"ok": False, "error": "tracker webhooks are not set up"}, status=404)
    if (request.content_length or 0) > MAX_BODY_BYTES:
        return web.json_response({"ok": False, "error": "too large"}, status=413)
    body = await request.read()
    try:
        answer = await receive_webhook(services.db, kind, connection_id, request.headers, body,
                                       encryption_key=services.settings.encryption_key)
        if answer.status == 200:
            await after_changes(services, answer.workspace_id, answer.results)
            for item_id in dict.fromkeys(answer.fetch):
                await services.jobs.enqueue(JobName.FETCH_TRACKER_ITEM, answer.workspace_id, connection_id, item_id)
    except Exception:
        log.exception("tracker webhook %s/%s failed", kind, connection_id)
        return web.json_response({"ok": False, "error": "try again"}, status=503)
    if answer.status != 200:
        return web.json_response({"ok": False, "error": answer.error}, status=answer.status, headers=answer.headers)
    return web.json_response({"ok": True, "applied": sum(r.outcome == "applied" for r in answer.results),
                              "fetching": len(answer.fetch)}, headers=answer.headers)


def add_routes(web_app: web.Application, services: Services) -> None:
    web_app[SERVICES] = services
    web_app.router.add_post(f"/webhooks/{{kind:{KINDS}}}/{{connection_id}}", tracker_webhook)
    web_app.router.add_post(f"/webhooks/{{kind:{KINDS}}}", tracker_webhook)
