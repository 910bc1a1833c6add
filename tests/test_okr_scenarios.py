"""/okr through signed requests on both backends: ask, list, tree, check-ins, the approval flow, comments,
the Home tab, the quarterly report and the metrics webhook."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import date, timedelta
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from agents.okr_import import import_tree
from agents.okr_sources import sign_metric
from bot.notification_delivery import deliver_due
from bot.standin.render import render_blocks
from integrations.slack_sender import SlackSender
from storage.models import Outbox, utcnow
from storage.notifications import GROUP_WINDOW, Notification
from storage.okr_models import CheckIn, KeyResult, Objective, OkrDecision
from storage.okrs import OkrRepository
from storage.scope import Scope
from storage.workspaces import WorkspaceRepository
from tests.support import Stack

ADMIN, PM, MEMBER = "U100", "U101", "U102"
CHANNEL = "C0LAUNCH"
TODAY = date.today()
SECRET = "metric-secret"


def tree() -> dict[str, Any]:
    start, end = TODAY - timedelta(days=45), TODAY + timedelta(days=45)
    day = lambda n: (TODAY - timedelta(days=n)).isoformat()  # noqa: E731
    return {
        "periods": [{"name": "NOW", "start": start.isoformat(), "end": end.isoformat()}],
        "people": [
            {"slack_id": ADMIN, "name": "Maya Chen", "department": "Product", "team": "Core", "role": "admin"},
            {"slack_id": PM, "name": "Omar Haddad", "department": "Engineering", "team": "Search", "role": "pm"},
            {"slack_id": MEMBER, "name": "Lucia Romero", "department": "Engineering", "team": "Search",
             "role": "member"},
        ],
        "objectives": [
            {"key": "CO-A", "title": "Win the market", "level": "company", "owner": ADMIN, "period": "NOW",
             "key_results": [{"key": "CO-A.1", "title": "Grow revenue", "owner": ADMIN, "start": 0, "target": 100,
                              "unit": "k", "checkins": [{"date": day(30), "value": 10, "confidence": 0.5,
                                                         "author": ADMIN}]}]},
            {"key": "ENG-A", "title": "Ship search", "level": "department", "department": "Engineering",
             "owner": PM, "parent": "CO-A", "period": "NOW",
             "key_results": [{"key": "ENG-A.1", "title": "Index documents", "owner": MEMBER, "start": 0,
                              "target": 10, "unit": "M", "source": "metric", "source_ref": "docs_indexed",
                              "checkins": [{"date": day(20), "value": 4, "confidence": 0.8, "author": MEMBER},
                                           {"date": day(2), "value": 6, "confidence": 0.8, "author": MEMBER}]}]},
            {"key": "PRIV-A", "title": "Secret reorg", "level": "team", "department": "Engineering",
             "team": "Search", "owner": PM, "parent": "ENG-A", "period": "NOW", "visibility": "private"},
        ],
    }


@pytest.fixture(scope="module")
async def okr_stack(stack: Stack) -> Stack:
    scope = Scope(stack.standin.team_id)
    async with stack.db.session() as session:
        await WorkspaceRepository(session, scope).ensure()
        repo = OkrRepository(session, scope)
        await import_tree(repo, tree(), TODAY)
        await repo.save_settings(metric_secret=SECRET)
    return stack


async def command(stack: Stack, user: str, text: str) -> dict[str, Any]:
    before = len(stack.standin.ephemerals(user))
    ack = await stack.slack.slash_command(user, "/okr", text, channel_id=CHANNEL)
    assert ack.status == 200 and ack.elapsed_ms < 1000
    await stack.standin.wait_for(lambda: len(stack.standin.ephemerals(user)) > before, timeout=20)
    return stack.standin.ephemerals(user)[-1]


async def test_ask_answers_with_the_rule_and_data(okr_stack: Stack) -> None:
    reply = render_blocks((await command(okr_stack, MEMBER, "ask which objectives are at risk?"))["blocks"])
    assert "CO-A" in reply and "forecast" in reply and "last check-in 30 days ago" in reply
    assert "PRIV-A" not in reply
    assert okr_stack.standin.validation_errors == []


async def test_list_and_tree_respect_visibility(okr_stack: Stack) -> None:
    assert "PRIV-A" not in render_blocks((await command(okr_stack, MEMBER, "tree"))["blocks"])
    admin_tree = render_blocks((await command(okr_stack, ADMIN, "tree CO-A"))["blocks"])
    assert "ENG-A" in admin_tree and "PRIV-A" in admin_tree
    assert "ENG-A" in render_blocks((await command(okr_stack, MEMBER, f"list <@{PM}>"))["blocks"])
    assert "CO-A" in render_blocks((await command(okr_stack, MEMBER, "list company"))["blocks"])
    assert "do not know" in render_blocks((await command(okr_stack, MEMBER, "list nonsense"))["blocks"])
    assert okr_stack.standin.validation_errors == []


async def test_keyboard_update_checks_in_and_rolls_up(okr_stack: Stack) -> None:
    reply = render_blocks((await command(okr_stack, MEMBER, "update ENG-A.1 8 nearly there"))["blocks"])
    assert "Checked in" in reply and "ENG-A → CO-A" in reply
    async with okr_stack.db.reader() as session:
        kr = await session.scalar(select(KeyResult).where(KeyResult.key == "ENG-A.1"))
        assert kr is not None and kr.current_value == 8 and kr.progress == pytest.approx(0.8)
        eng = await session.scalar(select(Objective).where(Objective.key == "ENG-A"))
        assert eng is not None and eng.progress == pytest.approx(0.8) and eng.status_on == TODAY
    refused = render_blocks((await command(okr_stack, MEMBER, "update CO-A.1 50"))["blocks"])
    assert "Only" in refused
    assert "not a number" in render_blocks((await command(okr_stack, MEMBER, "update ENG-A.1 lots"))["blocks"])


async def test_update_modal_lists_my_key_results_and_saves(okr_stack: Stack) -> None:
    ack = await okr_stack.slack.slash_command(MEMBER, "/okr", "update", channel_id=CHANNEL)
    await okr_stack.standin.wait_for(lambda: okr_stack.standin.view_opened_by(ack.trigger_id) is not None)
    view = okr_stack.standin.view_opened_by(ack.trigger_id)
    assert view is not None and "ENG-A.1" in json.dumps(view["blocks"])
    block_id = next(b["block_id"] for b in view["blocks"] if b["block_id"].startswith("value:"))
    bad = await okr_stack.slack.submit_view(MEMBER, view, {block_id: "many"}, require=False)
    assert bad.json is not None and bad.json["response_action"] == "errors"
    good = await okr_stack.slack.submit_view(MEMBER, view, {block_id: "9"}, require=False)
    assert good.status == 200
    await okr_stack.settle()
    await okr_stack.standin.wait_for(lambda: any("Checked in" in m.get("text", "")
                                                 for m in okr_stack.standin.messages(MEMBER)), timeout=20)
    assert okr_stack.standin.validation_errors == []


async def test_new_objective_approval_and_return(okr_stack: Stack) -> None:
    stack = okr_stack
    ack = await stack.slack.slash_command(MEMBER, "/okr", "new", channel_id=CHANNEL)
    await stack.standin.wait_for(lambda: stack.standin.view_opened_by(ack.trigger_id) is not None)
    view = stack.standin.view_opened_by(ack.trigger_id)
    assert view is not None
    # The parent picker searches as you type (a block_suggestion request, as Slack sends it).
    suggestion = {"type": "block_suggestion", "user": {"id": MEMBER}, "team": {"id": stack.standin.team_id},
                  "action_id": "parent", "block_id": "parent", "value": "search", "view": view,
                  "api_app_id": stack.standin.app_id, "token": "x"}
    from urllib.parse import urlencode

    options = await stack.slack.post(urlencode({"payload": json.dumps(suggestion)}),
                                     "application/x-www-form-urlencoded")
    assert options.json is not None
    labels = [o["text"]["text"] for o in options.json["options"]]
    assert any(label.startswith("ENG-A") for label in labels) and not any("PRIV" in label for label in labels)
    eng_id = next(o["value"] for o in options.json["options"] if o["text"]["text"].startswith("ENG-A"))

    period = view["blocks"][2]["element"]["options"][0]["value"]
    errors = await stack.slack.submit_view(MEMBER, view, {"title": "Faster search", "level": "team", "period": period},
                                           require=False)
    assert errors.json is not None and {"parent", "department", "team"} <= set(errors.json["errors"])
    values = {"title": "Faster search", "level": "team", "parent": eng_id, "department": "Engineering",
              "team": "Search", "kr_title": "Cut p95", "kr_start": "800", "kr_target": "300", "kr_unit": "ms"}
    ack = await stack.slack.submit_view(MEMBER, view, values, require=False)
    assert ack.status == 200 and not ack.body.strip()
    # The request goes through the outbox, drained by a job (on RQ: a worker whose first job is slow to start).
    await stack.standin.wait_for(lambda: any("Approve" in json.dumps(m.get("blocks", []))
                                             for m in stack.standin.messages(PM)), timeout=60)
    request = next(m for m in stack.standin.messages(PM) if "Approve" in json.dumps(m.get("blocks", [])))
    # Someone else may not decide: the policy refuses and nothing changes.
    await stack.slack.click(MEMBER, action_id="okr_approve", message=request, channel_id=f"D{PM}")
    await stack.standin.wait_for(lambda: any("Only" in e.get("text", "") for e in stack.standin.ephemerals(MEMBER)))
    await stack.slack.click(PM, action_id="okr_approve", message=request, channel_id=f"D{PM}")
    for _ in range(100):
        async with stack.db.reader() as session:
            decisions = list(await session.scalars(select(OkrDecision.decision).join(
                Objective, Objective.id == OkrDecision.objective_id).where(Objective.title == "Faster search")))
        if "approved" in decisions:
            break
        await asyncio.sleep(0.05)
    assert decisions == ["submitted", "approved"]
    # The PM's request message shows the approval in place: an outbox row, sent by the drain with chat.update.
    await stack.standin.wait_for(lambda: any(m["ts"] == request["ts"] and "okr_approve" not in json.dumps(m["blocks"])
                                             for m in stack.standin.messages(PM)), timeout=60)
    edited = next(m for m in stack.standin.messages(PM) if m["ts"] == request["ts"])
    assert "approved" in edited.get("text", "").lower()


async def test_comment_button_notifies_mentions(okr_stack: Stack) -> None:
    stack = okr_stack
    message = await command(stack, MEMBER, "tree CO-A")
    ack = await stack.slack.click(MEMBER, action_id="okr_comment", message=message, channel_id=CHANNEL)
    await stack.standin.wait_for(lambda: stack.standin.view_opened_by(ack.trigger_id) is not None)
    view = stack.standin.view_opened_by(ack.trigger_id)
    assert view is not None
    done = await stack.slack.submit_view(MEMBER, view, {"comment": f"Can <@{PM}> help here?"})
    assert done.status == 200
    # A mention is a notification to the person (grouped for a few minutes, then sent by the delivery job).
    async with stack.db.reader() as session:
        mention = await session.scalar(select(Notification).where(Notification.kind == "mention",
                                                                  Notification.recipient == PM))
    assert mention is not None and "commented" in mention.payload["events"][0]["text"]
    client = await stack.liftoff.services.slack.for_workspace(stack.standin.team_id)
    await deliver_due(stack.db, SlackSender(client), None, stack.standin.team_id,
                      utcnow() + GROUP_WINDOW + timedelta(seconds=1))
    await stack.standin.wait_for(lambda: any("commented" in m.get("text", "") for m in stack.standin.messages(PM)),
                                 timeout=20)
    assert stack.standin.validation_errors == []


async def test_home_shows_my_key_results_with_check_in_buttons(okr_stack: Stack) -> None:
    await okr_stack.slack.open_home(MEMBER)
    await okr_stack.standin.wait_for(lambda: okr_stack.standin.home(MEMBER) is not None, timeout=20)
    home = okr_stack.standin.home(MEMBER)
    assert home is not None and len(home["blocks"]) <= 100
    assert "ENG-A.1" in json.dumps(home["blocks"]) and "okr_check_in" in json.dumps(home["blocks"])


async def test_report_posts_a_chart_per_company_objective(okr_stack: Stack) -> None:
    await command(okr_stack, ADMIN, "report")
    # The worker's first matplotlib import is slow on a loaded machine.
    await okr_stack.settle(timeout=90)
    await okr_stack.standin.wait_for(lambda: any(m.get("files") for m in okr_stack.standin.messages(CHANNEL)),
                                     timeout=30)
    files = [f for m in okr_stack.standin.messages(CHANNEL) for f in m.get("files") or []]
    assert any(f["name"] == "CO-A-progress.png" for f in files)
    stored = next(s for s in okr_stack.standin.files.values() if s["name"] == "CO-A-progress.png")
    assert stored["content"][:8] == b"\x89PNG\r\n\x1a\n"


async def test_metrics_webhook_is_signed_and_idempotent(okr_stack: Stack) -> None:
    body = json.dumps({"metric": "docs_indexed", "value": 9.5, "timestamp": f"{TODAY.isoformat()}T12:00:00Z"})
    url = okr_stack.liftoff.url + "/webhooks/metrics"

    async def post(signature: str | None = None) -> tuple[int, dict[str, Any]]:
        ts = str(int(time.time()))
        headers = {"X-Liftoff-Workspace": okr_stack.standin.team_id, "X-Liftoff-Timestamp": ts,
                   "X-Liftoff-Signature": signature or sign_metric(SECRET, ts, body.encode()),
                   "Content-Type": "application/json"}
        async with aiohttp.ClientSession() as session, session.post(url, data=body, headers=headers) as response:
            return response.status, await response.json()

    assert (await post("v0=bad"))[0] == 401
    status, first = await post()
    assert status == 200 and first["key_results"] == ["ENG-A.1"] and first["recorded"] == 1
    status, again = await post()
    assert status == 200 and again["recorded"] == 0
    async with okr_stack.db.reader() as session:
        authors = list(await session.scalars(select(CheckIn.author).where(CheckIn.source == "metric")))
    assert authors == ["Liftoff"]


async def test_okr_notifications_go_through_the_outbox(okr_stack: Stack) -> None:
    """Approval request, return (with its reason) and comment @mention: outbox rows written with the change,
    each sent once, by the drain, with the row's key as message metadata."""
    stack = okr_stack
    async with stack.db.reader() as session:
        eng = await session.scalar(select(Objective).where(Objective.key == "ENG-A"))
        assert eng is not None
    ack = await stack.slack.slash_command(MEMBER, "/okr", "new", channel_id=CHANNEL)
    await stack.standin.wait_for(lambda: stack.standin.view_opened_by(ack.trigger_id) is not None)
    view = stack.standin.view_opened_by(ack.trigger_id)
    assert view is not None
    period = view["blocks"][2]["element"]["options"][0]["value"]
    values = {"title": "Outbox search", "level": "team", "period": period, "parent": str(eng.id),
              "department": "Engineering", "team": "Search"}
    assert (await stack.slack.submit_view(MEMBER, view, values, require=False)).status == 200

    def request_for_pm() -> dict[str, Any] | None:
        return next((m for m in stack.standin.messages(PM)
                     if "Outbox search" in m.get("text", "") + json.dumps(m.get("blocks", []))
                     and "okr_return" in json.dumps(m.get("blocks", []))), None)

    await stack.standin.wait_for(lambda: request_for_pm() is not None, timeout=60)
    request = request_for_pm()
    assert request is not None and request["metadata"]["event_type"] == "liftoff_outbox"
    click = await stack.slack.click(PM, action_id="okr_return", message=request, channel_id=f"D{PM}")
    await stack.standin.wait_for(lambda: stack.standin.view_opened_by(click.trigger_id) is not None)
    modal = stack.standin.view_opened_by(click.trigger_id)
    assert modal is not None
    assert (await stack.slack.submit_view(PM, modal, {"reason": "Merge it into ENG-A"})).status == 200
    await stack.standin.wait_for(lambda: any("Merge it into ENG-A" in m.get("text", "")
                                             for m in stack.standin.messages(MEMBER)), timeout=60)
    await stack.settle(60)
    async with stack.db.reader() as session:
        rows = list(await session.scalars(select(Outbox).where(Outbox.kind.like("okr_%")).order_by(Outbox.id)))
        proposed = await session.scalar(select(Objective.id).where(Objective.title == "Outbox search"))
    mine = [r for r in rows if r.payload.get("objective_id") == proposed]
    assert [(r.kind, r.payload["channel"], r.status) for r in mine] == [
        ("okr_approval_request", PM, "sent"), ("okr_decision", MEMBER, "sent"),
        ("okr_decision_shown", f"D{PM}", "sent")]
    assert all(r.external_id for r in mine)
    returned = [m for m in stack.standin.messages(MEMBER) if "Merge it into ENG-A" in m.get("text", "")]
    assert len(returned) == 1 and returned[0]["metadata"]["event_payload"]["key"] == mine[1].idempotency_key
    # The PM's request message itself now shows the return, edited in place by the drain (chat.update), once.
    assert mine[2].external_id == f"D{PM}:{request['ts']}"
    edited = next(m for m in stack.standin.messages(PM) if m["ts"] == request["ts"])
    assert "Merge it into ENG-A" in edited.get("text", "") and "okr_return" not in json.dumps(edited["blocks"])
    assert len([c for c in stack.standin.calls_to("chat.update") if c.args.get("ts") == request["ts"]]) == 1
    # The comment test's mention of the PM went as a notification to a person instead (sent once, by its key).
    async with stack.db.reader() as session:
        mentions = list(await session.scalars(select(Notification).where(Notification.kind == "mention")))
    assert not any(r.kind == "okr_comment" for r in rows)
    assert all(r.status == "sent" for r in mentions)
    assert stack.standin.validation_errors == []
