"""Scenarios through signed HTTP requests, on SQLite with in-process jobs and on PostgreSQL with RQ."""

from __future__ import annotations

import time
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import func, select

from bot.standin.render import render_blocks
from storage.enums import LaunchStatus, OutboxStatus
from storage.models import Dependency, Launch, Outbox, Task
from tests.support import Stack

PM = "U100"
TEAM = ["U100", "U101", "U102", "U103", "U104", "U105", "U106"]
CHANNEL = "C0LAUNCH"
BRIEF = """We are launching Smart Search, a new search experience in our web app that understands
natural-language queries. Engineering builds the search service and the indexing pipeline; QA runs a
regression pass and signs off on the release candidate. Marketing wants a launch blog post and an
announcement email. Support needs help center articles and a training session."""


def brief_values(name: str, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": name,
        "brief": BRIEF,
        "target_date": (date.today() + timedelta(days=120)).isoformat(),
        "team": TEAM,
        "channel": CHANNEL,
        "launch_type": "software_release",
    }
    values.update(overrides)
    return values


async def open_brief_modal(stack: Stack) -> dict[str, Any]:
    # A slow Slack: had the app called views.open before acking, the ack would wait on it.
    stack.standin.slow_next("views.open", 1.0)
    # On first sight the app reads the person's profile right after its ack; slow, so it cannot race the ack's
    # arrival here (and, had it come before the ack, the ack would be late).
    stack.standin.slow_next("users.info", 0.6)
    calls_before = len(stack.standin.calls)
    ack = await stack.slack.slash_command(PM, "/launch", "new", channel_id=CHANNEL)
    assert ack.status == 200 and ack.elapsed_ms < 500
    await stack.standin.wait_for(lambda: stack.standin.view_opened_by(ack.trigger_id) is not None)
    assert [c.method for c in stack.standin.calls[calls_before:] if c.at < ack.acked_at] == []
    view = stack.standin.view_opened_by(ack.trigger_id)
    assert view is not None
    return view


async def count(stack: Stack, model: Any, **where: Any) -> int:
    async with stack.db.reader() as session:
        query = select(func.count()).select_from(model)
        for column, value in where.items():
            query = query.where(getattr(model, column) == value)
        return int(await session.scalar(query) or 0)


async def test_launch_new_opens_the_brief_modal(stack: Stack) -> None:
    view = await open_brief_modal(stack)
    assert view["callback_id"] == "launch_brief"
    block_ids = [b["block_id"] for b in view["blocks"]]
    assert block_ids == ["name", "brief", "target_date", "team", "channel", "launch_type"]
    assert stack.standin.validation_errors == []


async def test_submission_with_errors_returns_field_errors_and_stores_nothing(stack: Stack) -> None:
    view = await open_brief_modal(stack)
    launches_before = await count(stack, Launch)
    # What Slack's client lets through: a blank-looking name, a past date, an over-long brief.
    past = (date.today() - timedelta(days=3)).isoformat()
    ack = await stack.slack.submit_view(PM, view, brief_values("   ", brief="x" * 10_001, target_date=past))
    assert ack.status == 200
    assert ack.json is not None and ack.json["response_action"] == "errors"
    assert set(ack.json["errors"]) == {"name", "brief", "target_date"}
    assert "past" in ack.json["errors"]["target_date"] and "10,000" in ack.json["errors"]["brief"]
    # A forged payload with required fields left empty gets the same treatment.
    view = await open_brief_modal(stack)
    ack = await stack.slack.submit_view(PM, view, brief_values("", brief="", team=[]), require=False)
    assert ack.json is not None and set(ack.json["errors"]) == {"name", "brief", "team"}
    assert await count(stack, Launch) == launches_before


async def test_valid_submission_posts_the_plan_and_keeps_the_rows(stack: Stack) -> None:
    view = await open_brief_modal(stack)
    name = f"Smart Search {stack.backend}"
    messages_before = len(stack.standin.messages(CHANNEL))
    ack = await stack.slack.submit_view(PM, view, brief_values(name))
    assert ack.status == 200 and not ack.body.strip()
    await stack.settle()
    await stack.standin.wait_for(lambda: len(stack.standin.messages(CHANNEL)) > messages_before, timeout=20)

    async with stack.db.reader() as session:
        launch = await session.scalar(select(Launch).where(Launch.name == name))
    assert launch is not None and launch.status == LaunchStatus.PLANNED
    tasks = await count(stack, Task, launch_id=launch.id)
    assert tasks >= 40
    assert await count(stack, Dependency, launch_id=launch.id) >= tasks - 10
    assert launch.critical_path and launch.critical_path_days > 0

    # The plan message (its flagged tasks wait for review in its thread, see tests/test_review.py).
    plan = next(m for m in stack.standin.messages(CHANNEL) if m["ts"] == launch.plan_ts)
    text = render_blocks(plan["blocks"])
    announced = tasks - await count(stack, Task, launch_id=launch.id, review_state="open")
    assert name in text and f"{announced}" in text and "Critical path" in text and "Next milestones" in text
    assert len(plan["blocks"]) <= 50
    assert stack.standin.validation_errors == []

    # Team members were resolved from Slack profiles: roles came from titles, so work has owners.
    async with stack.db.reader() as session:
        owners = set(await session.scalars(select(Task.assignee_slack_id).where(Task.launch_id == launch.id)))
    assert {"U101", "U103", "U104"} <= owners


async def test_planning_twice_posts_once(stack: Stack) -> None:
    view = await open_brief_modal(stack)
    name = f"Twice {stack.backend}"
    await stack.slack.submit_view(PM, view, brief_values(name))
    await stack.settle()
    async with stack.db.reader() as session:
        launch = await session.scalar(select(Launch).where(Launch.name == name))
    assert launch is not None
    posted = [m for m in stack.standin.messages(CHANNEL) if name in m.get("text", "")]
    assert len(posted) == 1
    tasks = await count(stack, Task, launch_id=launch.id)

    from bot.jobs import JobName

    await stack.liftoff.services.jobs.enqueue(JobName.PLAN_LAUNCH, launch.workspace_id, launch.id)
    await stack.liftoff.services.jobs.enqueue(JobName.DRAIN_SLACK_OUTBOX, launch.workspace_id)
    await stack.settle()
    assert len([m for m in stack.standin.messages(CHANNEL) if name in m.get("text", "")]) == 1
    assert await count(stack, Task, launch_id=launch.id) == tasks
    assert await count(stack, Outbox, status=OutboxStatus.SENT) == await count(stack, Outbox)


async def test_duplicate_name_is_a_field_error(stack: Stack) -> None:
    view = await open_brief_modal(stack)
    name = f"Dup {stack.backend}"
    await stack.slack.submit_view(PM, view, brief_values(name))
    await stack.settle()
    view = await open_brief_modal(stack)
    ack = await stack.slack.submit_view(PM, view, brief_values(name.upper()))
    assert ack.json is not None and "already exists" in ack.json["errors"]["name"]


async def test_launch_status_answers_with_the_health_card(stack: Stack) -> None:
    view = await open_brief_modal(stack)
    name = f"Status {stack.backend}"
    await stack.slack.submit_view(PM, view, brief_values(name))
    await stack.settle()
    before = len(stack.standin.ephemerals(PM))
    ack = await stack.slack.slash_command(PM, "/launch", f"status {name.lower()}", channel_id=CHANNEL)
    assert ack.status == 200
    await stack.standin.wait_for(lambda: len(stack.standin.ephemerals(PM)) > before)
    card = render_blocks(stack.standin.ephemerals(PM)[-1]["blocks"]).lower()
    assert f"{name}: health".lower() in card and "progress" in card and "critical path" in card


async def test_launch_status_suggests_close_names(stack: Stack) -> None:
    view = await open_brief_modal(stack)
    name = f"Checkout Revamp {stack.backend}"
    await stack.slack.submit_view(PM, view, brief_values(name))
    await stack.settle()
    before = len(stack.standin.ephemerals(PM))
    await stack.slack.slash_command(PM, "/launch", f"status Checkout Revmp {stack.backend}", channel_id=CHANNEL)
    await stack.standin.wait_for(lambda: len(stack.standin.ephemerals(PM)) > before)
    reply = stack.standin.ephemerals(PM)[-1]["text"]
    assert "Did you mean" in reply and name in reply


async def test_list_help_and_unknown_subcommands(stack: Stack) -> None:
    for text, expected in (("list", "aunch"), ("help", "/launch new"), ("frobnicate", "/launch new")):
        before = len(stack.standin.ephemerals(PM))
        await stack.slack.slash_command(PM, "/launch", text, channel_id=CHANNEL)
        await stack.standin.wait_for(lambda b=before: len(stack.standin.ephemerals(PM)) > b)
        assert expected in render_blocks(stack.standin.ephemerals(PM)[-1]["blocks"])


async def test_requests_with_bad_signatures_are_refused(stack: Stack) -> None:
    form = "application/x-www-form-urlencoded"
    body = urlencode(
        {
            "team_id": stack.standin.team_id,
            "user_id": PM,
            "command": "/launch",
            "text": "help",
            "channel_id": CHANNEL,
            "trigger_id": "1.2.3",
            "response_url": stack.standin.new_response_url(PM, CHANNEL),
        }
    )
    good = await stack.slack.post(body, form)
    assert good.status == 200
    tampered = await stack.slack.post(body.replace("help", "list"), form, headers=stack.slack.sign(body), signed=False)
    assert tampered.status == 401
    stale = stack.slack.sign(body, timestamp=str(int(time.time()) - 6 * 60))
    assert (await stack.slack.post(body, form, headers=stale, signed=False)).status == 401
    assert (await stack.slack.post(body, form, signed=False)).status == 401


async def test_healthz(stack: Stack) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as http, http.get(stack.liftoff.url + "/healthz") as response:
        assert response.status == 200
        assert (await response.json())["database"] == "ok"
