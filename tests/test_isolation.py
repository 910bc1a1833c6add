"""Two installed workspaces on both backends (SQLite with in-process jobs, PostgreSQL with an RQ worker):
no command, button, modal, job, webhook or query of one reaches the other's rows, even when a payload
names the other workspace's ids. The same person (U100) is an Admin in one workspace and a Member in the other."""

from __future__ import annotations

import json
import secrets
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from agents.okr_import import import_tree
from agents.okr_sources import sign_metric
from bot.jobs import JobName
from bot.settings import Settings
from bot.standin.api import SlackStandIn
from bot.standin.render import render_blocks
from bot.standin.simulator import SlackSimulator
from storage.audit import AuditEntry
from storage.enums import LaunchStatus
from storage.models import Launch, Task
from storage.okr_enums import ApprovalState
from storage.okr_models import CheckIn, KeyResult, Objective, OkrComment, OkrDecision
from storage.okrs import OkrRepository
from storage.scope import Scope
from tests.support import Stack, running_stack
from tests.test_launch_scenarios import brief_values
from tests.test_oauth import install, own_view

ALPHA, BETA = "T0ALPHA", "T0BETA"
SHARED_USER = "U100"  # an Admin in alpha, a Member in beta
BETA_ADMIN = "U102"
CHANNEL = "C0LAUNCH"
TODAY = date.today()
SECRETS = {ALPHA: "alpha-metric-secret", BETA: "beta-metric-secret"}
LAUNCH_NAME = "Alpha Secret"


def okr_tree(workspace: str) -> dict[str, Any]:
    start, end = (TODAY - timedelta(days=30)).isoformat(), (TODAY + timedelta(days=60)).isoformat()
    if workspace == ALPHA:
        people = [{"slack_id": SHARED_USER, "name": "Maya Chen", "role": "admin"},
                  {"slack_id": "U101", "name": "Omar Haddad", "role": "pm", "department": "Eng", "team": "Search"}]
        objectives = [
            {"key": "AL-CO", "title": "Alpha confidential goal", "level": "company", "owner": SHARED_USER,
             "period": "NOW", "key_results": [
                 {"key": "AL-CO.1", "title": "Alpha documents", "owner": "U101", "start": 0, "target": 100,
                  "source": "metric", "source_ref": "docs_indexed",
                  "checkins": [{"date": (TODAY - timedelta(days=3)).isoformat(), "value": 40}]}]},
            {"key": "AL-NEW", "title": "Alpha pending idea", "level": "team", "department": "Eng", "team": "Search",
             "owner": "U101", "parent": "AL-CO", "period": "NOW"},
        ]
    else:
        people = [{"slack_id": BETA_ADMIN, "name": "Lucia Romero", "role": "admin"},
                  {"slack_id": SHARED_USER, "name": "Maya Chen", "role": "member"}]
        objectives = [
            {"key": "BE-CO", "title": "Beta own goal", "level": "company", "owner": BETA_ADMIN, "period": "NOW",
             "key_results": [{"key": "BE-CO.1", "title": "Beta documents", "owner": SHARED_USER, "start": 0,
                              "target": 10, "source": "metric", "source_ref": "docs_indexed"}]},
        ]
    return {"periods": [{"name": "NOW", "start": start, "end": end}], "people": people, "objectives": objectives}


def multi_settings(standin: SlackStandIn) -> Settings:
    return Settings(
        slack_signing_secret=secrets.token_hex(16),
        slack_api_url=standin.base_url,
        slack_client_id="111.222",
        slack_client_secret="shh",
        encryption_key=Fernet.generate_key().decode(),
        log_level="WARNING",
    )


@dataclass
class World:
    stack: Stack
    alpha: SlackSimulator
    beta: SlackSimulator
    launch_id: int
    ids: dict[str, int]  # alpha's row ids by key (objectives, key results) and "period"


@pytest.fixture(scope="module", params=["sqlite-inline", "postgres-rq"])
async def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                blockkit_validator: Any) -> AsyncIterator[World]:
    backend = request.param
    async with running_stack(backend, tmp_path_factory.mktemp(f"iso-{backend}"), blockkit_validator,
                             settings_for=multi_settings, team_id=ALPHA) as stack:
        url = stack.liftoff.url
        assert await install(url, stack.standin, ALPHA) == 200
        assert await install(url, stack.standin, BETA) == 200
        for workspace in (ALPHA, BETA):
            async with stack.db.session() as session:
                repo = OkrRepository(session, Scope(workspace))
                await import_tree(repo, okr_tree(workspace), TODAY)
                await repo.save_settings(metric_secret=SECRETS[workspace])
        async with stack.db.session() as session:
            repo = OkrRepository(session, Scope(ALPHA))
            pending = await repo.objective_by_key("AL-NEW")
            assert pending is not None
            await repo.set_approval(pending, ApprovalState.SUBMITTED, "U101")
        alpha = SlackSimulator(url, stack.settings.slack_signing_secret or "", stack.standin, team_id=ALPHA)
        beta = SlackSimulator(url, stack.settings.slack_signing_secret or "", stack.standin, team_id=BETA)
        try:
            ack = await alpha.slash_command(SHARED_USER, "/launch", "new", channel_id=CHANNEL)
            await stack.standin.wait_for(lambda: stack.standin.view_opened_by(ack.trigger_id) is not None)
            view = own_view(stack.standin, stack.standin.view_opened_by(ack.trigger_id), ALPHA)
            await alpha.submit_view(SHARED_USER, view, brief_values(LAUNCH_NAME))
            await stack.settle(timeout=90)
            async with stack.db.reader() as session:
                launch = await session.scalar(select(Launch).where(Launch.name == LAUNCH_NAME))
                assert launch is not None and launch.workspace_id == ALPHA
                assert launch.status == LaunchStatus.PLANNED, launch.error
                ids = {o.key: o.id for o in await session.scalars(select(Objective).where(
                    Objective.workspace_id == ALPHA))}
                ids |= {k.key: k.id for k in await session.scalars(select(KeyResult).where(
                    KeyResult.workspace_id == ALPHA))}
                ids["period"] = (await session.get(Objective, ids["AL-CO"])).period_id  # type: ignore[union-attr]
            yield World(stack, alpha, beta, launch.id, ids)
        finally:
            await alpha.close()
            await beta.close()


async def snapshot(stack: Stack, workspace: str) -> dict[str, Any]:
    """Everything of one workspace that an attack from the other might change."""
    async with stack.db.reader() as session:
        def count(model: Any) -> Any:
            return select(func.count()).select_from(model).where(model.workspace_id == workspace)

        launches = [(lc.id, lc.name, lc.status, lc.planned_at, lc.quality_score) for lc in await session.scalars(
            select(Launch).where(Launch.workspace_id == workspace).order_by(Launch.id))]
        objectives = [(o.key, o.approval, o.progress, o.status) for o in await session.scalars(
            select(Objective).where(Objective.workspace_id == workspace).order_by(Objective.key))]
        key_results = [(k.key, k.current_value, k.progress) for k in await session.scalars(
            select(KeyResult).where(KeyResult.workspace_id == workspace).order_by(KeyResult.key))]
        return {
            "launches": launches, "objectives": objectives, "key_results": key_results,
            "tasks": await session.scalar(count(Task)), "checkins": await session.scalar(count(CheckIn)),
            "comments": await session.scalar(count(OkrComment)), "decisions": await session.scalar(count(OkrDecision)),
            "audit": await session.scalar(count(AuditEntry)),
        }


async def ephemeral_reply(world: World, sim: SlackSimulator, user: str, command: str, text: str) -> str:
    stack = world.stack
    before = len(stack.standin.ephemerals(user))
    ack = await sim.slash_command(user, command, text, channel_id=CHANNEL)
    assert ack.status == 200
    await stack.standin.wait_for(lambda: len(stack.standin.ephemerals(user)) > before, timeout=20)
    reply = stack.standin.ephemerals(user)[-1]
    return render_blocks(reply["blocks"]) if reply.get("blocks") else str(reply.get("text"))


def forged_message(action_id: str, value: str) -> dict[str, Any]:
    """A message holding one button that carries another workspace's id, as a forged payload would."""
    return {"ts": f"{time.time():.6f}", "channel": CHANNEL, "blocks": [{"type": "actions", "elements": [
        {"type": "button", "action_id": action_id, "text": {"type": "plain_text", "text": "x"}, "value": value}]}]}


async def response_text_after(world: World, sim: SlackSimulator, user: str, action_id: str, value: str) -> str:
    stack = world.stack
    calls = len(stack.standin.calls_to("response_url"))
    ack = await sim.click(user, action_id=action_id, value=value, message=forged_message(action_id, value))
    assert ack.status == 200
    await stack.standin.wait_for(lambda: len(stack.standin.calls_to("response_url")) > calls, timeout=20)
    return str(stack.standin.calls_to("response_url")[-1].args.get("text", ""))


async def forged_submission(sim: SlackSimulator, user: str, view: dict[str, Any], state: dict[str, Any],
                            metadata: str | None = None) -> Any:
    """A view_submission with exactly this state (and private_metadata), bypassing the client's checks."""
    submitted = {**view, "team_id": sim.team_id, "app_installed_team_id": sim.team_id, "state": {"values": state}}
    if metadata is not None:
        submitted["private_metadata"] = metadata
    payload = {"type": "view_submission", **sim._envelope(user, sim.new_trigger_id(user)), "view": submitted,
               "response_urls": []}
    return await sim.post(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")


def modal(callback_id: str, blocks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"id": f"V{uuid.uuid4().hex[:10].upper()}", "type": "modal", "callback_id": callback_id,
            "blocks": blocks or [], "private_metadata": "", "hash": "1"}


async def test_launch_commands_buttons_and_jobs_stay_in_their_workspace(world: World) -> None:
    stack, beta = world.stack, world.beta
    alpha_before = await snapshot(stack, ALPHA)
    # Commands: beta asks for alpha's launch by name, for the channel's launches and for the list.
    reply = await ephemeral_reply(world, beta, BETA_ADMIN, "/launch", f"status {LAUNCH_NAME}")
    assert "found no launch" in reply and "Did you mean" not in reply
    # A near miss would be answered with close names: none of them may be alpha's.
    reply = await ephemeral_reply(world, beta, BETA_ADMIN, "/launch", "status Alpha Secrt")
    assert "found no launch" in reply and LAUNCH_NAME not in reply
    assert LAUNCH_NAME not in await ephemeral_reply(world, beta, BETA_ADMIN, "/launch", "status")
    assert LAUNCH_NAME not in await ephemeral_reply(world, beta, BETA_ADMIN, "/launch", "list")
    # Button: the Show health button with alpha's launch id.
    text = await response_text_after(world, beta, BETA_ADMIN, "launch_show_health", str(world.launch_id))
    assert "no longer exists" in text
    # Job: a plan job and an outbox drain for beta naming alpha's launch id find nothing and post nothing.
    posted = len(stack.standin.messages(CHANNEL))
    await stack.liftoff.services.jobs.enqueue(JobName.PLAN_LAUNCH, BETA, world.launch_id)
    await stack.liftoff.services.jobs.enqueue(JobName.DRAIN_SLACK_OUTBOX, BETA)
    await stack.settle(timeout=60)
    assert len(stack.standin.messages(CHANNEL)) == posted
    # Event: beta's Home tab shows none of alpha's launches or OKRs.
    publishes = len(stack.standin.calls_to("views.publish"))
    await beta.open_home(SHARED_USER)
    await stack.standin.wait_for(lambda: len(stack.standin.calls_to("views.publish")) > publishes, timeout=20)
    home = json.dumps(stack.standin.home(SHARED_USER))
    assert LAUNCH_NAME not in home and "AL-" not in home and "Alpha" not in home
    await stack.settle()
    assert await snapshot(stack, ALPHA) == alpha_before


async def test_a_brief_with_the_other_workspaces_launch_name_makes_a_separate_launch(world: World) -> None:
    stack, beta = world.stack, world.beta
    alpha_before = await snapshot(stack, ALPHA)
    ack = await beta.slash_command(BETA_ADMIN, "/launch", "new", channel_id=CHANNEL)
    await stack.standin.wait_for(lambda: stack.standin.view_opened_by(ack.trigger_id) is not None, timeout=20)
    view = own_view(stack.standin, stack.standin.view_opened_by(ack.trigger_id), BETA)
    answer = await beta.submit_view(BETA_ADMIN, view, brief_values(LAUNCH_NAME))
    assert answer.status == 200 and (answer.json is None or answer.json.get("response_action") != "errors")
    await stack.settle(timeout=90)
    async with stack.db.reader() as session:
        rows = list(await session.scalars(select(Launch).where(Launch.name == LAUNCH_NAME)))
    assert sorted(r.workspace_id for r in rows) == [ALPHA, BETA]
    assert await snapshot(stack, ALPHA) == alpha_before


async def test_okr_commands_answer_from_their_own_workspace(world: World) -> None:
    stack, beta = world.stack, world.beta
    alpha_before = await snapshot(stack, ALPHA)
    for text in ("ask which objectives are at risk?", "ask how many key results are there?", "list company",
                 "list mine", f"list <@{SHARED_USER}>", "tree", "update BE-CO.1 3"):
        reply = await ephemeral_reply(world, beta, SHARED_USER, "/okr", text)
        assert "AL-" not in reply and "Alpha" not in reply, (text, reply)
    # Naming alpha's keys finds nothing (the reply only echoes the key typed).
    reply = await ephemeral_reply(world, beta, SHARED_USER, "/okr", "tree AL-CO")
    assert "No objective" in reply and "Alpha" not in reply
    reply = await ephemeral_reply(world, beta, SHARED_USER, "/okr", "update AL-CO.1 99 from beta")
    assert "No key result" in reply and "Alpha" not in reply
    # Alpha's Admin is a Member in beta: the role does not travel with the person.
    assert "Only" in await ephemeral_reply(world, beta, "U101", "/okr", "update BE-CO.1 4")
    await stack.settle()
    assert await snapshot(stack, ALPHA) == alpha_before


async def test_okr_buttons_naming_the_other_workspaces_ids_do_nothing(world: World) -> None:
    stack, beta = world.stack, world.beta
    alpha_before = await snapshot(stack, ALPHA)
    pending, kr = str(world.ids["AL-NEW"]), str(world.ids["AL-CO.1"])
    for user in (SHARED_USER, BETA_ADMIN):  # a Member in beta, and beta's Admin
        assert "no longer exists" in await response_text_after(world, beta, user, "okr_approve", pending)
        assert "no longer exists" in await response_text_after(world, beta, user, "okr_return", pending)
        assert "not available" in await response_text_after(world, beta, user, "okr_comment", pending)
        assert "no longer exists" in await response_text_after(world, beta, user, "okr_check_in", kr)
    await stack.settle()
    assert await snapshot(stack, ALPHA) == alpha_before
    async with stack.db.reader() as session:
        assert (await session.get(Objective, world.ids["AL-NEW"])).approval == ApprovalState.SUBMITTED  # type: ignore


async def test_okr_modals_naming_the_other_workspaces_ids_save_nothing_there(world: World) -> None:
    stack, beta = world.stack, world.beta
    alpha_before = await snapshot(stack, ALPHA)
    ids = world.ids
    # Check-in modal: a value block for alpha's key result.
    answer = await forged_submission(beta, SHARED_USER, modal("okr_update"),
                                     {f"value:{ids['AL-CO.1']}": {f"value:{ids['AL-CO.1']}": {
                                         "type": "plain_text_input", "value": "99"}}})
    assert answer.status == 200
    await stack.standin.wait_for(lambda: any("no longer exists" in m.get("text", "")
                                             for m in stack.standin.messages(SHARED_USER)), timeout=20)
    # Comment and return modals whose metadata names alpha's objective.
    comment = {"comment": {"comment": {"type": "rich_text_input", "rich_text_value": {"type": "rich_text", "elements": [
        {"type": "rich_text_section", "elements": [{"type": "text", "text": "hello alpha"}]}]}}}}
    answer = await forged_submission(beta, BETA_ADMIN, modal("okr_comment"), comment,
                                     json.dumps({"objective_id": ids["AL-NEW"]}))
    assert answer.json is not None and "no longer exists" in answer.json["errors"]["comment"]
    reason = {"reason": {"reason": {"type": "plain_text_input", "value": "not for you"}}}
    answer = await forged_submission(beta, BETA_ADMIN, modal("okr_return"), reason,
                                     json.dumps({"objective_id": ids["AL-NEW"], "channel": CHANNEL, "ts": "1.1"}))
    assert answer.json is not None and "no longer exists" in answer.json["errors"]["reason"]
    # New objective modal: alpha's period (static_select) and alpha's objective as parent (external_select).
    def select(value: str) -> dict[str, Any]:
        return {"type": "static_select", "selected_option": {"text": {"type": "plain_text", "text": "x"},
                                                             "value": value}}

    state = {"title": {"title": {"type": "plain_text_input", "value": "Steal alpha"}},
             "level": {"level": select("team")}, "period": {"period": select(str(ids["period"]))},
             "parent": {"parent": {**select(str(ids["AL-CO"])), "type": "external_select"}},
             "department": {"department": {"type": "plain_text_input", "value": "Eng"}},
             "team": {"team": {"type": "plain_text_input", "value": "Search"}}}
    answer = await forged_submission(beta, BETA_ADMIN, modal("okr_new_objective"), state)
    assert answer.json is not None and {"period", "parent"} <= set(answer.json["errors"])
    # The parent picker's search from beta offers none of alpha's objectives.
    suggestion = {"type": "block_suggestion", "user": {"id": BETA_ADMIN}, "team": {"id": BETA}, "action_id": "parent",
                  "block_id": "parent", "value": "AL", "view": modal("okr_new_objective"),
                  "api_app_id": stack.standin.app_id, "token": "x"}
    options = await beta.post(urlencode({"payload": json.dumps(suggestion)}), "application/x-www-form-urlencoded")
    assert options.json is not None and all("AL-" not in o["text"]["text"] for o in options.json["options"])
    await stack.settle()
    assert await snapshot(stack, ALPHA) == alpha_before


async def test_the_metrics_webhook_reaches_only_the_signing_workspace(world: World) -> None:
    stack = world.stack
    alpha_before = await snapshot(stack, ALPHA)
    body = json.dumps({"metric": "docs_indexed", "value": 7, "timestamp": f"{TODAY.isoformat()}T08:00:00Z"})

    async def post(workspace: str, secret: str) -> tuple[int, dict[str, Any]]:
        ts = str(int(time.time()))
        headers = {"X-Liftoff-Workspace": workspace, "X-Liftoff-Timestamp": ts, "Content-Type": "application/json",
                   "X-Liftoff-Signature": sign_metric(secret, ts, body.encode())}
        async with aiohttp.ClientSession() as http, http.post(stack.liftoff.url + "/webhooks/metrics", data=body,
                                                              headers=headers) as response:
            return response.status, await response.json()

    # Beta's secret cannot speak for alpha, nor alpha's for beta.
    assert (await post(ALPHA, SECRETS[BETA]))[0] == 401
    assert (await post(BETA, SECRETS[ALPHA]))[0] == 401
    status, answer = await post(BETA, SECRETS[BETA])
    assert status == 200 and answer["key_results"] == ["BE-CO.1"] and answer["recorded"] == 1
    assert await snapshot(stack, ALPHA) == alpha_before


async def test_every_audit_entry_of_beta_stays_in_beta(world: World) -> None:
    async with world.stack.db.reader() as session:
        beta_denials = list(await session.scalars(select(AuditEntry).where(
            AuditEntry.workspace_id == BETA, AuditEntry.action == "access.denied")))
        alpha_targets = {f"objective:{key}" for key in ("AL-CO", "AL-NEW")} | {"key_result:AL-CO.1"}
        leaked = await session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.workspace_id == BETA, AuditEntry.target.in_(alpha_targets)))
    assert leaked == 0
    assert all(entry.workspace_id == BETA for entry in beta_denials)
