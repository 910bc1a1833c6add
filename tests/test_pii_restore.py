"""Placeholders an LLM wrote come back as originals only for readers allowed to see them (issue 3, item 1).

A stored launch is planned through the real anthropic SDK against the stub server of tests/llm_stubs.py; the
model answers with tasks that use the brief's placeholders. Then each edge is checked for what its reader gets.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import update

from agents import orchestrator, replan
from agents.home import load_home
from agents.intake import ValidBrief
from agents.launch_pii import redact_for_launch, reveal_for_person, stored_mapping
from agents.policy import Actor
from agents.review_items import review_page
from agents.tracker_items import remote_task
from agents.tracker_pass import Work
from agents.tracker_sync import _read_snapshot
from blocks.review_messages import review_message
from blocks.text import escape
from handlers.launch_status import card_message
from storage.db import Database
from storage.enums import ReviewDestination, Role, TaskStatus
from storage.home import HomePages
from storage.launch_pii import LaunchPiiRepository, MappingLocked
from storage.launches import LaunchRepository
from storage.migrate import upgrade_async
from storage.models import Task
from storage.reviews import ReviewRepository
from storage.scope import Scope
from storage.versions import VersionRepository
from storage.workspaces import WorkspaceRepository
from tests.llm_stubs import LlmStubServer, anthropic_message
from tests.test_llm_planner import TARGET, TEAM, TODAY, fresh, models_for, sent_text, stub, task

__all__ = ["fresh", "stub"]  # the stub server fixtures, shared with test_llm_planner

WS = "T-PII"
PM, OUTSIDER = "U100", "U900"
SECRET = "AKIAIOSFODNN7EXAMPLE"
BRIEF_TEXT = (
    "Offline sync for the iOS and Android apps. Maya Chen owns the launch and Omar Haddad leads engineering. "
    f"Questions to maya.chen@example.com. The staging deploy key is {SECRET}."
)
SIGN_OFF = "<PERSON_1> signs off with <EMAIL_1>"
KEY_TASK = "Rotate <SECRET_1> before <PERSON_2> ships"


def llm_plan(*extra: dict[str, Any]) -> str:
    tasks = [
        task("kickoff", "Hold the launch kickoff", "pm", owner="pm-1", days=0.5),
        task("signoff", SIGN_OFF, "pm", owner="pm-1", days=1, deps=("kickoff",)),
        # Low confidence: flagged, so it waits in the review message.
        task("rotate", KEY_TASK, "eng_lead", owner="eng_lead-1", days=1, confidence=0.4, deps=("kickoff",)),
        task("build", "Build offline sync", owner="engineer-1", days=5, deps=("signoff",)),
        *extra,
        task("launch", "Launch day", "pm", phase="launch", milestone=True, deps=("build", "rotate")),
    ]
    return json.dumps({"tasks": tasks})


@pytest.fixture(scope="module")
async def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty migrated database, copied by each test (migrating once keeps the module fast)."""
    path = tmp_path_factory.mktemp("pii") / "template.db"
    await upgrade_async(f"sqlite+aiosqlite:///{path}")
    return path


def open_db(template: Path, folder: Path, key: str | None) -> Database:
    path = folder / f"pii-{uuid.uuid4().hex[:8]}.db"
    shutil.copyfile(template, path)
    return Database(f"sqlite+aiosqlite:///{path}", encryption_key=key)


@pytest.fixture
async def planned(stub: LlmStubServer, migrated: Path, tmp_path: Path) -> AsyncIterator[tuple[Database, int, str]]:
    """A launch planned by the stubbed LLM on a database with an encryption key: (db, launch id, key)."""
    key = Fernet.generate_key().decode()
    db = open_db(migrated, tmp_path, key)
    scope = Scope(WS)
    async with db.session() as session:
        await WorkspaceRepository(session, scope).ensure("Acme")
        await ReviewRepository(session, scope).set_destination(ReviewDestination.DM)
        launch = await LaunchRepository(session, scope).create_draft(
            name="Offline sync", brief=BRIEF_TEXT, target_date=TARGET, launch_type="mobile_release",
            channel_id="C1", created_by=PM, members=[(m.name, m.role, m.slack_id) for m in TEAM])
    stub.anthropic.queue(anthropic_message(llm_plan()))
    assert await orchestrator.plan_launch(db, WS, launch.id, today=TODAY, llm=models_for(stub)) == "planned"
    yield db, launch.id, key
    await db.dispose()


async def tasks_by_title(db: Database, launch_id: int) -> dict[str, Task]:
    async with db.reader() as session:
        return {t.title: t for t in await LaunchRepository(session, Scope(WS)).tasks(launch_id)}


async def test_the_llm_saw_placeholders_and_the_tasks_store_them(planned: tuple[Database, int, str],
                                                                  stub: LlmStubServer) -> None:
    db, launch_id, _ = planned
    sent = sent_text(stub)
    assert "<PERSON_1>" in sent and "<EMAIL_1>" in sent and "<SECRET_1>" in sent
    assert "Maya" not in sent and "maya.chen@" not in sent and SECRET not in sent
    titles = set(await tasks_by_title(db, launch_id))
    assert SIGN_OFF in titles and KEY_TASK in titles  # stored as written: restoring is the reader's business


async def test_the_pm_sees_originals_in_the_review_message_and_home_but_never_the_secret(
    planned: tuple[Database, int, str],
) -> None:
    db, launch_id, _ = planned
    scope = Scope(WS)
    async with db.reader() as session:
        launch = await LaunchRepository(session, scope).get(launch_id)
        assert launch is not None
        review = json.dumps(review_message(await review_page(session, scope, launch)), ensure_ascii=False)
        home = await load_home(session, Actor(WS, PM, Role.PM), HomePages(), TODAY)
    assert escape("Rotate <SECRET_1> before Omar Haddad ships") in review
    assert SECRET not in review
    mine = {item.task.title for item in home.tasks.items}
    assert "Maya Chen signs off with maya.chen@example.com" in mine
    assert SIGN_OFF not in mine


async def test_a_member_outside_the_team_sees_placeholders_and_a_channel_only_the_team_names(
    planned: tuple[Database, int, str],
) -> None:
    db, launch_id, _ = planned
    async with db.session() as session:  # blocked work is listed on the health card
        await session.execute(update(Task).where(Task.launch_id == launch_id, Task.title == SIGN_OFF)
                              .values(status=TaskStatus.BLOCKED))
    async with db.reader() as session:
        launch = await LaunchRepository(session, Scope(WS)).get(launch_id)
    assert launch is not None
    outsider = json.dumps(await card_message(db, Scope(WS, OUTSIDER), launch), ensure_ascii=False)
    assert escape(SIGN_OFF) in outsider and "maya.chen@" not in outsider and "Maya Chen signs" not in outsider
    pm_card = json.dumps(await card_message(db, Scope(WS, PM), launch), ensure_ascii=False)
    assert "Maya Chen signs off with maya.chen@example.com" in pm_card
    shared = json.dumps(await card_message(db, Scope(WS, OUTSIDER), launch, shared_by=OUTSIDER), ensure_ascii=False)
    assert escape("Maya Chen signs off with <EMAIL_1>") in shared  # a team member's name, already shown as an owner


async def test_the_review_in_the_plan_thread_is_for_the_channel(planned: tuple[Database, int, str]) -> None:
    db, launch_id, _ = planned
    scope = Scope(WS)
    async with db.session() as session:
        await ReviewRepository(session, scope).set_destination(ReviewDestination.THREAD)
    async with db.reader() as session:
        launch = await LaunchRepository(session, scope).get(launch_id)
        assert launch is not None
        review = json.dumps(review_message(await review_page(session, scope, launch)), ensure_ascii=False)
    assert escape("Rotate <SECRET_1> before Omar Haddad ships") in review  # team name yes, secret never


async def test_the_tracker_gets_placeholders_numbered_as_the_launch_numbers_them(
    planned: tuple[Database, int, str],
) -> None:
    db, launch_id, _ = planned
    tasks = await tasks_by_title(db, launch_id)
    signoff = tasks[SIGN_OFF]
    snapshot = await _read_snapshot(db, Scope(WS), 0, [Work(signoff.id, launch_id, [])], False)
    roster, mapping = snapshot.rosters[launch_id], snapshot.mappings[launch_id]
    kept = mapping.to_json()
    item = remote_task(WS, signoff, roster, mapping)
    assert item.title == SIGN_OFF
    # Originals typed into a task since (say, by hand) get the launch's numbers, not a fresh count.
    typed = Task(id=signoff.id, key=signoff.key, title="Omar Haddad and Maya Chen", description=f"ask {SECRET}",
                 status=signoff.status, priority=signoff.priority, due=signoff.due)
    item = remote_task(WS, typed, roster, mapping)
    assert item.title == "<PERSON_2> and <PERSON_1>"
    assert item.description.startswith("ask <SECRET_1>")
    assert "Maya" not in item.title + item.description and SECRET not in item.description
    assert mapping.to_json() == kept  # each item is redacted with its own copy of the stored mapping


async def test_a_replan_keeps_the_numbers_and_adds_new_ones(planned: tuple[Database, int, str],
                                                            stub: LlmStubServer) -> None:
    db, launch_id, _ = planned
    scope = Scope(WS)
    async with db.reader() as session:
        launch = await LaunchRepository(session, scope).get(launch_id)
        before = await stored_mapping(session, scope, launch_id)
    assert launch is not None
    text = BRIEF_TEXT + " Priya Nair (priya@example.com) joins for the beta."
    team = [m.slack_id for m in TEAM if m.slack_id]
    checked = ValidBrief(name=launch.name, brief=text, target_date=TARGET, team=team, channel="C1",
                         launch_type="mobile_release")
    async with db.reader() as session:
        target = (await VersionRepository(session, scope).replan_check(PM, launch_id, launch.name)).launch
    assert target is not None
    version = await replan.request_replan(db, scope, target, checked, PM)
    assert await replan.prepare_replan(db, WS, launch_id, version)
    stub.reset()
    stub.anthropic.queue(anthropic_message(llm_plan(
        task("beta", "Send the beta to <EMAIL_2> and <PERSON_1>", "pm", owner="pm-1", days=1, deps=("build",)))))
    result = await replan.replan_launch(db, WS, launch_id, version, today=TODAY, llm=models_for(stub))
    assert result.outcome is replan.ReplanOutcome.REPLANNED
    sent = sent_text(stub)
    assert "<PERSON_1> owns the launch" in sent and "<EMAIL_2>" in sent and "priya@" not in sent
    async with db.reader() as session:
        after = await stored_mapping(session, scope, launch_id)
        launch = await LaunchRepository(session, scope).get(launch_id)
        assert launch is not None
        reveal = await reveal_for_person(session, scope, launch, PM)
    old = {e.placeholder: e.original for e in before}
    new = {e.placeholder: e.original for e in after}
    assert all(new[p] == o for p, o in old.items())  # every number still means what it meant
    assert new["<EMAIL_2>"] == "priya@example.com"
    assert reveal.text("Send the beta to <EMAIL_2> and <PERSON_1>") == \
        "Send the beta to priya@example.com and Maya Chen"


async def test_the_stored_mapping_is_encrypted_with_the_key_and_plain_without(
    planned: tuple[Database, int, str], migrated: Path, tmp_path: Path,
) -> None:
    db, launch_id, key = planned
    scope = Scope(WS)
    async with db.reader() as session:
        raw = await LaunchPiiRepository(session, scope).raw(launch_id)
        launch = await LaunchRepository(session, scope).get(launch_id)
    assert raw is not None and raw.startswith("fernet:")
    assert "Maya" not in raw and "maya.chen" not in raw and SECRET not in raw
    assert launch is not None
    # Without the key the mapping cannot be read: placeholders stay for everyone, and planning refuses to renumber.
    keyless = Database(db.url)
    try:
        async with keyless.reader() as session:
            with pytest.raises(MappingLocked):
                await stored_mapping(session, scope, launch_id)
            assert (await reveal_for_person(session, scope, launch, PM)).text(SIGN_OFF) == SIGN_OFF
    finally:
        await keyless.dispose()
    # Without a key configured, the mapping is stored in clear (as the brief is), secrets only as digests.
    plain_db = open_db(migrated, tmp_path, None)
    try:
        async with db.reader() as session:
            mapping = await stored_mapping(session, scope, launch_id)
        async with plain_db.session() as session:
            await WorkspaceRepository(session, scope).ensure("Acme")
            other = await LaunchRepository(session, scope).create_draft(
                name="Plain", brief="", target_date=TARGET, launch_type="mobile_release", channel_id=None,
                created_by=PM, members=[])
            await LaunchPiiRepository(session, scope).save(other.id, mapping.to_json())
        async with plain_db.reader() as session:
            stored = await LaunchPiiRepository(session, scope).raw(other.id)
        assert stored is not None and json.loads(stored)["version"] == 1 and "Maya Chen" in stored
        assert SECRET not in stored and "sha256:" in stored
    finally:
        await plain_db.dispose()


async def test_an_edited_title_is_stored_with_the_launchs_placeholders(planned: tuple[Database, int, str]) -> None:
    """The Edit modal shows the PM the originals; what they submit is redacted again before it is stored."""
    db, launch_id, _ = planned
    scope = Scope(WS)
    async with db.session() as session:
        launch = await LaunchRepository(session, scope).get(launch_id)
        assert launch is not None
        stored = await redact_for_launch(session, scope, launch, "Maya Chen signs off with ana@example.com")
    assert stored == "<PERSON_1> signs off with <EMAIL_2>"
    async with db.reader() as session:
        mapping = await stored_mapping(session, scope, launch_id)
    assert {e.placeholder: e.original for e in mapping}["<EMAIL_2>"] == "ana@example.com"


async def test_a_notification_quoting_a_task_is_restored_for_its_reader_at_delivery(
    planned: tuple[Database, int, str],
) -> None:
    from sqlalchemy import select

    from agents.launch_pii import reveal_events
    from agents.notification import EventKind
    from bot.notification_delivery import render
    from storage.notifications import Notification

    db, launch_id, _ = planned
    signoff = (await tasks_by_title(db, launch_id))[SIGN_OFF]
    assert signoff.assignee_slack_id
    async with db.reader() as session:
        rows = list(await session.scalars(select(Notification).where(
            Notification.kind == EventKind.TASK_ASSIGNED, Notification.recipient == signoff.assignee_slack_id)))
        assert len(rows) == 1
        events = list(rows[0].payload["events"])
        assert any(SIGN_OFF in e["text"] and e["launch_id"] == launch_id for e in events)  # stored as written
        for_owner = await reveal_events(session, Scope(WS), str(signoff.assignee_slack_id), events)
        for_outsider = await reveal_events(session, Scope(WS), OUTSIDER, events)
        for_channel = await reveal_events(session, Scope(WS), "C1", events)
    shown = json.dumps(render(rows[0], for_owner))
    assert "Maya Chen signs off with maya.chen@example.com" in shown and SECRET not in shown
    assert any(SIGN_OFF in e["text"] for e in for_outsider) and "Maya" not in json.dumps(render(rows[0], for_outsider))
    assert any("Maya Chen signs off with <EMAIL_1>" in e["text"] for e in for_channel)  # team names only
