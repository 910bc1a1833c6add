"""Multi-workspace mode: OAuth install of two workspaces, tokens encrypted at rest, rotation, uninstall,
and isolation: one workspace's commands, buttons, modals, jobs and events never reach the other's rows."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import aiohttp
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, text

from bot.runtime import start_liftoff
from bot.settings import Settings, SettingsError
from bot.standin.api import SlackStandIn
from bot.standin.simulator import SlackSimulator
from storage.enums import LaunchStatus
from storage.models import Launch
from tests.support import CHANNELS, PEOPLE

ALPHA, BETA = "T0ALPHA", "T0BETA"


async def install(url: str, standin: SlackStandIn, team_id: str) -> int:
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as http:
        async with http.get(url + "/slack/install", allow_redirects=False) as page:
            body = await page.text()
        assert page.status == 200
        start = body.index("https://slack.com/oauth/v2/authorize")
        state = parse_qs(urlparse(body[start : body.index('"', start)].replace("&amp;", "&")).query)["state"][0]
        code = standin.new_oauth_code(team_id, f"Team {team_id}", "U100")
        # The state cookie is Secure (HTTPS only); over the test's plain HTTP the browser part is played here.
        cookie = page.headers["Set-Cookie"].split(";", 1)[0]
        async with http.get(
            url + "/slack/oauth_redirect", params={"code": code, "state": state}, headers={"Cookie": cookie}
        ) as done:
            return done.status


@pytest.fixture(scope="module")
async def multi(
    tmp_path_factory: pytest.TempPathFactory, blockkit_validator: Any
) -> AsyncIterator[tuple[Settings, Any, SlackStandIn]]:
    standin = await SlackStandIn(validator=blockkit_validator, users=PEOPLE, channels=CHANNELS).start()
    folder = tmp_path_factory.mktemp("multi")
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{folder}/multi.db",
        slack_signing_secret=secrets.token_hex(16),
        slack_api_url=standin.base_url,
        slack_client_id="111.222",
        slack_client_secret="shh",
        encryption_key=Fernet.generate_key().decode(),
        log_level="WARNING",
    )
    liftoff = await start_liftoff(settings, port=0)
    try:
        yield settings, liftoff, standin
    finally:
        await liftoff.stop()
        await standin.stop()


def own_view(standin: SlackStandIn, view: Any, team_id: str) -> Any:
    """The stand-in's views carry its own team id; Slack's carry the installing workspace's."""
    standin.views[view["id"]].update(team_id=team_id, app_installed_team_id=team_id)
    return standin.views[view["id"]]


def simulator(multi: Any, team_id: str) -> SlackSimulator:
    settings, liftoff, standin = multi
    return SlackSimulator(liftoff.url, settings.slack_signing_secret, standin, team_id=team_id)


def test_multi_workspace_mode_needs_an_encryption_key() -> None:
    env = {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "s", "SLACK_SIGNING_SECRET": "x"}
    with pytest.raises(SettingsError, match="LIFTOFF_ENCRYPTION_KEY is required"):
        Settings.from_env(env)
    with pytest.raises(SettingsError, match="Fernet key"):
        Settings.from_env({**env, "LIFTOFF_ENCRYPTION_KEY": "not-a-key"})
    assert Settings.from_env({**env, "LIFTOFF_ENCRYPTION_KEY": Fernet.generate_key().decode()}).multi_workspace


async def test_install_two_workspaces_with_tokens_encrypted_at_rest(multi: Any) -> None:
    settings, liftoff, standin = multi
    assert await install(liftoff.url, standin, ALPHA) == 200
    assert await install(liftoff.url, standin, BETA) == 200
    async with liftoff.services.db.reader() as session:
        rows = (await session.execute(text("SELECT team_id, bot_token FROM slack_bots ORDER BY team_id"))).all()
    assert [r[0] for r in rows] == [ALPHA, BETA]
    issued = set(standin.issued_tokens)
    for _, stored in rows:
        assert stored not in issued and not stored.startswith("xoxb-")
        assert Fernet(settings.encryption_key.encode()).decrypt(stored.encode()).decode() in issued
    client = await liftoff.services.slack.for_workspace(BETA)
    assert standin.issued_tokens[client.token] == BETA


async def test_a_bad_state_is_refused(multi: Any) -> None:
    _, liftoff, standin = multi
    code = standin.new_oauth_code("T0EVIL", "Evil", "U1")
    async with (
        aiohttp.ClientSession() as http,
        http.get(liftoff.url + "/slack/oauth_redirect", params={"code": code, "state": "forged"}) as response,
    ):
        assert response.status in (400, 401)
    async with liftoff.services.db.reader() as session:
        assert (await session.execute(text("SELECT count(*) FROM slack_bots WHERE team_id='T0EVIL'"))).scalar() == 0


async def test_workspaces_never_reach_each_others_rows(multi: Any) -> None:
    from tests.test_launch_scenarios import brief_values

    settings, liftoff, standin = multi
    alpha, beta = simulator(multi, ALPHA), simulator(multi, BETA)
    try:
        ack = await alpha.slash_command("U100", "/launch", "new", channel_id="C0LAUNCH")
        await standin.wait_for(lambda: standin.view_opened_by(ack.trigger_id) is not None)
        view = own_view(standin, standin.view_opened_by(ack.trigger_id), ALPHA)
        await alpha.submit_view("U100", view, brief_values("Alpha Secret"))
        await liftoff.services.jobs.drain()
        async with liftoff.services.db.reader() as session:
            launch = await session.scalar(select(Launch).where(Launch.name == "Alpha Secret"))
        assert launch is not None, [(c.method, c.response.get("error")) for c in standin.calls][-12:]
        assert launch.workspace_id == ALPHA and launch.status == LaunchStatus.PLANNED

        # Command: beta asks for alpha's launch by name and for the list.
        before = len(standin.ephemerals("U100"))
        await beta.slash_command("U100", "/launch", "status Alpha Secret", channel_id="C0GENERAL")
        await beta.slash_command("U100", "/launch", "list", channel_id="C0GENERAL")
        await standin.wait_for(lambda: len(standin.ephemerals("U100")) >= before + 2)
        replies = sorted(str(m.get("text")) for m in standin.ephemerals("U100")[before:])
        assert "found no launch" in replies[0] and "Did you mean" not in replies[0]
        assert replies[1].startswith("No launches yet")

        # Button: beta forges a health button carrying alpha's launch id.
        fake = {
            "ts": "1.1",
            "channel": "C0GENERAL",
            "blocks": [
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "button",
                            "action_id": "launch_show_health",
                            "text": {"type": "plain_text", "text": "H"},
                            "value": str(launch.id),
                        }
                    ],
                }
            ],
        }
        calls = len(standin.calls_to("response_url"))
        await beta.click("U100", action_id="launch_show_health", value=str(launch.id), message=fake)
        await standin.wait_for(lambda: len(standin.calls_to("response_url")) > calls)
        assert "no longer exists" in standin.calls_to("response_url")[-1].args.get("text", "")

        # Modal: beta submits a brief with alpha's launch name: a new, separate launch in beta.
        ack = await beta.slash_command("U100", "/launch", "new", channel_id="C0LAUNCH")
        await standin.wait_for(lambda: standin.view_opened_by(ack.trigger_id) is not None)
        view = own_view(standin, standin.view_opened_by(ack.trigger_id), BETA)
        answer = await beta.submit_view("U100", view, brief_values("Alpha Secret"))
        assert answer.json is None or answer.json.get("response_action") != "errors"

        # Job: a plan job for beta naming alpha's launch id finds nothing and changes nothing.
        from agents import orchestrator

        outcome = await orchestrator.plan_launch(liftoff.services.db, BETA, launch.id)
        assert outcome == orchestrator.PlanOutcome.MISSING

        # Event: beta's Home tab lists only beta's launches.
        publishes = len(standin.calls_to("views.publish"))
        await beta.open_home("U100")
        await standin.wait_for(lambda: len(standin.calls_to("views.publish")) > publishes)
        await liftoff.services.jobs.drain()
        async with liftoff.services.db.reader() as session:
            rows = list(await session.scalars(select(Launch).where(Launch.name == "Alpha Secret")))
        assert sorted(r.workspace_id for r in rows) == [ALPHA, BETA]
        alpha_row = next(r for r in rows if r.workspace_id == ALPHA)
        assert alpha_row.id == launch.id and alpha_row.status == LaunchStatus.PLANNED
    finally:
        await alpha.close()
        await beta.close()


async def test_token_rotation_refreshes_an_expiring_token(multi: Any) -> None:
    _, liftoff, standin = multi
    standin.token_lifetime = 60  # seconds: always within the rotation window
    try:
        assert await install(liftoff.url, standin, "T0ROTATE") == 200
        first = (await liftoff.services.slack.for_workspace("T0ROTATE")).token
        second = (await liftoff.services.slack.for_workspace("T0ROTATE")).token
        assert first != second and standin.issued_tokens[second] == "T0ROTATE"
        refreshes = [c for c in standin.calls_to("oauth.v2.access") if c.args.get("grant_type") == "refresh_token"]
        assert len(refreshes) >= 2
    finally:
        standin.token_lifetime = None


async def test_uninstall_deletes_the_tokens_and_is_audited(multi: Any) -> None:
    _, liftoff, standin = multi
    assert await install(liftoff.url, standin, "T0GONE") == 200
    gone = simulator(multi, "T0GONE")
    try:
        ack = await gone.event({"type": "app_uninstalled"})
        assert ack.status == 200
        # The event is handled after its ack: the tokens go first, then the audit entry is written.
        for _ in range(100):
            async with liftoff.services.db.reader() as session:
                left = (await session.execute(text("SELECT count(*) FROM slack_bots WHERE team_id='T0GONE'"))).scalar()
                actions = list(
                    (
                        await session.execute(text("SELECT action FROM audit_entries WHERE workspace_id='T0GONE'"))
                    ).scalars()
                )
            if left == 0 and "app.uninstalled" in actions:
                break
            await asyncio.sleep(0.05)
        assert left == 0
        with pytest.raises(LookupError):
            await liftoff.services.slack.for_workspace("T0GONE")
        assert "app.installed" in actions and "app.uninstalled" in actions
    finally:
        await gone.close()
