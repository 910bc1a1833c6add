"""Requests: the 5-minute signature window, bodies over 1 MB refused, Events API retries processed once."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlencode

from tests.support import Stack

FORM = "application/x-www-form-urlencoded"


def help_body(stack: Stack) -> str:
    return urlencode(
        {
            "team_id": stack.standin.team_id,
            "user_id": "U100",
            "command": "/launch",
            "text": "help",
            "channel_id": "C0LAUNCH",
            "trigger_id": "1.2.3",
            "response_url": stack.standin.new_response_url("U100", "C0LAUNCH"),
        }
    )


async def test_signatures_inside_the_window_pass_and_outside_fail(stack: Stack) -> None:
    body = help_body(stack)
    recent = stack.slack.sign(body, timestamp=str(int(time.time()) - 4 * 60))
    assert (await stack.slack.post(body, FORM, headers=recent, signed=False)).status == 200
    stale = stack.slack.sign(body, timestamp=str(int(time.time()) - 5 * 60 - 30))
    assert (await stack.slack.post(body, FORM, headers=stale, signed=False)).status == 401
    future = stack.slack.sign(body, timestamp=str(int(time.time()) + 6 * 60))
    assert (await stack.slack.post(body, FORM, headers=future, signed=False)).status == 401


async def test_bodies_over_one_megabyte_are_refused(stack: Stack) -> None:
    await asyncio.sleep(0.5)  # let earlier requests' after-ack work finish
    calls = len(stack.standin.calls)
    body = urlencode({"team_id": stack.standin.team_id, "command": "/launch", "text": "x" * (1024 * 1024 + 10)})
    ack = await stack.slack.post(body, FORM)
    assert ack.status == 413
    await asyncio.sleep(0.3)
    assert len(stack.standin.calls) == calls


async def test_a_retried_event_is_processed_once(stack: Stack) -> None:
    await stack.settle()  # earlier tests' jobs publish nothing into this test's count
    publishes = len(stack.standin.calls_to("views.publish"))
    dm = stack.standin.directory.dm_id("U101")
    event = {"type": "app_home_opened", "user": "U101", "channel": dm, "tab": "home"}
    first = await stack.slack.event(event, event_id="EvRETRY0001")
    assert first.status == 200
    await stack.standin.wait_for(lambda: len(stack.standin.calls_to("views.publish")) > publishes)
    for retry in (1, 2):
        again = await stack.slack.event(event, event_id="EvRETRY0001", retry_num=retry)
        assert again.status == 200
    # A different event is still processed: the ledger did not stop everything.
    await stack.slack.event(event, event_id="EvRETRY0002")
    await stack.standin.wait_for(lambda: len(stack.standin.calls_to("views.publish")) >= publishes + 2)
    await stack.settle()
    assert len(stack.standin.calls_to("views.publish")) == publishes + 2
