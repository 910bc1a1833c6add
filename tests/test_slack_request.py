"""bot/slack_request.py decodes Slack's form bodies as Bolt does, only faster."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlencode

from hypothesis import given, settings
from hypothesis import strategies as st
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.request.internals import parse_body as bolt_parse_body

from bot.slack_request import SlackHttpRequest, parse_body, parse_form
from tests.standin_samples import APPROVAL_BLOCKS

FORM = "application/x-www-form-urlencoded"
# The characters that make form decoding go wrong: escapes (good, bad, cut short), separators, '+', multi-byte text.
PIECES = [*"%+&=;?#/ aZ09_-.~é日\n\x00", "%2", "%zz", "%E2%82", "%C3%A9", "%25", "%2B", "%26", "%3D"]
TRICKY = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)


@given(TRICKY)
@settings(max_examples=400, deadline=None)
def test_any_form_decodes_as_parse_qsl_would(body: str) -> None:
    assert parse_form(body) == dict(parse_qsl(body, keep_blank_values=True))


def block_actions() -> dict[str, Any]:
    return {
        "type": "block_actions", "user": {"id": "U1", "name": "ana"}, "team": {"id": "T1"},
        "trigger_id": "1.2.3", "response_url": "https://hooks.slack.com/actions/T1/1/x",
        "container": {"type": "message", "message_ts": "1.1", "channel_id": "C1"},
        "message": {"ts": "1.1", "text": "Review — 50 tasks & \"quotes\" + pluses; 100% done",
                    "blocks": APPROVAL_BLOCKS},
        "actions": [{"action_id": "review_approve", "value": "42", "block_id": "b1", "action_ts": "1.3"}],
    }


def view_submission() -> dict[str, Any]:
    brief = "## Launch Größe 日本\nWe ship on 2026-12-01 & measure +5% → ok?\n" * 150
    return {
        "type": "view_submission", "user": {"id": "U1"}, "team": {"id": "T1"},
        "view": {"callback_id": "launch_brief", "private_metadata": "{\"launch_id\": 7}",
                 "state": {"values": {"brief": {"brief": {"type": "plain_text_input", "value": brief}}}}},
    }


SLASH_COMMAND = {"command": "/launch", "text": "status Mobile app + web 100%", "user_id": "U1", "team_id": "T1",
                 "trigger_id": "1.2.3", "response_url": "https://hooks.slack.com/commands/T1/1/x"}


def test_slacks_bodies_decode_as_bolt_decodes_them() -> None:
    bodies = [
        urlencode({"payload": json.dumps(block_actions())}),
        urlencode({"payload": json.dumps(view_submission(), ensure_ascii=False)}),
        urlencode(SLASH_COMMAND),
        json.dumps({"type": "event_callback", "event": {"type": "app_home_opened", "user": "U1"}}),
        "",
    ]
    for body in bodies:
        content_type = "application/json" if body.startswith("{") else FORM
        assert parse_body(body, content_type) == bolt_parse_body(body, content_type)


def test_a_command_that_says_payload_is_still_a_command() -> None:
    """Bolt finds the word "payload" anywhere in the body and then parses the command as {}; here it is a command."""
    body = urlencode({**SLASH_COMMAND, "text": "status payload api"})
    assert bolt_parse_body(body, FORM) == {}
    assert parse_body(body, FORM)["text"] == "status payload api"


def test_the_request_keeps_its_raw_body_and_builds_bolts_context() -> None:
    body = urlencode({"payload": json.dumps(block_actions())})
    headers = {"content-type": FORM, "x-slack-signature": "v0=abc", "x-slack-request-timestamp": "1"}
    ours = SlackHttpRequest(body=body, query="a=1", headers=headers)
    bolts = AsyncBoltRequest(body=body, query="a=1", headers=headers)
    assert ours.raw_body == body
    assert ours.body == bolts.body
    assert dict(ours.context) == dict(bolts.context)
    assert ours.query == bolts.query and ours.headers == bolts.headers
    assert ours.to_copyable().body == bolts.body
