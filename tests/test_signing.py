"""The app verifies Slack's request signatures: Slack's own test vector, tampered bodies, stale timestamps."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.authorization import BotTokenAuthorizer
from bot.services import Services, SlackClients
from bot.settings import Settings
from bot.slack_request import SlackHttpRequest
from bot.wiring import build_app
from storage.db import Database
from tests.support import SHARED

VECTOR: dict[str, Any] = json.loads((SHARED / "specs" / "slack-signing-vector.json").read_text())


class NoJobs:
    async def enqueue(self, *args: Any) -> None:
        raise AssertionError("a request that fails verification must not start work")


def app_for(secret: str):  # noqa: ANN201
    settings = Settings(slack_bot_token="xoxb-test", slack_signing_secret=secret,
                        slack_api_url="http://127.0.0.1:9/api/")
    services = Services(settings=settings, db=Database("sqlite+aiosqlite:///:memory:"), jobs=NoJobs(),
                        slack=SlackClients(settings))
    bolt, _ = build_app(services)
    return bolt


def request(body: str, timestamp: str, signature: str) -> AsyncBoltRequest:
    """The request as the web server builds it (bot/slack_request.py): the signature is checked on its raw body."""
    headers = {"content-type": "application/x-www-form-urlencoded", "x-slack-request-timestamp": timestamp,
               "x-slack-signature": signature}
    return SlackHttpRequest(body=body, query="", headers=headers)


@pytest.fixture
def at_vector_time(mocker) -> None:  # noqa: ANN001
    mocker.patch("slack_sdk.signature.time", return_value=float(VECTOR["timestamp"]) + 30)
    # The bot's identity is known (as after start-up's auth.test), so no Slack call is needed here.
    identity = AuthorizeResult(enterprise_id=None, team_id="T1DC2JH3J", bot_token="xoxb-test", bot_user_id="U0BOT")
    mocker.patch.object(BotTokenAuthorizer, "prime", return_value=identity)


async def test_slacks_vector_passes_verification(at_vector_time: None) -> None:
    bolt = app_for(VECTOR["signing_secret"])
    response = await bolt.async_dispatch(request(VECTOR["body"], VECTOR["timestamp"], VECTOR["expected_signature"]))
    # Verified, then nothing listens to /webhook-collect: Bolt answers 404, not 401.
    assert response.status == 404


async def test_a_tampered_body_is_refused(at_vector_time: None) -> None:
    bolt = app_for(VECTOR["signing_secret"])
    tampered = VECTOR["body"].replace("roadrunner", "coyote")
    response = await bolt.async_dispatch(request(tampered, VECTOR["timestamp"], VECTOR["expected_signature"]))
    assert response.status == 401


async def test_a_wrong_secret_is_refused(at_vector_time: None) -> None:
    bolt = app_for("another-secret")
    response = await bolt.async_dispatch(request(VECTOR["body"], VECTOR["timestamp"], VECTOR["expected_signature"]))
    assert response.status == 401


async def test_the_vector_is_stale_today() -> None:
    assert time.time() - int(VECTOR["timestamp"]) > 300
    bolt = app_for(VECTOR["signing_secret"])
    response = await bolt.async_dispatch(request(VECTOR["body"], VECTOR["timestamp"], VECTOR["expected_signature"]))
    assert response.status == 401
