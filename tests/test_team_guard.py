"""Single-workspace token mode on both backends: signed requests naming another Slack team are refused before
anything runs. No SQL statement, no Slack call (Web API or response_url), no job; slash commands and modals are
told why, events are dropped, every refusal is logged. The same requests from the token's own team are served."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine

from agents.okr_import import import_tree
from agents.okr_objectives import ObjectiveForm, submit_objective
from blocks import okr_messages
from blocks.okr_ids import OkrAction
from blocks.team_guard import OTHER_WORKSPACE_TEXT
from bot.standin.simulator import SlackSimulator
from storage.audit import AuditEntry
from storage.okr_models import Objective, OkrDecision
from storage.okrs import OkrRepository
from storage.scope import Scope
from storage.workspaces import WorkspaceRepository
from tests.support import Stack

FOREIGN = "T0FOREIGN"
ADMIN, PM, MEMBER = "U100", "U101", "U102"
CHANNEL = "C0LAUNCH"
TODAY = date.today()
# Background tasks of the serving process that may touch the database on their own schedule.
BACKGROUND_TASKS = {"audit-sealer", "audit-retention"}


def tree() -> dict[str, Any]:
    start, end = (TODAY - timedelta(days=30)).isoformat(), (TODAY + timedelta(days=60)).isoformat()
    return {
        "periods": [{"name": "NOW", "start": start, "end": end}],
        "people": [{"slack_id": ADMIN, "name": "Maya Chen", "role": "admin"},
                   {"slack_id": PM, "name": "Omar Haddad", "role": "pm", "department": "Eng", "team": "Search"},
                   {"slack_id": MEMBER, "name": "Lucia Romero", "role": "member"}],
        "objectives": [{"key": "CO-G", "title": "Guarded goal", "level": "company", "owner": ADMIN,
                        "period": "NOW"}],
    }


@pytest.fixture(scope="module")
async def guarded(stack: Stack) -> AsyncIterator[dict[str, Any]]:
    """The home workspace with a submitted objective and its approval request in the PM's DM."""
    scope = Scope(stack.standin.team_id)
    async with stack.db.session() as session:
        await WorkspaceRepository(session, scope).ensure()
        repo = OkrRepository(session, scope)
        await import_tree(repo, tree(), TODAY)
        period = await repo.period_named("NOW")
        parent = await repo.objective_by_key("CO-G")
        assert period is not None and parent is not None
        form = ObjectiveForm(title="Guarded idea", level="department", period_id=str(period.id),
                             parent_id=str(parent.id), department="Eng", team="", visibility="public",
                             kr_title="", kr_start="", kr_target="", kr_unit="")
        submitted = await submit_objective(repo, form, PM)
        request = okr_messages.approval_request(submitted.objective, PM, parent.key)
        objective_id = submitted.objective.id
    await stack.liftoff.services.slack.default_client.chat_postMessage(channel=ADMIN, **request)
    message = stack.standin.messages(ADMIN)[-1]
    foreign = SlackSimulator(stack.liftoff.url, stack.settings.slack_signing_secret or "", stack.standin,
                             team_id=FOREIGN)
    yield {"objective_id": objective_id, "message": message, "foreign": foreign}
    await foreign.close()


@contextmanager
def no_database_statements() -> Iterator[list[str]]:
    """Every SQL statement this process runs inside the block, except the background tasks' own and those of
    tasks already running when it began (an earlier request's work after its ack, finishing late under load)."""
    seen: list[str] = []
    earlier = asyncio.all_tasks()

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        task = asyncio.current_task()
        if task is None or (task.get_name() not in BACKGROUND_TASKS and task not in earlier):
            seen.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", record)


async def counts(stack: Stack) -> tuple[int, int, int]:
    async with stack.db.reader() as session:
        audit = await session.scalar(select(func.count()).select_from(AuditEntry))
        decisions = await session.scalar(select(func.count()).select_from(OkrDecision))
        foreign = await session.scalar(select(func.count()).select_from(AuditEntry)
                                       .where(AuditEntry.workspace_id == FOREIGN))
    return int(audit or 0), int(decisions or 0), int(foreign or 0)


async def test_other_teams_get_no_data_no_side_effect_and_a_clear_answer(
    stack: Stack, guarded: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    foreign: SlackSimulator = guarded["foreign"]
    # A modal the person has open (opened in the home workspace); the other team submits it.
    opened = await stack.slack.slash_command(MEMBER, "/okr", "new", channel_id=CHANNEL)
    await stack.standin.wait_for(lambda: stack.standin.view_opened_by(opened.trigger_id) is not None, timeout=20)
    view = stack.standin.view_opened_by(opened.trigger_id)
    assert view is not None
    await stack.settle()
    before = await counts(stack)
    calls_before = len(stack.standin.calls)
    caplog.set_level(logging.WARNING, logger="bot.team_guard")

    with no_database_statements() as statements:
        command = await foreign.slash_command(MEMBER, "/okr", "list")
        launch = await foreign.slash_command(ADMIN, "/launch", "list")
        click = await foreign.click(ADMIN, action_id=OkrAction.APPROVE, message=guarded["message"],
                                    channel_id=f"D{ADMIN}")
        submit = await foreign.submit_view(MEMBER, view, {"title": "Planted", "level": "company"}, require=False)
        home = await foreign.open_home(MEMBER)
        uninstall = await foreign.event({"type": "app_uninstalled"})
        await asyncio.sleep(0.3)  # anything started behind an ack would have run by now
        await stack.settle()

    assert statements == []
    assert stack.standin.calls[calls_before:] == []
    for ack in (command, launch):
        assert ack.status == 200 and ack.in_time
        assert ack.json == {"response_type": "ephemeral", "text": OTHER_WORKSPACE_TEXT}
    assert "another Slack workspace" in OTHER_WORKSPACE_TEXT
    assert (click.status, click.body) == (200, "")
    assert submit.status == 200 and submit.json is not None and submit.json["response_action"] == "update"
    assert OTHER_WORKSPACE_TEXT in json.dumps(submit.json["view"])
    assert (home.status, home.body) == (200, "") and (uninstall.status, uninstall.body) == (200, "")
    assert stack.standin.home(MEMBER) is None
    assert stack.standin.validation_errors == []
    assert await counts(stack) == before
    async with stack.db.reader() as session:
        objective = await session.get(Objective, guarded["objective_id"])
        assert objective is not None and objective.approval == "submitted"
    refusals = [r.getMessage() for r in caplog.records if r.name == "bot.team_guard"]
    assert len(refusals) == 6 and all(FOREIGN in line for line in refusals)
    assert any("slash_command" in line for line in refusals)
    assert any("event app_uninstalled" in line for line in refusals)


async def test_the_same_requests_from_the_home_team_are_served(stack: Stack, guarded: dict[str, Any]) -> None:
    """The guard lets its own team through: the requests refused above do act here."""
    ack = await stack.slack.slash_command(ADMIN, "/launch", "list", channel_id=CHANNEL)
    assert ack.status == 200 and OTHER_WORKSPACE_TEXT not in ack.body
    await stack.slack.open_home(MEMBER)
    await stack.standin.wait_for(lambda: stack.standin.home(MEMBER) is not None, timeout=20)
    await stack.slack.click(ADMIN, action_id=OkrAction.APPROVE, message=guarded["message"], channel_id=f"D{ADMIN}")
    for _ in range(200):
        async with stack.db.reader() as session:
            objective = await session.get(Objective, guarded["objective_id"])
        if objective is not None and objective.approval == "approved":
            break
        await asyncio.sleep(0.05)
    assert objective is not None and objective.approval == "approved"
    assert stack.standin.validation_errors == []
