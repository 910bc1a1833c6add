"""Two people deciding on the same submitted objective at the same moment: exactly one decision wins.

Through signed requests on both backends (two Approve clicks; a Return modal against an Approve click), and on
PostgreSQL at the repository, where both transactions read the objective as submitted before either writes.
The loser is told who decided first; okr_decisions and the audit log hold one decision each time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from agents.okr_import import import_tree
from agents.okr_objectives import AlreadyDecided, ObjectiveForm, decide, submit_objective
from blocks import okr_messages
from blocks.okr_ids import OkrAction, OkrField
from storage.audit import AuditEntry
from storage.db import Database
from storage.migrate import upgrade_async
from storage.okr_enums import OkrAuditAction
from storage.okr_models import Objective, OkrDecision
from storage.okrs import OkrRepository
from storage.scope import Scope
from storage.workspaces import WorkspaceRepository
from tests.support import Stack, postgres_database

ADMIN, PM, MEMBER = "U100", "U101", "U102"
CHANNEL = "C0LAUNCH"
TODAY = date.today()
DECISIONS = (OkrAuditAction.OBJECTIVE_APPROVED, OkrAuditAction.OBJECTIVE_RETURNED)


def tree() -> dict[str, Any]:
    start, end = (TODAY - timedelta(days=30)).isoformat(), (TODAY + timedelta(days=60)).isoformat()
    return {
        "periods": [{"name": "NOW", "start": start, "end": end}],
        "people": [{"slack_id": ADMIN, "name": "Maya Chen", "role": "admin"},
                   {"slack_id": PM, "name": "Omar Haddad", "role": "pm", "department": "Eng", "team": "Search"},
                   {"slack_id": MEMBER, "name": "Lucia Romero", "role": "member", "department": "Eng",
                    "team": "Search"}],
        "objectives": [
            {"key": "CO-R", "title": "Race company goal", "level": "company", "owner": ADMIN, "period": "NOW"},
            {"key": "ENG-R", "title": "Race department goal", "level": "department", "department": "Eng",
             "owner": PM, "parent": "CO-R", "period": "NOW"},
        ],
    }


async def seed(db: Database, workspace: str) -> None:
    scope = Scope(workspace)
    async with db.session() as session:
        await WorkspaceRepository(session, scope).ensure()
        await import_tree(OkrRepository(session, scope), tree(), TODAY)


async def submit(db: Database, workspace: str, title: str) -> Objective:
    """A team objective under ENG-R, submitted by a Member: its parent's owner (PM) and any Admin may decide."""
    async with db.session() as session:
        repo = OkrRepository(session, Scope(workspace))
        period, parent = await repo.period_named("NOW"), await repo.objective_by_key("ENG-R")
        assert period is not None and parent is not None
        form = ObjectiveForm(title=title, level="team", period_id=str(period.id), parent_id=str(parent.id),
                             department="Eng", team="Search", visibility="public", kr_title="", kr_start="",
                             kr_target="", kr_unit="")
        return (await submit_objective(repo, form, MEMBER)).objective


async def outcome(db: Database, objective_id: int) -> tuple[str, list[tuple[str, str]], list[tuple[str, str]]]:
    """(approval now, decisions after the submission as (decision, actor), audit decisions as (action, actor))."""
    async with db.reader() as session:
        objective = await session.get(Objective, objective_id)
        assert objective is not None
        decided = [(d.decision, d.actor) for d in await session.scalars(
            select(OkrDecision).where(OkrDecision.objective_id == objective_id, OkrDecision.decision != "submitted")
            .order_by(OkrDecision.id))]
        audited = [(e.action, e.actor) for e in await session.scalars(
            select(AuditEntry).where(AuditEntry.target == f"objective:{objective.key}",
                                     AuditEntry.action.in_(DECISIONS)).order_by(AuditEntry.id))]
        return objective.approval, decided, audited


# --- through Slack, on both backends ------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def race_stack(stack: Stack) -> Stack:
    await seed(stack.db, stack.standin.team_id)
    return stack


async def request_in_channel(stack: Stack, title: str) -> tuple[Objective, dict[str, Any]]:
    objective = await submit(stack.db, stack.standin.team_id, title)
    await stack.liftoff.services.slack.default_client.chat_postMessage(
        channel=CHANNEL, **okr_messages.approval_request(objective, MEMBER, "ENG-R"))
    return objective, stack.standin.messages(CHANNEL)[-1]


def told(stack: Stack, user: str, words: str) -> list[str]:
    return [e.get("text", "") for e in stack.standin.ephemerals(user) if words in e.get("text", "")]


async def approve_twice(stack: Stack, title: str) -> None:
    objective, message = await request_in_channel(stack, title)
    acks = await asyncio.gather(
        stack.slack.click(PM, action_id=OkrAction.APPROVE, message=message, channel_id=CHANNEL),
        stack.slack.click(ADMIN, action_id=OkrAction.APPROVE, message=message, channel_id=CHANNEL))
    assert all(ack.status == 200 and ack.in_time for ack in acks)
    phrase = f"{objective.key} was already approved by"
    await stack.standin.wait_for(lambda: bool(told(stack, PM, phrase) or told(stack, ADMIN, phrase)),
                                 timeout=20, what="the slower approver is told")
    approval, decided, audited = await outcome(stack.db, objective.id)
    assert approval == "approved" and len(decided) == 1 and decided[0][0] == "approved"
    winner = decided[0][1]
    loser = ADMIN if winner == PM else PM
    assert audited == [(OkrAuditAction.OBJECTIVE_APPROVED, winner)]
    assert told(stack, loser, f"{phrase} <@{winner}>") and not told(stack, winner, phrase)


async def return_against_approve(stack: Stack, title: str) -> None:
    objective, message = await request_in_channel(stack, title)
    opened = await stack.slack.click(PM, action_id=OkrAction.RETURN, message=message, channel_id=CHANNEL)
    await stack.standin.wait_for(lambda: stack.standin.view_opened_by(opened.trigger_id) is not None, timeout=20)
    view = stack.standin.view_opened_by(opened.trigger_id)
    assert view is not None
    returned, approved = await asyncio.gather(
        stack.slack.submit_view(PM, view, {OkrField.REASON: "Too vague to measure"}),
        stack.slack.click(ADMIN, action_id=OkrAction.APPROVE, message=message, channel_id=CHANNEL))
    assert returned.status == 200 and approved.status == 200
    approval, decided, audited = await outcome(stack.db, objective.id)
    assert len(decided) == 1 and len(audited) == 1
    if approval == "returned":
        assert decided == [("returned", PM)] and audited == [(OkrAuditAction.OBJECTIVE_RETURNED, PM)]
        assert not returned.body.strip()
        phrase = f"{objective.key} was already returned by <@{PM}>"
        await stack.standin.wait_for(lambda: bool(told(stack, ADMIN, phrase)), timeout=20,
                                     what="the approver is told it was returned")
    else:
        assert approval == "approved"
        assert decided == [("approved", ADMIN)] and audited == [(OkrAuditAction.OBJECTIVE_APPROVED, ADMIN)]
        # The Return modal stays open and says why nothing happened.
        assert returned.json is not None and returned.json["response_action"] == "errors"
        assert f"{objective.key} was already approved by <@{ADMIN}>" in returned.json["errors"][OkrField.REASON]


async def test_two_approvals_at_once_record_one(race_stack: Stack) -> None:
    for round_ in range(3):
        await approve_twice(race_stack, f"Approved twice {round_}")
    assert race_stack.standin.validation_errors == []


async def test_a_return_and_an_approval_at_once_record_one(race_stack: Stack) -> None:
    for round_ in range(2):
        await return_against_approve(race_stack, f"Returned or approved {round_}")
    assert race_stack.standin.validation_errors == []


# --- at the repository, on PostgreSQL: both read "submitted" before either writes --------------------------


@pytest.fixture(scope="module")
async def postgres() -> AsyncIterator[Database]:
    async with postgres_database() as url:
        await upgrade_async(url)
        db = Database(url)
        try:
            await seed(db, "T0RACE")
            yield db
        finally:
            await db.dispose()


def decisions_logged() -> Any:
    return select(func.count()).select_from(AuditEntry).where(AuditEntry.action.in_(DECISIONS))


async def race(db: Database, objective_id: int, *deciders: tuple[str, bool, str]) -> list[str | None]:
    """Each decider loads the objective in its own transaction; once all have, all decide. None = it won."""
    everyone_loaded = asyncio.Barrier(len(deciders))

    async def one(actor: str, approve: bool, reason: str) -> str | None:
        async with db.session() as session:
            repo = OkrRepository(session, Scope("T0RACE", actor))
            objective = await repo.objective(objective_id)
            assert objective is not None and objective.approval == "submitted"
            await everyone_loaded.wait()
            try:
                await decide(repo, objective, actor, approve=approve, reason=reason, today=TODAY)
            except AlreadyDecided as exc:
                return str(exc)
        return None

    async with asyncio.timeout(30):
        return list(await asyncio.gather(*(one(*d) for d in deciders)))


@pytest.mark.parametrize("second", [(ADMIN, True, ""), (ADMIN, False, "Not now")], ids=["approve", "return"])
async def test_concurrent_transactions_decide_once_on_postgres(postgres: Database,
                                                               second: tuple[str, bool, str]) -> None:
    objective = await submit(postgres, "T0RACE", f"Raced {second[1]}")
    async with postgres.session() as session:
        before = await session.scalar(decisions_logged())
    results = await race(postgres, objective.id, (PM, True, ""), second)
    assert sorted(r is None for r in results) == [False, True]
    approval, decided, audited = await outcome(postgres, objective.id)
    assert len(decided) == 1 and len(audited) == 1
    winner_state, winner = decided[0]
    assert approval == winner_state and audited[0][1] == winner
    loser_message = next(r for r in results if r is not None)
    assert loser_message == f"{objective.key} was already {winner_state} by <@{winner}>; nothing changed."
    async with postgres.session() as session:
        after = await session.scalar(decisions_logged())
    assert after == before + 1
