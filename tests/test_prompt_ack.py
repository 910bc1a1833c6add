"""The prompt ack runner (bot/prompt_ack.py) answers as Bolt's own runner does, only without polling for the ack.

Every case runs through a stock Bolt app and through one with the prompt runner; the answers must be the same.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from pytest_mock import MockerFixture
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.prompt_ack import PromptListenerRunner, answer_on_ack, answers_first_of
from storage.db import Database

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


async def answered(app: AsyncApp, request: AsyncBoltRequest) -> int:
    """Dispatch; the status of the answer, and a moment for the listener to go on if it may."""
    response = await asyncio.wait_for(app.async_dispatch(request), timeout=2)
    await asyncio.sleep(0.05)
    return response.status


def working_after_ack(worked: asyncio.Event) -> Listener:
    async def listener(ack: AsyncAck) -> None:
        await ack()
        worked.set()

    return listener


async def test_work_after_an_answer_waits_until_no_request_waits_for_its_answer() -> None:
    worked = asyncio.Event()
    app = app_with(working_after_ack(worked), prompt=True)
    answers = answers_first_of(app)
    with answers.awaiting_answer():  # another request, not answered yet
        assert await answered(app, command()) == 200
        assert not worked.is_set()
    await asyncio.wait_for(worked.wait(), timeout=0.1)  # its answer left: the work goes on at once
    assert answers.waiting == 0


async def test_work_after_an_answer_waits_no_longer_than_max_wait() -> None:
    worked = asyncio.Event()
    app = app_with(working_after_ack(worked), prompt=True)
    answers = answers_first_of(app)
    answers.max_wait = 0.2
    with answers.awaiting_answer():  # a request that is never answered while this runs
        started = asyncio.get_running_loop().time()
        await app.async_dispatch(command())
        await asyncio.wait_for(worked.wait(), timeout=1)
        assert 0.15 <= asyncio.get_running_loop().time() - started < 0.5


async def test_with_no_request_waiting_the_work_after_an_answer_goes_straight_on() -> None:
    worked = asyncio.Event()
    app = app_with(working_after_ack(worked), prompt=True)
    await app.async_dispatch(command())
    await asyncio.wait_for(worked.wait(), timeout=0.05)


@pytest.mark.parametrize("kind", ["session", "reader"])
async def test_an_answer_given_inside_a_database_session_does_not_wait_for_others(tmp_path: Path, kind: str) -> None:
    # Its connection or its locks (here SQLite's one writer) may be what the waiting requests need.
    db = Database(f"sqlite+aiosqlite:///{tmp_path}/t.db")
    worked = asyncio.Event()

    async def answers_inside_a_session(ack: AsyncAck) -> None:
        async with db.session() if kind == "session" else db.reader():
            await ack(response_action="errors", errors={"name": "Taken."})
            worked.set()

    app = app_with(answers_inside_a_session, prompt=True)
    try:
        with answers_first_of(app).awaiting_answer():
            await app.async_dispatch(command())
            await asyncio.wait_for(worked.wait(), timeout=0.1)
    finally:
        await db.dispose()


async def test_an_event_listener_starts_after_the_answers_waiting() -> None:
    started = asyncio.Event()

    async def on_home(body: dict[str, Any]) -> None:
        started.set()

    app = app_with(on_home, prompt=True, on_event=True)
    with answers_first_of(app).awaiting_answer():
        response = await asyncio.wait_for(app.async_dispatch(event()), timeout=2)
        assert response.status == 200
        await asyncio.sleep(0.05)
        assert not started.is_set()
    await asyncio.wait_for(started.wait(), timeout=0.1)
