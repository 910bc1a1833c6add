"""The fake Slack Web API, driven by the real slack_sdk clients, and the Block Kit text renderer."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.standin import SlackStandIn
from bot.standin.render import render_blocks, render_view
from tests.standin_samples import APPROVAL_BLOCKS, BRIEF_MODAL, plain, running_standin, section


@pytest.fixture
async def standin() -> AsyncIterator[SlackStandIn]:
    async with running_standin() as server:
        yield server


@pytest.fixture
def client(standin: SlackStandIn) -> AsyncWebClient:
    return AsyncWebClient(token=standin.bot_token, base_url=standin.base_url)


# --- Web API ------------------------------------------------------------------------------------------------


async def test_binds_loopback_and_base_url_ends_with_slash(standin: SlackStandIn) -> None:
    assert standin.url.startswith("http://127.0.0.1:")
    assert standin.base_url == standin.url + "api/"


async def test_identity_methods(client: AsyncWebClient, standin: SlackStandIn) -> None:
    auth = await client.auth_test()
    assert (auth["team_id"], auth["user_id"]) == ("T0LIFTOFF", "U0LIFTBOT")
    assert (await client.team_info())["team"]["name"] == "Liftoff Sandbox"
    ana = (await client.users_info(user="U0ANA"))["user"]
    assert (ana["tz"], ana["tz_offset"], ana["profile"]["email"], ana["is_admin"]) == (
        "Europe/Berlin",
        3600,
        "ana@example.com",
        True,
    )
    members = (await client.users_list())["members"]
    assert [m["id"] for m in members if not m["is_bot"]] == ["U0ANA", "U0BEN"]
    dm = (await client.conversations_open(users="U0BEN"))["channel"]["id"]
    assert dm == "DU0BEN" == (await client.conversations_open(users=["U0BEN"]))["channel"]["id"]
    assert (await client.conversations_info(channel="C0LAUNCH"))["channel"]["name"] == "launches"
    assert (await client.conversations_join(channel="C0LAUNCH"))["channel"]["is_member"] is True


async def test_bot_must_join_channels_it_is_not_in() -> None:
    async with SlackStandIn(channels=[{"id": "C0QUIET", "name": "quiet", "is_member": False}]) as server:
        client = AsyncWebClient(token=server.bot_token, base_url=server.base_url)
        with pytest.raises(SlackApiError) as failure:
            await client.chat_postMessage(channel="C0QUIET", text="hi")
        assert failure.value.response["error"] == "not_in_channel"
        await client.conversations_join(channel="C0QUIET")
        assert (await client.chat_postMessage(channel="C0QUIET", text="hi"))["ok"]


async def test_auth_and_unknown_method(standin: SlackStandIn) -> None:
    wrong = AsyncWebClient(token="xoxb-wrong", base_url=standin.base_url)
    with pytest.raises(SlackApiError) as failure:
        await wrong.chat_postMessage(channel="C0LAUNCH", text="hi")
    assert failure.value.response["error"] == "invalid_auth"
    with pytest.raises(SlackApiError) as failure:
        await AsyncWebClient(base_url=standin.base_url).auth_test()
    assert failure.value.response["error"] == "invalid_auth"
    client = AsyncWebClient(token=standin.bot_token, base_url=standin.base_url)
    with pytest.raises(SlackApiError) as failure:
        await client.api_call("chat.unfurlEverything")
    assert failure.value.response["error"] == "unknown_method"
    assert standin.messages("C0LAUNCH") == []


async def test_post_update_history_with_metadata(client: AsyncWebClient, standin: SlackStandIn) -> None:
    metadata = {"event_type": "launch_created", "event_payload": {"launch_id": 7}}
    first = await client.chat_postMessage(
        channel="C0LAUNCH", text="Launch created", metadata=metadata, blocks=[section("*Pricing change* created")]
    )
    second = await client.chat_postMessage(channel="C0LAUNCH", text="second")
    assert float(second["ts"]) > float(first["ts"])

    await client.chat_update(channel="C0LAUNCH", ts=first["ts"], text="Launch updated", blocks=[section("v2")])
    history = (await client.conversations_history(channel="C0LAUNCH", include_all_metadata=True))["messages"]
    assert [m["text"] for m in history] == ["second", "Launch updated"]  # newest first
    assert history[1]["metadata"] == metadata
    assert "metadata" not in (await client.conversations_history(channel="C0LAUNCH"))["messages"][1]

    stored = standin.messages("C0LAUNCH")[0]
    assert stored["blocks"][0]["text"]["text"] == "v2" and stored["metadata"] == metadata
    with pytest.raises(SlackApiError) as failure:
        await client.chat_update(channel="C0LAUNCH", ts="1.000000", text="nope")
    assert failure.value.response["error"] == "message_not_found"
    await client.chat_delete(channel="C0LAUNCH", ts=second["ts"])
    assert [m["text"] for m in standin.messages("C0LAUNCH")] == ["Launch updated"]


async def test_threads_and_dms(client: AsyncWebClient, standin: SlackStandIn) -> None:
    parent = await client.chat_postMessage(channel="C0LAUNCH", text="digest")
    await client.chat_postMessage(channel="C0LAUNCH", text="reply", thread_ts=parent["ts"])
    assert [m["text"] for m in (await client.conversations_history(channel="C0LAUNCH"))["messages"]] == ["digest"]
    replies = (await client.conversations_replies(channel="C0LAUNCH", ts=parent["ts"]))["messages"]
    assert [m["text"] for m in replies] == ["digest", "reply"]
    await client.chat_postMessage(channel="U0ANA", text="your weekly digest")
    assert [m["text"] for m in standin.messages("DU0ANA")] == ["your weekly digest"]
    assert standin.messages("U0ANA") == standin.messages("DU0ANA")
    with pytest.raises(SlackApiError) as failure:
        await client.chat_postMessage(channel="C0NOWHERE", text="hi")
    assert failure.value.response["error"] == "channel_not_found"


async def test_form_encoded_bodies_are_understood(standin: SlackStandIn) -> None:
    client = AsyncWebClient(token=standin.bot_token, base_url=standin.base_url)
    response = await client.api_call(
        "chat.postMessage",
        data={"channel": "C0LAUNCH", "text": "form", "blocks": json.dumps([section("from a form")])},
    )
    assert response["ok"]
    assert standin.messages("C0LAUNCH")[0]["blocks"][0]["text"]["text"] == "from a form"
    assert standin.calls_to("chat.postMessage")[0].args["blocks"][0]["type"] == "section"


async def test_views_open_update_and_hash_conflict(client: AsyncWebClient, standin: SlackStandIn) -> None:
    opened = (await client.views_open(trigger_id="trigger-1", view=BRIEF_MODAL))["view"]
    assert opened["id"].startswith("V") and standin.view_opened_by("trigger-1")["id"] == opened["id"]
    with pytest.raises(SlackApiError) as failure:
        await client.views_open(view=BRIEF_MODAL, trigger_id="")
    assert failure.value.response["error"] == "invalid_arguments"

    updated_view = {**BRIEF_MODAL, "title": plain("Launch (2)")}
    updated = (await client.views_update(view_id=opened["id"], hash=opened["hash"], view=updated_view))["view"]
    assert updated["hash"] != opened["hash"] and standin.views[opened["id"]]["title"]["text"] == "Launch (2)"
    with pytest.raises(SlackApiError) as failure:
        await client.views_update(view_id=opened["id"], hash=opened["hash"], view=BRIEF_MODAL)
    assert failure.value.response["error"] == "hash_conflict"
    with pytest.raises(SlackApiError) as failure:
        await client.views_update(view_id="V9999999999", view=BRIEF_MODAL)
    assert failure.value.response["error"] == "not_found"


async def test_views_by_external_id_push_and_home(client: AsyncWebClient, standin: SlackStandIn) -> None:
    opened = (await client.views_open(trigger_id="t-a", view={**BRIEF_MODAL, "external_id": "brief-1"}))["view"]
    await client.views_update(
        external_id="brief-1", view={**BRIEF_MODAL, "external_id": "brief-1", "title": plain("Renamed")}
    )
    assert standin.views[opened["id"]]["title"]["text"] == "Renamed"
    pushed = (await client.views_push(trigger_id="t-b", view=BRIEF_MODAL))["view"]
    assert pushed["id"] != opened["id"]

    home = {"type": "home", "blocks": [section("Your launches")]}
    published = (await client.views_publish(user_id="U0ANA", view=home))["view"]
    assert standin.home("U0ANA")["blocks"][0]["text"]["text"] == "Your launches"
    again = (await client.views_publish(user_id="U0ANA", view=home, hash=published["hash"]))["view"]
    with pytest.raises(SlackApiError) as failure:
        await client.views_publish(user_id="U0ANA", view=home, hash=published["hash"])
    assert failure.value.response["error"] == "hash_conflict" and again["id"] == published["id"]


async def test_too_many_blocks_rejected_even_without_validator() -> None:
    async with SlackStandIn() as bare:
        client = AsyncWebClient(token=bare.bot_token, base_url=bare.base_url)
        with pytest.raises(SlackApiError) as failure:
            await client.chat_postMessage(channel="C0GENERAL", text="x", blocks=[{"type": "divider"}] * 51)
        assert failure.value.response["error"] == "invalid_blocks"
        assert "too many blocks" in failure.value.response["errors"][0]
        assert (await client.chat_postMessage(channel="C0GENERAL", text="x", blocks=[{"type": "divider"}] * 50))["ok"]
        with pytest.raises(SlackApiError) as failure:
            await client.chat_postMessage(channel="C0GENERAL", text="x" * 40_001)
        assert failure.value.response["error"] == "msg_too_long"
        big_home = {"type": "home", "blocks": [{"type": "divider"}] * 101}
        with pytest.raises(SlackApiError):
            await client.views_publish(user_id="U0LIFTBOT", view=big_home)
        assert [r.method for r in bare.validation_errors] == ["chat.postMessage", "views.publish"]


async def test_schema_violations_rejected(client: AsyncWebClient, standin: SlackStandIn) -> None:
    bad_button = {"type": "actions", "elements": [{"type": "button", "text": plain("x" * 76), "action_id": "a"}]}
    with pytest.raises(SlackApiError) as failure:
        await client.chat_postMessage(channel="C0LAUNCH", text="x", blocks=[bad_button])
    assert failure.value.response["error"] == "invalid_blocks"
    assert failure.value.response["errors"] == [
        "blocks[0].elements[0].text.text: 76 characters, more than the 75 allowed"
    ]
    untitled = {k: v for k, v in BRIEF_MODAL.items() if k != "title"}
    with pytest.raises(SlackApiError) as failure:
        await client.views_open(trigger_id="t-1", view=untitled)
    assert failure.value.response["errors"] == ["view: 'title' is a required property"]
    assert standin.messages("C0LAUNCH") == [] and standin.views == {}
    assert [r.kind for r in standin.validation_errors] == ["message", "modal"]


async def test_files_upload_v2(client: AsyncWebClient, standin: SlackStandIn) -> None:
    response = await client.files_upload_v2(
        channel="C0LAUNCH", content="a,b\n1,2\n", filename="plan.csv", title="Plan", initial_comment="Here is the plan"
    )
    assert response["file"]["title"] == "Plan"
    assert standin.files[response["file"]["id"]]["content"] == b"a,b\n1,2\n"
    posted = standin.messages("C0LAUNCH")[-1]
    assert posted["text"] == "Here is the plan" and posted["files"][0]["name"] == "plan.csv"


async def test_response_url_ephemeral_in_channel_and_replace(standin: SlackStandIn) -> None:
    url = standin.new_response_url("U0ANA", "C0LAUNCH")
    webhook = AsyncWebhookClient(url)
    assert (await webhook.send(text="only you can see this")).status_code == 200
    assert [m["text"] for m in standin.ephemerals("U0ANA")] == ["only you can see this"]
    assert standin.ephemerals("U0BEN") == [] and standin.messages("C0LAUNCH") == []
    await webhook.send(text="replaced", replace_original=True)
    assert [m["text"] for m in standin.ephemerals("U0ANA")] == ["replaced"]
    await webhook.send(text="for everyone", response_type="in_channel", blocks=[section("for *everyone*")])
    assert [m["text"] for m in standin.messages("C0LAUNCH")] == ["for everyone"]
    rejected = await webhook.send(text="x", blocks=[{"type": "section"}])
    assert rejected.status_code == 400 and standin.validation_errors[-1].method == "response_url"
    assert [c.response["ok"] for c in standin.calls_to("response_url")] == [True, True, True, False]


async def test_fail_next_serves_rate_limit(client: AsyncWebClient, standin: SlackStandIn) -> None:
    standin.fail_next("chat.postMessage", retry_after=7)
    with pytest.raises(SlackApiError) as failure:
        await client.chat_postMessage(channel="C0LAUNCH", text="hi")
    assert failure.value.response.status_code == 429
    assert failure.value.response.headers["Retry-After"] == "7"
    assert (await client.chat_postMessage(channel="C0LAUNCH", text="hi"))["ok"]


async def test_slow_next_delays_answers(client: AsyncWebClient, standin: SlackStandIn) -> None:
    standin.slow_next("auth.test", 0.3)
    started = time.monotonic()
    await client.auth_test()
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    await client.auth_test()
    assert time.monotonic() - started < 0.3


async def test_wait_for_explains_timeouts(standin: SlackStandIn) -> None:
    with pytest.raises(TimeoutError, match="waiting for: a digest"):
        await standin.wait_for(lambda: False, timeout=0.05, what="a digest")


# --- rendering ----------------------------------------------------------------------------------------------


def test_render_blocks_reads_like_slack() -> None:
    blocks = [
        {"type": "header", "text": plain("Pricing change")},
        section("Owner <@U0ANA>, brief in <https://docs.example.com/b|the doc> &amp; <#C0LAUNCH|launches>"),
        {"type": "divider"},
        *APPROVAL_BLOCKS,
        {"type": "context", "elements": [{"type": "image", "image_url": "https://x.io/a.png", "alt_text": "logo"}]},
        {"type": "carousel", "elements": []},
    ]
    text = render_blocks(blocks, {"U0ANA": "Ana Costa"})
    assert text.splitlines() == [
        "PRICING CHANGE",
        "==============",
        "Owner @Ana Costa, brief in the doc & #launches",
        "-" * 40,
        "*Review* task @Ana Costa: migrate billing",
        "[Approve] [Reject]",
        "[image: logo]",
        "[unsupported block: carousel]",
    ]


def test_render_view_shows_inputs() -> None:
    text = render_view(BRIEF_MODAL)
    assert text.splitlines()[0] == "=== New launch ==="
    assert "Name: ______" in text and "Tier: [Select v] (options: Tier 1, Tier 2)" in text
    assert "Notes (optional): ______" in text and text.splitlines()[-1] == "[Cancel] [Create]"
