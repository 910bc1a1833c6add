"""The Slack outbox drain: once per row, whatever crashes, retries or missing channels happen."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, update

from agents import notification
from agents.orchestrator import PlanOutcome, plan_launch
from bot.delivery import METADATA_EVENT_TYPE, drain_slack_outbox
from bot.services import build_web_client
from bot.settings import Settings
from bot.standin.api import SlackStandIn
from storage.db import Database
from storage.enums import OutboxKind, OutboxStatus
from storage.launches import LaunchRepository
from storage.migrate import upgrade_async
from storage.models import Outbox, utcnow
from storage.outbox import OutboxRepository
from storage.scope import Scope
from storage.workspaces import WorkspaceRepository
from tests.support import CHANNELS, PEOPLE

TEAM = "T0LIFTOFF"
SCOPE = Scope(TEAM)


@dataclass
class Setup:
    db: Database
    standin: SlackStandIn
    client: object
    launch_id: int


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[Setup]:
    url = f"sqlite+aiosqlite:///{tmp_path}/d.db"
    await upgrade_async(url)
    db = Database(url)
    standin = await SlackStandIn(users=PEOPLE, channels=CHANNELS).start()
    client = build_web_client(Settings(slack_api_url=standin.base_url), standin.bot_token)
    async with db.session() as session:
        await WorkspaceRepository(session, SCOPE).ensure()
        launch = await LaunchRepository(session, SCOPE).create_draft(
            name="Outbox Launch", brief="Ship search with QA sign-off and a blog post.",
            target_date=date.today() + timedelta(days=90), launch_type="software_release",
            channel_id="C0LAUNCH", created_by="U100",
            members=[("Maya Chen", "pm", "U100"), ("Omar Haddad", "eng_lead", "U101")],
        )
    assert await plan_launch(db, TEAM, launch.id) is PlanOutcome.PLANNED
    # These tests follow the plan's row alone; the review request of its flagged tasks is tested in test_review.py.
    async with db.session() as session:
        await session.execute(delete(Outbox).where(Outbox.kind != OutboxKind.LAUNCH_PLAN))
    try:
        yield Setup(db, standin, client, launch.id)
    finally:
        await standin.stop()
        await db.dispose()


def plan_posts(standin: SlackStandIn, channel: str) -> list[dict]:
    return [m for m in standin.messages(channel) if "Launch plan" in m.get("text", "")]


async def rows(db: Database) -> list[Outbox]:
    async with db.reader() as session:
        return await OutboxRepository(session, SCOPE).due("slack", limit=100) + []


async def test_each_row_is_sent_once(setup: Setup) -> None:
    assert await drain_slack_outbox(setup.db, setup.client, TEAM) == 1
    assert await drain_slack_outbox(setup.db, setup.client, TEAM) == 0
    posted = plan_posts(setup.standin, "C0LAUNCH")
    assert len(posted) == 1
    assert posted[0]["metadata"]["event_type"] == METADATA_EVENT_TYPE
    async with setup.db.reader() as session:
        row = (await session.execute(Outbox.__table__.select())).one()
    assert row.status == OutboxStatus.SENT and row.external_id == f"C0LAUNCH:{posted[0]['ts']}"


async def test_a_crash_after_posting_never_posts_twice(setup: Setup) -> None:
    # The earlier run posted the message and died before marking the row sent.
    async with setup.db.reader() as session:
        row = (await OutboxRepository(session, SCOPE).due("slack"))[0]
    await setup.client.chat_postMessage(
        channel="C0LAUNCH", text="Launch plan for Outbox Launch",
        metadata={"event_type": METADATA_EVENT_TYPE, "event_payload": {"key": row.idempotency_key}},
    )
    async with setup.db.session() as session:
        await session.execute(update(Outbox).values(status=OutboxStatus.SENDING,
                                                    claimed_at=utcnow() - timedelta(minutes=10)))
    assert await drain_slack_outbox(setup.db, setup.client, TEAM) == 1
    assert len(plan_posts(setup.standin, "C0LAUNCH")) == 1
    assert not setup.standin.calls_to("chat.postMessage")[1:]


async def test_a_row_another_drain_holds_is_left_alone(setup: Setup) -> None:
    async with setup.db.session() as session:
        await session.execute(update(Outbox).values(status=OutboxStatus.SENDING, claimed_at=utcnow()))
    assert await drain_slack_outbox(setup.db, setup.client, TEAM) == 0
    assert plan_posts(setup.standin, "C0LAUNCH") == []


async def test_rate_limits_are_retried_after_retry_after(setup: Setup) -> None:
    setup.standin.fail_next("chat.postMessage", error="ratelimited", status=429, retry_after=1)
    assert await drain_slack_outbox(setup.db, setup.client, TEAM) == 1
    assert len(plan_posts(setup.standin, "C0LAUNCH")) == 1
    assert [c.response.get("error") for c in setup.standin.calls_to("chat.postMessage")] == ["ratelimited", None]


async def test_a_channel_that_is_gone_sends_the_plan_to_the_pm(setup: Setup) -> None:
    async with setup.db.session() as session:
        await session.execute(update(Outbox).values(payload={"launch_id": setup.launch_id, "channel": "C0GONE",
                                                             "pm": "U100"}))
    assert await drain_slack_outbox(setup.db, setup.client, TEAM) == 1
    dm = plan_posts(setup.standin, "U100")
    assert len(dm) == 1 and "C0GONE" in str(dm[0]["blocks"][0])


async def test_errors_that_may_heal_leave_the_row_for_later(setup: Setup) -> None:
    setup.standin.fail_next("chat.postMessage", error="internal_error", status=200, retry_after=None)
    assert await drain_slack_outbox(setup.db, setup.client, TEAM) == 0
    async with setup.db.reader() as session:
        row = (await OutboxRepository(session, SCOPE).due("slack"))[0]
    assert row.status == OutboxStatus.PENDING and row.last_error == "internal_error" and row.attempts == 1
    assert await drain_slack_outbox(setup.db, setup.client, TEAM) == 1
    assert len(plan_posts(setup.standin, "C0LAUNCH")) == 1


async def test_announcing_twice_writes_one_row(setup: Setup) -> None:
    async with setup.db.session() as session:
        launch = await LaunchRepository(session, SCOPE).get(setup.launch_id)
        assert launch is not None
        await notification.announce_plan(OutboxRepository(session, SCOPE), launch)
    async with setup.db.reader() as session:
        assert len(await OutboxRepository(session, SCOPE).due("slack")) == 1
