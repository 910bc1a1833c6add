"""A fake Slack Web API on 127.0.0.1 that records every call and checks every payload it is sent."""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from aiohttp import web

from bot.standin.directory import Directory
from bot.standin.ids import IdMaker
from bot.standin.limits import Validator, block_errors
from bot.standin.messages import MessageStore
from bot.standin.methods import METHODS, TOKENLESS_METHODS
from bot.standin.payload import bearer_token, read_args
from bot.standin.records import Fault, RecordedCall, RejectedPayload, SlackError, clone
from bot.standin.response_urls import ResponseUrls
from bot.standin.views import ViewStore

log = logging.getLogger(__name__)


class SlackStandIn:
    """Serves /api/{method}, response_url posts and file uploads; keeps what Slack would show."""

    def __init__(
        self,
        *,
        validator: Validator | None = None,
        team_id: str = "T0LIFTOFF",
        team_name: str = "Liftoff Sandbox",
        bot_user_id: str = "U0LIFTBOT",
        bot_token: str = "xoxb-standin",
        users: Sequence[dict[str, Any]] = (),
        channels: Sequence[dict[str, Any]] = (),
        bot_id: str = "B0LIFTBOT",
        app_id: str = "A0LIFTOFF",
        trigger_ttl: float | None = 3.0,
    ) -> None:
        self.validator = validator
        self.team_id = team_id
        self.team_name = team_name
        self.bot_user_id = bot_user_id
        self.bot_token = bot_token
        self.bot_id = bot_id
        self.app_id = app_id
        self.ids = IdMaker()
        bot_user = {"id": bot_user_id, "name": "liftoff", "real_name": "Liftoff", "is_bot": True}
        self.directory = Directory(team_id, [bot_user, *users], channels)
        author = {"user": bot_user_id, "bot_id": bot_id, "app_id": app_id, "team": team_id}
        self.message_store = MessageStore(self.ids, author)
        self.view_store = ViewStore(self.ids, team_id, {"app_id": app_id, "bot_id": bot_id}, trigger_ttl)
        self.response_urls = ResponseUrls(self.message_store, self.check_blocks)
        self.files: dict[str, dict[str, Any]] = {}
        self.calls: list[RecordedCall] = []
        self.validation_errors: list[RejectedPayload] = []
        self._faults: dict[str, list[Fault]] = {}
        # Seconds every Web API answer takes, like real Slack's network round trip (benchmarks set it).
        self.latency = 0.0
        self._delays: dict[str, list[float]] = {}
        self._runner: web.AppRunner | None = None
        self._root: str | None = None
        self._listeners: list[Callable[[RecordedCall], None]] = []
        # The OAuth install flow: codes handed out by new_oauth_code, tokens oauth.v2.access issued per team.
        self.oauth_codes: dict[str, tuple[str, str, str]] = {}
        self.issued_tokens: dict[str, str] = {}
        self.refresh_tokens: dict[str, str] = {}
        self.token_lifetime: int | None = None  # seconds; set to issue rotating (expiring) tokens

    # --- lifecycle ------------------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> SlackStandIn:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._serve_api)
        app.router.add_post("/response/{token}", self._serve_response_url)
        app.router.add_post("/upload/{file_id}", self._serve_upload)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound_host, bound_port = self._runner.addresses[0][:2]
        self._root = f"http://{bound_host}:{bound_port}/"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> SlackStandIn:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        """The server root, e.g. "http://127.0.0.1:PORT/"."""
        if self._root is None:
            raise RuntimeError("SlackStandIn is not started; await start() first")
        return self._root

    @property
    def base_url(self) -> str:
        """What to pass as base_url to slack_sdk's AsyncWebClient."""
        return self.url + "api/"

    # --- what the tests look at -----------------------------------------------------------------------

    def calls_to(self, method: str) -> list[RecordedCall]:
        return [call for call in self.calls if call.method == method]

    def messages(self, channel_id: str) -> list[dict[str, Any]]:
        """Messages now in a channel (after updates and deletes), oldest first; a user id means their DM."""
        return self.message_store.messages(self._channel_key(channel_id))

    def ephemerals(self, user_id: str) -> list[dict[str, Any]]:
        return self.message_store.ephemerals(user_id)

    @property
    def views(self) -> dict[str, dict[str, Any]]:
        """Every modal and home view ever opened, by view id, in its latest state."""
        return self.view_store.views

    def view_opened_by(self, trigger_id: str) -> dict[str, Any] | None:
        view_id = self.view_store.opened_by.get(trigger_id)
        return clone(self.view_store.views[view_id]) if view_id else None

    def open_views(self, user_id: str) -> list[dict[str, Any]]:
        """The user's modal stack, bottom first (empty when no modal is open)."""
        return self.view_store.stack(user_id)

    def view_errors(self, view_id: str) -> dict[str, str]:
        """Field errors the app last answered a submission of this view with (response_action errors)."""
        return dict(self.view_store.errors.get(view_id, {}))

    def home(self, user_id: str) -> dict[str, Any] | None:
        return self.view_store.home(user_id)

    def user_names(self) -> dict[str, str]:
        return self.directory.names()

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 15, *, what: str | None = None) -> None:
        """Poll until predicate() is true; TimeoutError says what was awaited and what did happen.

        Most answers come from jobs (on an RQ worker that may be finishing a plan first), so the default
        allows for a busy machine; a predicate that holds returns at once."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            if loop.time() >= deadline:
                raise TimeoutError(self._timeout_message(predicate, timeout, what))
            await asyncio.sleep(0.01)

    def reset(self) -> None:
        """Forget traffic and state (messages, views, files, faults); keep users and channels."""
        self.calls.clear()
        self.validation_errors.clear()
        self.files.clear()
        self._faults.clear()
        self._delays.clear()
        self.response_urls.reset()
        self.message_store.reset()
        self.view_store.reset()

    def new_oauth_code(self, team_id: str, team_name: str, installer: str) -> str:
        """The code Slack would append to the redirect after a person approves an install."""
        code = f"code-{team_id}-{len(self.oauth_codes)}"
        self.oauth_codes[code] = (team_id, team_name, installer)
        return code

    def subscribe(self, listener: Callable[[RecordedCall], None]) -> Callable[[], None]:
        """Call listener with every call answered from now on (the sandbox page's live updates); returns unsubscribe."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    # --- what the simulator and tests arrange ---------------------------------------------------------

    def fail_next(
        self, method: str, error: str = "ratelimited", status: int = 429, retry_after: int | None = 1, times: int = 1
    ) -> None:
        """Answer the next `times` calls to method (or "response_url") with an error instead."""
        self._faults.setdefault(method, []).append(Fault(error, status, retry_after, times))

    def slow_next(self, method: str, seconds: float, times: int = 1) -> None:
        """Answer the next `times` calls to method only after `seconds`: a slow Slack, to show acks don't wait."""
        self._delays.setdefault(method, []).extend([seconds] * times)

    def new_response_url(
        self, user_id: str, channel_id: str, *, message_ts: str | None = None, is_ephemeral: bool = False
    ) -> str:
        """A response_url on this server; message_ts is the message replace_original/delete_original act on."""
        return f"{self.url}response/{self.response_urls.issue(user_id, channel_id, message_ts, is_ephemeral)}"

    def register_trigger(self, trigger_id: str, user_id: str) -> None:
        """Note a trigger_id given to the app: usable once, within trigger_ttl seconds."""
        self.view_store.register_trigger(trigger_id, user_id)

    def apply_view_submission_ack(self, user_id: str, view_id: str, ack: dict[str, Any] | None) -> None:
        """Do to the modal stack what Slack does with the app's answer to a view_submission."""
        action = (ack or {}).get("response_action")
        store = self.view_store
        if action is None:
            store.close(user_id, view_id)
        elif action == "clear":
            store.close(user_id, view_id, everything=True)
        elif action == "errors":
            self._record_field_errors(view_id, (ack or {}).get("errors") or {})
        elif action in ("update", "push"):
            view = (ack or {}).get("view") or {}
            method = f"view_submission:{action}"
            try:
                self.check_blocks(method, "modal", view)
            except SlackError:
                return
            try:
                if action == "update":
                    store.update(view, view_id=view_id, external_id=None, hash_=None)
                else:
                    store.push_over(user_id, view_id, view)
            except SlackError as exc:
                self._reject(method, "modal", [exc.error], ack or {})
        else:
            self._reject(f"view_submission:{action}", "modal", [f"unknown response_action {action!r}"], ack or {})

    # --- used by the methods --------------------------------------------------------------------------

    def check_blocks(self, method: str, kind: str, payload: dict[str, Any]) -> None:
        """Raise invalid_blocks (and remember why) when the payload's blocks break the schema or limits."""
        errors = block_errors(kind, payload, self.validator)
        if errors:
            self._reject(method, kind, errors, payload)
            raise SlackError(
                "invalid_blocks", errors=errors, response_metadata={"messages": [f"[ERROR] {e}" for e in errors]}
            )

    def file_object(self, file_id: str) -> dict[str, Any]:
        stored = self.files[file_id]
        return {
            "id": file_id,
            "name": stored["name"],
            "title": stored["title"],
            "size": len(stored["content"] or b""),
            "user": self.bot_user_id,
            "permalink": f"{self.url}files/{file_id}",
            "url_private": f"{self.url}files/{file_id}/{stored['name']}",
        }

    # --- HTTP handlers --------------------------------------------------------------------------------

    async def _serve_api(self, request: web.Request) -> web.Response:
        name = request.match_info["method"]
        args: dict[str, Any] = {}
        headers: dict[str, str] = {}
        status = 200
        try:
            args = await read_args(request)
            token = bearer_token(request, args)
            if self._delays.get(name):
                await asyncio.sleep(self._delays[name].pop(0))
            elif self.latency:
                await asyncio.sleep(self.latency)
            fault = self._take_fault(name)
            if fault is not None:
                status, headers = fault.status, _retry_after(fault)
                raise SlackError(fault.error)
            if name not in METHODS:
                raise SlackError("unknown_method")
            if token != self.bot_token and token not in self.issued_tokens and name not in TOKENLESS_METHODS:
                raise SlackError("invalid_auth")
            body = await METHODS[name](self, args)
        except SlackError as exc:
            body = exc.body()
        except Exception:  # a bug in the stand-in must not look like a hang in the app
            log.exception("stand-in failed serving %s", name)
            body, status = {"ok": False, "error": "internal_error"}, 500
        self._record(RecordedCall(name, args, time.monotonic(), body))
        return web.json_response(body, status=status, headers=headers)

    async def _serve_response_url(self, request: web.Request) -> web.Response:
        target = self.response_urls.target(request.match_info["token"])
        try:
            body = json.loads(await request.text())
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return self._answer_response_url({}, {"ok": False, "error": "invalid_payload"}, 400)
        if target is None:
            return self._answer_response_url(body, {"ok": False, "error": "no_such_response_url"}, 404)
        fault = self._take_fault("response_url")
        if fault is not None:
            answer = {"ok": False, "error": fault.error}
            return self._answer_response_url(body, answer, fault.status, _retry_after(fault))
        try:
            self.response_urls.deliver(target, body)
        except SlackError as exc:
            status = 404 if exc.error in ("used_url", "message_not_found") else 400
            return self._answer_response_url(body, exc.body(), status)
        return self._answer_response_url(body, {"ok": True}, 200)

    async def _serve_upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        data = await request.read()
        stored = self.files.get(file_id)
        if stored is None:
            self.calls.append(RecordedCall("upload", {"file_id": file_id}, time.monotonic(), {"ok": False}))
            return web.Response(status=404, text="file_not_found", content_type="text/plain")
        stored["content"] = data
        self.calls.append(
            RecordedCall("upload", {"file_id": file_id, "length": len(data)}, time.monotonic(), {"ok": True})
        )
        return web.Response(text=f"OK - {len(data)}", content_type="text/plain")

    # --- internals ------------------------------------------------------------------------------------

    def _answer_response_url(
        self, body: dict[str, Any], answer: dict[str, Any], status: int, headers: dict[str, str] | None = None
    ) -> web.Response:
        self._record(RecordedCall("response_url", dict(body), time.monotonic(), answer))
        return web.json_response(answer, status=status, headers=headers or {})

    def _record(self, call: RecordedCall) -> None:
        self.calls.append(call)
        for listener in list(self._listeners):
            listener(call)

    def _take_fault(self, method: str) -> Fault | None:
        queue = self._faults.get(method)
        if not queue:
            return None
        fault = queue[0]
        fault.times -= 1
        if fault.times <= 0:
            queue.pop(0)
        return fault

    def _record_field_errors(self, view_id: str, errors: dict[str, str]) -> None:
        view = self.view_store.views.get(view_id, {})
        input_ids = {b.get("block_id") for b in view.get("blocks", []) if b.get("type") == "input"}
        unknown = sorted(set(errors) - input_ids)
        if unknown:
            problems = [f"response_action errors name block_ids that are not input blocks: {unknown}"]
            self._reject("view_submission:errors", "modal", problems, {"errors": errors})
        self.view_store.errors[view_id] = dict(errors)

    def _reject(self, method: str, kind: str, errors: list[str], payload: dict[str, Any]) -> None:
        self.validation_errors.append(RejectedPayload(method, kind, errors, clone(payload)))

    def _channel_key(self, channel_id: str) -> str:
        try:
            return self.directory.resolve(channel_id)
        except SlackError:
            return channel_id

    def _timeout_message(self, predicate: Callable[[], bool], timeout: float, what: str | None) -> str:
        if what is None:
            try:
                what = inspect.getsource(predicate).strip()
            except (OSError, TypeError):
                what = getattr(predicate, "__qualname__", repr(predicate))
        recent = (
            ", ".join(f"{c.method}({'ok' if c.ok else c.response.get('error')})" for c in self.calls[-10:]) or "none"
        )
        rejected = "; ".join(f"{r.method}: {r.errors[:3]}" for r in self.validation_errors[-3:]) or "none"
        return (
            f"timed out after {timeout}s waiting for: {what}\n"
            f"  {len(self.calls)} Slack calls so far; last ones: {recent}\n"
            f"  rejected payloads: {rejected}"
        )


def _retry_after(fault: Fault) -> dict[str, str]:
    return {"Retry-After": str(fault.retry_after)} if fault.status == 429 and fault.retry_after is not None else {}
