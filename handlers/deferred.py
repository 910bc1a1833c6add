"""Buttons whose whole answer runs in a job: the listener acks and enqueues one CLICK job, nothing else.

A click on Approve, Done or Show health used to make its decision in the web process after the ack: a short
write transaction, an ephemeral reply, then jobs. Twenty clicks at a time queued that work on one event loop,
and the acks of the next clicks waited behind it. Now the web process only parses, acks and enqueues; the job
(on an RQ worker, or in-process without Redis) reloads everything by id, asks the policy, decides once, and
answers through the click's response_url exactly as the listener did.

Buttons that open a modal stay in the web process: a trigger_id is good for three seconds, too short to wait
for a worker behind a queue.

A deferred button's work is `async def work(click: DeferredClick) -> None`, registered with `@deferred(ActionId.X)`
in the surface's own handler module; `register(app)` listens for every registered action id.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import astuple, dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.jobs import JobName
from bot.respond import respond_to
from bot.services import SERVICES_KEY, Services, services_of

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Click:
    """What a job needs of a block_actions payload: ids and where to answer, never the message itself."""

    workspace_id: str
    user_id: str
    action_id: str
    value: str
    response_url: str = ""
    message_ts: str = ""
    channel_id: str = ""
    action_ts: str = ""

    @classmethod
    def of(cls, body: dict[str, Any], action: dict[str, Any], workspace_id: str) -> Click:
        option = action.get("selected_option") or {}
        value = action.get("value") or option.get("value") or action.get("selected_user") or ""
        container = body.get("container") or {}
        return cls(
            workspace_id=workspace_id,
            user_id=str(body["user"]["id"]),
            action_id=str(action["action_id"]),
            value=str(value),
            response_url=str(body.get("response_url") or ""),
            message_ts=str(container.get("message_ts") or ""),
            channel_id=str(container.get("channel_id") or (body.get("channel") or {}).get("id") or ""),
            action_ts=str(action.get("action_ts") or body.get("trigger_id") or ""),
        )

    def job_args(self) -> tuple[str, ...]:
        """The CLICK job's arguments: the fields in order (answer_click builds the Click back from them)."""
        return astuple(self)


@dataclass(frozen=True)
class DeferredClick:
    """A click being answered in a job: the click, a listener-like context, the bot's client and a reply."""

    click: Click
    context: dict[str, Any]
    client: AsyncWebClient
    respond: AsyncRespond | None  # None for a click on the Home tab (no response_url)

    @property
    def services(self) -> Services:
        return services_of(self.context)


ClickWork = Callable[[DeferredClick], Awaitable[None]]
_WORK: dict[str, ClickWork] = {}
# The handler modules that register deferred work; a worker imports them before it answers a click.
_MODULES = ("handlers.review_actions", "handlers.task_actions", "handlers.launch_actions", "handlers.launch_status")


def deferred(*action_ids: str) -> Callable[[ClickWork], ClickWork]:
    """Register `work` as the answer to these buttons, run in a CLICK job."""

    def register_work(work: ClickWork) -> ClickWork:
        for action_id in action_ids:
            _WORK[str(action_id)] = work
        return work

    return register_work


async def defer_click(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], context: AsyncBoltContext) -> None:
    """The listener of every deferred button: ack, then one job with the click's ids."""
    await ack()
    click = Click.of(body, action, context["team_id"])
    await services_of(context).jobs.enqueue(JobName.CLICK, *click.job_args())


def register(app: AsyncApp) -> None:
    _load()
    for action_id in sorted(_WORK):
        app.action(action_id)(defer_click)


def _load() -> None:
    for module in _MODULES:
        importlib.import_module(module)


async def answer_click(services: Services, *fields: str) -> None:
    """The CLICK job (its arguments are Click.job_args): the registered work for the button, with what the
    listener had."""
    _load()
    click = Click(*fields)
    work = _WORK.get(click.action_id)
    if work is None:
        log.warning("no deferred work for button %s; click dropped", click.action_id)
        return
    client = await services.slack.for_workspace(click.workspace_id)
    context = {"team_id": click.workspace_id, "user_id": click.user_id, SERVICES_KEY: services}
    respond = respond_to(click.response_url, services.slack.http) if click.response_url else None
    await work(DeferredClick(click, context, client, respond))
