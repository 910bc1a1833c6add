"""The sandbox web server: the Slack-like page, its JSON API, and a Server-Sent Events stream of changes."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.sandbox.actions import ActionError, Outcome, PersonActions
from bot.sandbox.page_state import page_state
from bot.sandbox.workspace import DEFAULT_VIEWER, GENERAL
from bot.standin.api import SlackStandIn
from bot.standin.records import RecordedCall

log = logging.getLogger(__name__)

STATIC = Path(__file__).with_name("static")
KEEPALIVE_SECONDS = 15.0
CLOSED = -1
Handler = Callable[[dict[str, Any]], Awaitable[Outcome]]


class ChangeFeed:
    """Tells every open page that something changed; each page then fetches the state it shows."""

    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[int]] = set()
        self.version = 0

    def changed(self, _call: RecordedCall | None = None) -> None:
        self.version += 1
        for queue in self._queues:
            if queue.empty():  # one pending notice is enough: the page reads the whole state
                queue.put_nowait(self.version)

    def close(self) -> None:
        """End every open stream (a page reconnects by itself), so the server can stop at once."""
        for queue in self._queues:
            if not queue.empty():
                queue.get_nowait()
            queue.put_nowait(CLOSED)

    def listen(self) -> asyncio.Queue[int]:
        queue: asyncio.Queue[int] = asyncio.Queue(maxsize=1)
        self._queues.add(queue)
        return queue

    def forget(self, queue: asyncio.Queue[int]) -> None:
        self._queues.discard(queue)


class SandboxServer:
    """Serves the page at / and the API under /api/ for one stand-in workspace."""

    def __init__(self, standin: SlackStandIn, actions: PersonActions, feed: ChangeFeed) -> None:
        self.standin = standin
        self.actions = actions
        self.feed = feed
        self._runner: web.AppRunner | None = None
        self.url = ""

    def web_app(self) -> web.Application:
        app = web.Application(client_max_size=1024 * 1024)
        app.router.add_get("/", self._index)
        app.router.add_get("/api/state", self._state)
        app.router.add_get("/api/events", self._events)
        app.router.add_post("/api/send", self._post(self._send))
        app.router.add_post("/api/submit", self._post(self._submit))
        app.router.add_post("/api/close", self._post(self._close))
        app.router.add_post("/api/action", self._post(self._action))
        app.router.add_post("/api/home", self._post(self._home))
        app.router.add_post("/api/options", self._options)
        app.router.add_static("/static/", STATIC)
        return app

    async def start(self, host: str, port: int) -> str:
        self._runner = web.AppRunner(self.web_app(), access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        bound_host, bound_port = self._runner.addresses[0][:2]
        self.url = f"http://{bound_host}:{bound_port}/"
        return self.url

    async def stop(self) -> None:
        self.feed.close()
        if self._runner is not None:
            await self._runner.shutdown()
            await self._runner.cleanup()
            self._runner = None

    # --- routes ----------------------------------------------------------------------------------------

    async def _index(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    async def _state(self, request: web.Request) -> web.Response:
        viewer = request.query.get("as") or DEFAULT_VIEWER
        conversation = request.query.get("c") or GENERAL
        try:
            state = page_state(self.standin, viewer, conversation)
        except KeyError:
            return web.json_response({"ok": False, "error": f"no person {viewer!r}"}, status=404)
        state["version"] = self.feed.version
        return web.json_response(state, dumps=_dumps)

    async def _events(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"})
        await response.prepare(request)
        queue = self.feed.listen()
        try:
            await response.write(f"data: {self.feed.version}\n\n".encode())
            while True:
                try:
                    version = await asyncio.wait_for(queue.get(), KEEPALIVE_SECONDS)
                    if version == CLOSED:
                        break
                    await response.write(f"data: {version}\n\n".encode())
                except TimeoutError:
                    await response.write(b": keepalive\n\n")
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self.feed.forget(queue)
        return response

    def _post(self, handler: Handler) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def serve(request: web.Request) -> web.Response:
            try:
                body = await request.json()
                if not isinstance(body, dict):
                    raise ActionError("send a JSON object")
                outcome = await handler(body)
            except (ActionError, ValueError) as exc:
                return web.json_response({"ok": False, "error": str(exc)}, status=400)
            finally:
                self.feed.changed()  # modal stack changes (close, errors) happen without a Web API call
            return web.json_response(outcome.as_json())

        return serve

    async def _send(self, body: dict[str, Any]) -> Outcome:
        return await self.actions.send(_person(body), str(body.get("channel") or GENERAL), str(body.get("text") or ""))

    async def _submit(self, body: dict[str, Any]) -> Outcome:
        values = body.get("values") or {}
        if not isinstance(values, dict):
            raise ActionError("values must be an object")
        return await self.actions.submit(_person(body), str(body.get("view_id") or ""), values)

    async def _close(self, body: dict[str, Any]) -> Outcome:
        return await self.actions.close(_person(body), str(body.get("view_id") or ""))

    async def _action(self, body: dict[str, Any]) -> Outcome:
        return await self.actions.click(_person(body), body)

    async def _options(self, request: web.Request) -> web.Response:
        """An external select's options for what was typed (no state changes, so no change notice)."""
        try:
            body = await request.json()
            if not isinstance(body, dict):
                raise ActionError("send a JSON object")
            options = await self.actions.suggest(_person(body), body)
        except (ActionError, ValueError) as exc:
            return web.json_response({"ok": False, "error": str(exc)}, status=400)
        return web.json_response({"ok": True, "options": options})

    async def _home(self, body: dict[str, Any]) -> Outcome:
        return await self.actions.open_home(_person(body))


def _person(body: dict[str, Any]) -> str:
    return str(body.get("as") or DEFAULT_VIEWER)


def _dumps(value: Any) -> str:
    return json.dumps(value, default=str)
