"""The simulated Slack: request signing, and slash commands, modals, clicks and events sent to a Bolt app."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.standin import SimulatorError, SlackSimulator, SlackStandIn
from tests.standin_samples import APPROVAL_BLOCKS, BRIEF_MODAL, SIGNING_VECTOR, plain, running_standin, section

Simulated = tuple[SlackSimulator, dict[str, Any]]


@pytest.fixture
async def standin() -> AsyncIterator[SlackStandIn]:
    async with running_standin() as server:
        yield server


# --- signing ------------------------------------------------------------------------------------------------


class FixedClock:
    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now


async def test_signature_matches_slack_test_vector(standin: SlackStandIn) -> None:
    vector = SIGNING_VECTOR
    simulator = SlackSimulator("http://127.0.0.1:9", vector["signing_secret"], standin)
    headers = simulator.sign(vector["body"], vector["timestamp"])
    assert headers["X-Slack-Signature"] == vector["expected_signature"]
    assert headers["X-Slack-Request-Timestamp"] == vector["timestamp"]
    verifier = SignatureVerifier(vector["signing_secret"], clock=FixedClock(int(vector["timestamp"]) + 10))
    assert verifier.is_valid(vector["body"], vector["timestamp"], headers["X-Slack-Signature"])
    assert not verifier.is_valid(vector["body"] + "&x=1", vector["timestamp"], headers["X-Slack-Signature"])
    stale = SignatureVerifier(vector["signing_secret"], clock=FixedClock(int(vector["timestamp"]) + 301))
    assert not stale.is_valid(vector["body"], vector["timestamp"], headers["X-Slack-Signature"])
    fresh = simulator.sign("payload=%7B%7D")
    assert SignatureVerifier(vector["signing_secret"]).is_valid_request("payload=%7B%7D", fresh)
    await simulator.close()


# --- the simulator against a real Bolt app -----------------------------------------------------------------


def brief_app(standin: SlackStandIn, seen: dict[str, Any]) -> AsyncApp:
    app = AsyncApp(signing_secret="s3cret", client=AsyncWebClient(token=standin.bot_token, base_url=standin.base_url))

    @app.command("/launch")
    async def open_brief(ack, body, client, respond) -> None:  # type: ignore[no-untyped-def]
        await ack()
        await client.views_open(trigger_id=body["trigger_id"], view=BRIEF_MODAL)
        await respond("Opening the brief…")

    @app.view("launch_brief")
    async def submit_brief(ack, view, client) -> None:  # type: ignore[no-untyped-def]
        values = view["state"]["values"]
        seen["values"] = values
        if values["name"]["value"]["value"] == "?":
            await ack(response_action="errors", errors={"name": "Give the launch a name"})
            return
        await ack()
        await client.chat_postMessage(channel="C0LAUNCH", text="Review", blocks=APPROVAL_BLOCKS)

    @app.action("approve")
    async def approve(ack, body, respond) -> None:  # type: ignore[no-untyped-def]
        await ack()
        seen["action"] = body["actions"][0]
        await respond(replace_original=True, text="Approved by <@" + body["user"]["id"] + ">")

    @app.action("pick")
    async def pick(ack, body) -> None:  # type: ignore[no-untyped-def]
        await ack()
        seen["pick"] = body

    @app.event("app_home_opened")
    async def home(event, client) -> None:  # type: ignore[no-untyped-def]
        await client.views_publish(user_id=event["user"], view={"type": "home", "blocks": [section("Hi")]})

    return app


@pytest.fixture
async def simulator(standin: SlackStandIn) -> AsyncIterator[Simulated]:
    seen: dict[str, Any] = {}
    runner = web.AppRunner(brief_app(standin, seen).web_app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    sim = SlackSimulator(f"http://{host}:{port}", "s3cret", standin)
    yield sim, seen
    await sim.close()
    await runner.cleanup()


async def test_slash_command_modal_submit_and_click(standin: SlackStandIn, simulator: Simulated) -> None:
    sim, seen = simulator
    ack = await sim.slash_command("U0ANA", "/launch", "new", channel_id="C0LAUNCH")
    assert ack.status == 200 and ack.in_time
    await standin.wait_for(lambda: standin.view_opened_by(ack.trigger_id) is not None)
    await standin.wait_for(lambda: standin.ephemerals("U0ANA") != [])
    view = standin.view_opened_by(ack.trigger_id)

    refused = await sim.submit_view(
        "U0ANA", view, {"name": "?", "date": "2025-03-01", "owners": ["U0BEN"], "channel": "C0LAUNCH", "tier": "t2"}
    )
    assert refused.json == {"response_action": "errors", "errors": {"name": "Give the launch a name"}}
    assert standin.view_errors(view["id"]) == {"name": "Give the launch a name"}
    assert [v["id"] for v in standin.open_views("U0ANA")] == [view["id"]]

    values = {
        "name": "Pricing change",
        "date": "2025-03-01",
        "owners": ["U0BEN"],
        "channel": "C0LAUNCH",
        "tier": "Tier 1",
    }
    assert (await sim.submit_view("U0ANA", view, values)).status == 200
    assert seen["values"]["tier"]["value"]["selected_option"]["value"] == "t1"
    assert seen["values"]["owners"]["value"]["selected_users"] == ["U0BEN"]
    assert seen["values"]["notes"]["value"] == {"type": "plain_text_input", "value": None}
    assert standin.open_views("U0ANA") == []

    await standin.wait_for(lambda: standin.messages("C0LAUNCH") != [])
    await sim.click("U0BEN", action_id="approve", message=standin.messages("C0LAUNCH")[0])
    await standin.wait_for(lambda: standin.messages("C0LAUNCH")[0]["text"].startswith("Approved"))
    assert seen["action"]["value"] == "task-7" and seen["action"]["block_id"] == "review"

    await sim.event({"type": "app_home_opened", "user": "U0ANA", "channel": "DU0ANA", "tab": "home"})
    await standin.wait_for(lambda: standin.home("U0ANA") is not None)
    assert standin.validation_errors == []


async def test_ack_timing_is_observable_with_a_slow_slack(standin: SlackStandIn, simulator: Simulated) -> None:
    # Bolt notices ack() by polling every 10 ms, so the listener's next API call may reach the stand-in before
    # the HTTP answer reaches the simulator; a slow views.open shows the ack did not wait for it.
    sim, _ = simulator
    standin.slow_next("views.open", 1.0)
    ack = await sim.slash_command("U0ANA", "/launch", "new")
    assert ack.status == 200 and ack.elapsed_ms < 500
    await standin.wait_for(lambda: standin.view_opened_by(ack.trigger_id) is not None)
    assert standin.calls_to("views.open")[0].at > ack.acked_at


async def test_simulator_refuses_what_slack_would(standin: SlackStandIn, simulator: Simulated) -> None:
    sim, _ = simulator
    ack = await sim.slash_command("U0ANA", "/launch")
    await standin.wait_for(lambda: standin.view_opened_by(ack.trigger_id) is not None)
    view = standin.view_opened_by(ack.trigger_id)
    with pytest.raises(SimulatorError, match="required field 'Launch date'"):
        await sim.submit_view("U0ANA", view, {"name": "x"})
    with pytest.raises(SimulatorError, match="no option 't9'"):
        await sim.submit_view(
            "U0ANA", view, {"name": "x", "date": "2025-01-01", "owners": ["U0ANA"], "channel": "C0LAUNCH", "tier": "t9"}
        )
    with pytest.raises(SimulatorError, match="not open for U0BEN"):
        await sim.submit_view("U0BEN", view, {})


async def test_app_rejects_bad_signatures(standin: SlackStandIn, simulator: Simulated) -> None:
    sim, _ = simulator
    body = "command=%2Flaunch&user_id=U0ANA&team_id=T0LIFTOFF"
    form = "application/x-www-form-urlencoded"
    assert (await sim.post(body, form, headers={"X-Slack-Signature": "v0=" + "0" * 64})).status == 401
    stale = sim.sign(body, str(int(time.time()) - 600))
    assert (await sim.post(body, form, headers=stale)).status == 401


async def test_clicks_in_views_and_ephemerals(standin: SlackStandIn, simulator: Simulated) -> None:
    sim, seen = simulator
    client = AsyncWebClient(token=standin.bot_token, base_url=standin.base_url)
    picker = {
        "type": "actions",
        "block_id": "tiers",
        "elements": [
            {
                "type": "static_select",
                "action_id": "pick",
                "options": [{"text": plain("Tier 1"), "value": "t1"}, {"text": plain("Tier 2"), "value": "t2"}],
            }
        ],
    }
    view = (await client.views_open(trigger_id=sim.new_trigger_id("U0ANA"), view={**BRIEF_MODAL, "blocks": [picker]}))[
        "view"
    ]
    assert (await sim.click("U0ANA", action_id="pick", value="t2", view=view)).status == 200
    assert seen["pick"]["actions"][0]["selected_option"]["value"] == "t2"
    assert seen["pick"]["container"] == {"type": "view", "view_id": view["id"]}

    await client.chat_postEphemeral(channel="C0LAUNCH", user="U0ANA", text="Pick", blocks=[picker])
    await sim.click("U0ANA", action_id="pick", value="t1", message=standin.ephemerals("U0ANA")[0])
    assert seen["pick"]["container"]["is_ephemeral"] is True and "message" not in seen["pick"]
    assert seen["pick"]["response_url"].startswith(standin.url)


async def test_triggers_are_single_use_and_expire(standin: SlackStandIn, simulator: Simulated) -> None:
    sim, _ = simulator
    client = AsyncWebClient(token=standin.bot_token, base_url=standin.base_url)
    trigger = sim.new_trigger_id("U0ANA")
    await client.views_open(trigger_id=trigger, view=BRIEF_MODAL)
    with pytest.raises(SlackApiError) as failure:
        await client.views_open(trigger_id=trigger, view=BRIEF_MODAL)
    assert failure.value.response["error"] == "exchanged_trigger_id"
    late = sim.new_trigger_id("U0ANA")
    standin.view_store.triggers[late].issued_at -= 3.5
    with pytest.raises(SlackApiError) as failure:
        await client.views_open(trigger_id=late, view=BRIEF_MODAL)
    assert failure.value.response["error"] == "expired_trigger_id"


async def test_events_carry_ids_and_retry_headers(standin: SlackStandIn, simulator: Simulated) -> None:
    sim, _ = simulator
    first = await sim.event({"type": "app_home_opened", "user": "U0ANA", "tab": "home"}, event_id="Ev1")
    retry = await sim.event({"type": "app_home_opened", "user": "U0ANA", "tab": "home"}, event_id="Ev1", retry_num=1)
    assert first.payload["event_id"] == retry.payload["event_id"] == "Ev1"
    assert first.status == retry.status == 200
    await standin.wait_for(lambda: len(standin.calls_to("views.publish")) == 2)
    standin.reset()
    assert standin.calls == [] and standin.home("U0ANA") is None
