"""The approver's own request message shows the decision through the outbox: an `okr_decision_shown` row written
with the decision, sent by the drain as a chat.update of that message. Idempotent: a drain that crashed after the
call updates the same message again (never a new post), a repeated decision writes no row, and a message that is
gone ends the row instead of retrying it forever."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from agents.okr_import import import_tree
from agents.okr_objectives import AlreadyDecided, ObjectiveForm, decide, submit_objective
from blocks import okr_messages
from bot.delivery import drain_slack_outbox
from bot.services import build_web_client
from bot.settings import Settings
from bot.standin.api import SlackStandIn
from storage.db import Database
from storage.enums import OutboxStatus
from storage.migrate import upgrade_async
from storage.models import Outbox, utcnow
from storage.okr_enums import OkrOutboxKind
from storage.okr_models import Objective
from storage.okrs import OkrRepository
from storage.scope import Scope
from storage.workspaces import WorkspaceRepository
from tests.support import CHANNELS, PEOPLE

TEAM = "T0LIFTOFF"
ADMIN, PM, MEMBER = "U100", "U101", "U102"
TODAY = date.today()


@dataclass
class Setup:
    db: Database
    standin: SlackStandIn
    client: object


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[Setup]:
    url = f"sqlite+aiosqlite:///{tmp_path}/okr.db"
    await upgrade_async(url)
    db = Database(url)
    standin = await SlackStandIn(users=PEOPLE, channels=CHANNELS).start()
    start, end = (TODAY - timedelta(days=30)).isoformat(), (TODAY + timedelta(days=60)).isoformat()
    tree = {
        "periods": [{"name": "NOW", "start": start, "end": end}],
        "people": [{"slack_id": ADMIN, "name": "Maya Chen", "role": "admin"},
                   {"slack_id": PM, "name": "Omar Haddad", "role": "pm", "department": "Eng", "team": "Search"},
                   {"slack_id": MEMBER, "name": "Lucia Romero", "role": "member", "department": "Eng",
                    "team": "Search"}],
        "objectives": [{"key": "CO-S", "title": "Company goal", "level": "company", "owner": ADMIN, "period": "NOW"},
                       {"key": "ENG-S", "title": "Department goal", "level": "department", "department": "Eng",
                        "owner": PM, "parent": "CO-S", "period": "NOW"}],
    }
    async with db.session() as session:
        await WorkspaceRepository(session, Scope(TEAM)).ensure()
        await import_tree(OkrRepository(session, Scope(TEAM)), tree, TODAY)
    try:
        yield Setup(db, standin, build_web_client(Settings(slack_api_url=standin.base_url), standin.bot_token))
    finally:
        await standin.stop()
        await db.dispose()


async def submitted_and_shown(setup: Setup) -> tuple[Objective, str, str]:
    """A submitted team objective under ENG-S and its approval request, posted in the PM's DM: (objective, ts)."""
    async with setup.db.session() as session:
        repo = OkrRepository(session, Scope(TEAM))
        period, parent = await repo.period_named("NOW"), await repo.objective_by_key("ENG-S")
        assert period is not None and parent is not None
        form = ObjectiveForm(title="Faster search", level="team", period_id=str(period.id), parent_id=str(parent.id),
                             department="Eng", team="Search", visibility="public", kr_title="", kr_start="",
                             kr_target="", kr_unit="")
        objective = (await submit_objective(repo, form, MEMBER)).objective
    posted = await setup.client.chat_postMessage(  # type: ignore[attr-defined]
        channel=f"D{PM}", **okr_messages.approval_request(objective, MEMBER, "ENG-S"))
    return objective, str(posted["channel"]), str(posted["ts"])


async def decide_as_pm(setup: Setup, objective_id: int, shown_at: tuple[str, str], *, approve: bool) -> None:
    async with setup.db.session() as session:
        repo = OkrRepository(session, Scope(TEAM, PM))
        objective = await repo.objective(objective_id)
        assert objective is not None
        await decide(repo, objective, PM, approve=approve, reason="" if approve else "Too vague", today=TODAY,
                     shown_at=shown_at)


async def shown_rows(db: Database) -> list[Outbox]:
    async with db.reader() as session:
        return list(await session.scalars(select(Outbox).where(Outbox.kind == OkrOutboxKind.DECISION_SHOWN)))


async def test_the_request_message_is_edited_once_through_the_outbox(setup: Setup) -> None:
    objective, channel, ts = await submitted_and_shown(setup)
    await decide_as_pm(setup, objective.id, (channel, ts), approve=True)
    # Written with the decision, nothing sent yet: the handler made no Slack call of its own.
    (row,) = await shown_rows(setup.db)
    assert row.status == OutboxStatus.PENDING and row.payload["update_ts"] == ts
    assert setup.standin.calls_to("chat.update") == []

    await drain_slack_outbox(setup.db, setup.client, TEAM)  # type: ignore[arg-type]
    messages = setup.standin.messages(PM)
    assert len(messages) == 1 and messages[0]["ts"] == ts
    assert "approved" in messages[0]["text"] and "okr_approve" not in str(messages[0]["blocks"])
    (row,) = await shown_rows(setup.db)
    assert row.status == OutboxStatus.SENT and row.external_id == f"{channel}:{ts}"
    assert len(setup.standin.calls_to("chat.update")) == 1

    # A second decision is refused and writes nothing; a second drain sends nothing.
    with pytest.raises(AlreadyDecided):
        await decide_as_pm(setup, objective.id, (channel, ts), approve=False)
    await drain_slack_outbox(setup.db, setup.client, TEAM)  # type: ignore[arg-type]
    assert len(await shown_rows(setup.db)) == 1 and len(setup.standin.calls_to("chat.update")) == 1
    assert setup.standin.validation_errors == []


async def test_a_drain_that_crashed_after_the_update_edits_the_same_message_again(setup: Setup) -> None:
    objective, channel, ts = await submitted_and_shown(setup)
    await decide_as_pm(setup, objective.id, (channel, ts), approve=False)
    await drain_slack_outbox(setup.db, setup.client, TEAM)  # type: ignore[arg-type]
    # As if the process died between chat.update and marking the row sent: it is found `sending`, past its lease.
    async with setup.db.session() as session:
        await session.execute(update(Outbox).where(Outbox.kind == OkrOutboxKind.DECISION_SHOWN).values(
            status=OutboxStatus.SENDING, claimed_at=utcnow() - timedelta(minutes=10)))
    await drain_slack_outbox(setup.db, setup.client, TEAM)  # type: ignore[arg-type]
    messages = setup.standin.messages(PM)
    assert len(messages) == 1 and "Too vague" in messages[0]["text"]
    assert [c.args["ts"] for c in setup.standin.calls_to("chat.update")] == [ts, ts]
    assert (await shown_rows(setup.db))[0].status == OutboxStatus.SENT


async def test_a_message_that_is_gone_ends_the_row(setup: Setup) -> None:
    objective, channel, ts = await submitted_and_shown(setup)
    await setup.client.chat_delete(channel=channel, ts=ts)  # type: ignore[attr-defined]
    await decide_as_pm(setup, objective.id, (channel, ts), approve=True)
    await drain_slack_outbox(setup.db, setup.client, TEAM)  # type: ignore[arg-type]
    (row,) = await shown_rows(setup.db)
    assert row.status == OutboxStatus.FAILED and row.last_error == "message_not_found"
    # The owner still heard of the decision.
    assert any("approved" in m["text"] for m in setup.standin.messages(MEMBER))
