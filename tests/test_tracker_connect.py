"""`/launch connect` through signed requests against a fake Jira (credentials checked before saving, a wrong
token is a field error, secrets encrypted, audited), and the Linear check against a fake Linear."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from agents import tracker_connect
from agents.tracker_sync import decrypt_secrets, sync_destination
from integrations.fakes import jira_fake, linear_fake
from integrations.fakes.sync_rig import save_plan
from integrations.trackers import TrackerClient, build_client
from storage.audit import AuditEntry
from storage.enums import ReviewState
from storage.launches import LaunchRepository
from storage.models import Launch, Task
from storage.scope import Scope
from storage.trackers import TrackerConnection, TrackerRepository
from tests.support import Stack
from tests.test_launch_scenarios import brief_values, open_brief_modal
from tests.test_roles import ADMIN, MEMBER, command

KEY = Fernet.generate_key().decode()


@pytest.fixture
async def jira() -> AsyncIterator[jira_fake.FakeJira]:
    fake = await jira_fake.start()
    yield fake
    await fake.stop()


async def connections(stack: Stack) -> list[TrackerConnection]:
    async with stack.db.reader() as session:
        return list(await session.scalars(select(TrackerConnection)))


async def test_an_admin_connects_jira_a_wrong_token_is_a_field_error_and_launches_pick_it(stack: Stack, jira) -> None:  # noqa: ANN001
    services = stack.liftoff.services
    services.settings = replace(services.settings, encryption_key=KEY)
    assert "Only workspace admins" in await command(stack, MEMBER, "connect jira")
    assert "`/launch connect linear`" in await command(stack, ADMIN, "connect")

    ack = await stack.slack.slash_command(ADMIN, "/launch", "connect jira")
    assert ack.status == 200 and ack.in_time
    await stack.standin.wait_for(lambda: stack.standin.view_opened_by(ack.trigger_id) is not None)
    view = stack.standin.view_opened_by(ack.trigger_id)
    assert view is not None and [b["block_id"] for b in view["blocks"]] == ["site", "email", "api_token", "project_key"]
    before = len(await connections(stack))
    values: dict[str, Any] = {"site": jira.url, "email": jira.email, "api_token": "wrong", "project_key": "lif"}

    answer = await stack.slack.submit_view(ADMIN, view, {**values, "site": "ftp://nowhere"})
    assert answer.json is not None and set(answer.json["errors"]) == {"site"}
    requests = jira.requests
    answer = await stack.slack.submit_view(ADMIN, view, values)
    assert answer.json is not None and "refused" in answer.json["errors"]["api_token"]
    assert jira.requests == requests + 1  # the one cheap check, nothing else
    answer = await stack.slack.submit_view(ADMIN, view, {**values, "api_token": jira.api_token, "project_key": "NOPE"})
    assert answer.json is not None and set(answer.json["errors"]) == {"project_key"}
    assert len(await connections(stack)) == before

    answer = await stack.slack.submit_view(ADMIN, view, {**values, "api_token": jira.api_token})
    assert answer.status == 200 and not (answer.json or {}).get("errors") and answer.in_time
    rows = await connections(stack)
    assert len(rows) == before + 1
    row = rows[-1]
    assert row.kind == "jira" and row.settings == {"site": jira.url, "project_key": "LIF"} and row.name
    assert jira.api_token not in row.credentials
    assert decrypt_secrets(KEY, row.credentials) == {"email": jira.email, "api_token": jira.api_token}
    async with stack.db.reader() as session:
        audit = (await session.scalars(select(AuditEntry).where(AuditEntry.target == f"tracker:{row.id}"))).one()
    assert audit.action == "tracker.connected" and audit.actor == ADMIN and jira.api_token not in str(audit.after)
    await stack.standin.wait_for(lambda: any("connected" in m.get("text", "") for m in stack.standin.messages(ADMIN)))
    assert stack.standin.validation_errors == []

    # The launch picks it: the PM or an Admin only; its tasks then reach Jira, each once, on both databases.
    launch_id, name = await a_planned_launch(stack, tasks=4)
    assert "Only the launch's PM" in await command(stack, MEMBER, f"connect {name} to jira")
    jira.faults.forced = ["lost", "500"]  # the first create happens but its answer is lost; then a 500
    assert "syncs to Jira" in await command(stack, ADMIN, f"connect {name} to jira")
    async with stack.db.reader() as session:
        chosen = await TrackerRepository(session, Scope(stack.standin.team_id)).launch_connection(launch_id)
    assert chosen is not None and chosen.id == row.id
    if stack.worker is None:  # in-process jobs: the SYNC_TRACKER job enqueued by the command did it
        await stack.settle()
    else:  # the RQ worker's environment has no encryption key, so its job waits; the drain itself is the same
        await sync_destination(stack.db, stack.standin.team_id, row.id, encryption_key=KEY)
    assert len(jira.by_marker()) == 4 and set(jira.by_marker().values()) == {1} and jira.faults.injected["lost"] == 1
    assert jira.invalid == []

    # A new launch picks the tracker in its brief modal; once planned, its tasks reach Jira too (in-process jobs:
    # the RQ worker has no encryption key).
    async with stack.db.session() as session:
        (await session.get(TrackerConnection, row.id)).settings = {**row.settings, "rate_per_second": 500}  # type: ignore[union-attr]
    view = await open_brief_modal(stack)
    assert view["blocks"][-1]["block_id"] == "tracker"
    answer = await stack.slack.submit_view(ADMIN, view, brief_values(f"Picked {stack.backend}", tracker=str(row.id)))
    assert answer.status == 200 and not (answer.json or {}).get("errors")
    async with stack.db.reader() as session:
        launch = (await session.scalars(select(Launch).where(Launch.name == f"Picked {stack.backend}"))).one()
        chosen = await TrackerRepository(session, Scope(stack.standin.team_id)).launch_connection(launch.id)
    assert chosen is not None and chosen.id == row.id
    if stack.worker is None:
        await stack.settle()
        async with stack.db.reader() as session:
            tasks = list(await session.scalars(select(Task).where(Task.launch_id == launch.id)))
        ready = [t for t in tasks if t.review_state != ReviewState.OPEN]  # flagged tasks wait for their review
        assert ready and len(jira.by_marker()) == 4 + len(ready) and set(jira.by_marker().values()) == {1}


async def a_planned_launch(stack: Stack, *, tasks: int) -> tuple[int, str]:
    scope = Scope(stack.standin.team_id)
    name = f"Tracked {stack.backend}"
    async with stack.db.session() as session:
        launch = await LaunchRepository(session, scope).create_draft(
            name=name, brief="A tracked launch", target_date=date.today() + timedelta(days=60),
            launch_type="software_release", channel_id=None, created_by=ADMIN, members=[("Maya Chen", "pm", ADMIN)])
        launch_id = launch.id
    await save_plan(stack.db, launch_id, tasks, seed=1, workspace=scope.workspace_id)
    return launch_id, name


async def test_the_linear_check_maps_refusals_to_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tracker_connect, "CHECK_TIMEOUT_S", 0.3)
    fake = await linear_fake.start()

    def build(kind: str, secrets: dict[str, str], settings: dict[str, Any]) -> TrackerClient:
        return build_client(kind, secrets, settings, base_url=fake.url)

    try:
        good = {"api_key": fake.api_key, "team_id": fake.team_id}
        wrong_key = await tracker_connect.check_credentials("linear", {"api_key": "bad"}, {"team_id": fake.team_id},
                                                            build=build)
        assert isinstance(wrong_key, dict) and set(wrong_key) == {"api_key"}
        wrong_team = await tracker_connect.check_credentials("linear", {"api_key": good["api_key"]},
                                                             {"team_id": "team-404"}, build=build)
        assert isinstance(wrong_team, dict) and set(wrong_team) == {"team_id"}
        name = await tracker_connect.check_credentials("linear", {"api_key": good["api_key"]},
                                                       {"team_id": good["team_id"]}, build=build)
        assert name == "Engineering (as Fake Bot)"
        fake.faults.forced = ["timeout"]
        fake.faults.hang_s = 0.4
        slow = await tracker_connect.check_credentials("linear", {"api_key": good["api_key"]},
                                                       {"team_id": good["team_id"]}, build=build)
        assert isinstance(slow, dict) and "try again" in slow["api_key"]
    finally:
        await fake.stop()


def test_the_form_is_checked_before_any_call() -> None:
    form = {"site": "https://acme.atlassian.net/jira/your-work", "email": "me", "api_token": "", "project_key": "x"}
    secrets, settings, errors = tracker_connect.read_fields("jira", form)
    assert set(errors) == {"email", "api_token", "project_key"}
    assert settings["site"] == "https://acme.atlassian.net"
