"""The prompt ack runner (bot/prompt_ack.py) answers as Bolt's own runner does, only without polling for the ack.

Every case runs through a stock Bolt app and through one with the prompt runner; the answers must be the same.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

import pytest
from pytest_mock import MockerFixture
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.prompt_ack import PromptListenerRunner, answer_on_ack

Listener = Callable[..., Awaitable[None]]


def command(text: str = "") -> AsyncBoltRequest:
    body = urlencode({"command": "/launch", "text": text, "team_id": "T1", "user_id": "U1", "channel_id": "C1",
                      "trigger_id": "1.2.3", "response_url": "https://hooks.slack.test/x"})
    return AsyncBoltRequest(body=body, headers={"content-type": ["application/x-www-form-urlencoded"]})


def event() -> AsyncBoltRequest:
    body = json.dumps({"type": "event_callback", "team_id": "T1", "event_id": "Ev1", "api_app_id": "A1",
                       "event": {"type": "app_home_opened", "user": "U1", "tab": "home"}})
    return AsyncBoltRequest(body=body, headers={"content-type": ["application/json"]})


async def authorize(**_: Any) -> AuthorizeResult:
    return AuthorizeResult(enterprise_id=None, team_id="T1", bot_token="xoxb-test", bot_user_id="UB1", bot_id="B1")


def app_with(listener: Listener, *, prompt: bool, on_event: bool = False) -> AsyncApp:
    app = AsyncApp(signing_secret="s", authorize=authorize, request_verification_enabled=False)
    if on_event:
        app.event("app_home_opened")(listener)
    else:
        app.command("/launch")(listener)
    for registered in app._async_listeners:
        registered.ack_timeout = 0.5  # type: ignore[assignment]  # Bolt's is 3 s; both runners give up alike
    if prompt:
        answer_on_ack(app)
    return app


async def answer(listener: Listener, request: Callable[[], AsyncBoltRequest], *, prompt: bool,
                 on_event: bool = False) -> tuple[int, str]:
    response = await app_with(listener, prompt=prompt, on_event=on_event).async_dispatch(request())
    await asyncio.sleep(0.05)  # what the listener does after its ack finishes before the next case
    return response.status, response.body


async def acks_then_works(ack: AsyncAck) -> None:
    await ack()
    await asyncio.sleep(0.01)


async def answers_field_errors(ack: AsyncAck) -> None:
    await ack(response_action="errors", errors={"name": "Give the launch a name."})


async def acks_with_text(ack: AsyncAck) -> None:
    await ack(text="On it")


async def fails_before_ack(ack: AsyncAck) -> None:
    raise RuntimeError("broken before the ack")


async def fails_after_ack(ack: AsyncAck) -> None:
    await ack()
    raise RuntimeError("broken after the ack")


async def ends_without_ack(ack: AsyncAck) -> None:
    return None


async def event_listener(body: dict[str, Any]) -> None:
    await asyncio.sleep(0.01)


@pytest.mark.parametrize("listener", [acks_then_works, answers_field_errors, acks_with_text, fails_before_ack,
                                      fails_after_ack, ends_without_ack])
async def test_a_command_is_answered_as_bolt_answers_it(listener: Listener) -> None:
    assert await answer(listener, command, prompt=True) == await answer(listener, command, prompt=False)


async def test_an_event_is_answered_as_bolt_answers_it() -> None:
    prompt = await answer(event_listener, event, prompt=True, on_event=True)
    assert prompt == await answer(event_listener, event, prompt=False, on_event=True)
    assert prompt[0] == 200


async def test_the_answer_leaves_when_ack_is_called_while_the_listener_goes_on(mocker: MockerFixture) -> None:
    # Bolt's runner polls with asyncio.sleep(0.01); the prompt runner never does.
    polled = mocker.patch("slack_bolt.listener.asyncio_runner.asyncio.sleep",
                          side_effect=AssertionError("polled for the ack"))
    release = asyncio.Event()
    finished = asyncio.Event()

    async def slow_after_ack(ack: AsyncAck) -> None:
        await ack(text="On it")
        await release.wait()
        finished.set()

    app = app_with(slow_after_ack, prompt=True)
    assert isinstance(app.listener_runner, PromptListenerRunner)
    response = await asyncio.wait_for(app.async_dispatch(command()), timeout=2)
    assert (response.status, response.body) == (200, "On it")
    assert not finished.is_set()  # answered while the listener still works
    release.set()
    await asyncio.wait_for(finished.wait(), timeout=2)
    polled.assert_not_called()


async def test_a_listener_that_never_acks_is_given_up_on_at_its_ack_timeout() -> None:
    release = asyncio.Event()

    async def stuck(ack: AsyncAck) -> None:
        await release.wait()

    app = app_with(stuck, prompt=True)
    response = await asyncio.wait_for(app.async_dispatch(command()), timeout=2)
    assert response.status == 404  # as Bolt answers a request no listener acked
    release.set()
