"""Outward tracker sync to Notion and Asana, against local fakes that check every request against the real OpenAPI
documents (../shared/specs/trackers) and inject faults; the status read-back (status_of, changed_since) that
webhooks and reconcile use; and the connect check for both."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from agents import tracker_connect, tracker_sync
from integrations.fakes import asana_fake, notion_fake
from integrations.fakes.asana_fake import FakeAsana, asana_api
from integrations.fakes.faults import Faults
from integrations.fakes.notion_fake import FakeNotion, default_properties
from integrations.fakes.sync_rig import KEY, WORKSPACE, Rig, build_rig
from integrations.trackers import TrackerClient, build_client
from storage.enums import TaskStatus
from storage.models import Task
from storage.scope import Scope
from storage.trackers import TrackerLink
from tests.test_tracker_sync import (
    _assert_all_linked_and_sent,
    _assert_exact,
    _assert_revoked_stops_and_tells_admins_once,
    _edges,
    _forget_remote_ids,
)

KINDS = ["notion", "asana"]
STARTS = {"notion": notion_fake.start, "asana": asana_fake.start}


@pytest.fixture
async def rig_for(tmp_path: Path) -> AsyncIterator[Any]:
    made: list[Rig] = []

    async def make(kind: str, faults: Faults, *, tasks: int = 10) -> Rig:
        fake = await STARTS[kind](faults=faults)
        rig = await build_rig(f"sqlite+aiosqlite:///{tmp_path}/{kind}-{len(made)}.db", fake, tasks=tasks, rate=500,
                              timeout_s=0.2)
        made.append(rig)
        return rig

    yield make
    for rig in made:
        await rig.db.dispose()
        await rig.fake.stop()




def _client(rig: Rig) -> TrackerClient:
    kind = "notion" if isinstance(rig.fake, FakeNotion) else "asana"
    secrets = {"token": rig.fake.token}
    settings: dict[str, Any] = {"database_id": rig.fake.database_id} if isinstance(rig.fake, FakeNotion) \
        else {"project_gid": rig.fake.project_gid}
    return build_client(kind, secrets, {**settings, "rate_per_second": 500}, base_url=rig.fake.url, timeout_s=0.2)


async def _link_of(rig: Rig, key: str) -> tuple[Task, TrackerLink]:
    async with rig.db.reader() as session:
        task = (await session.scalars(select(Task).where(Task.key == key))).one()
        link = (await session.scalars(select(TrackerLink).where(TrackerLink.task_id == task.id))).one()
    return task, link


@pytest.mark.parametrize("kind", KINDS)
async def test_every_fault_still_creates_each_task_and_dependency_once(kind: str, rig_for) -> None:  # noqa: ANN001
    # A lost response first: the create happened but was never answered; then every other kind of fault.
    faults = Faults(rate=0.2, retry_after="0", hang_s=0.3, seed=5, forced=["lost", "429", "500", "timeout", "lost"])
    rig = await rig_for(kind, faults, tasks=8)
    await rig.sync()
    _assert_exact(rig, 8, await _edges(rig))
    assert faults.injected["lost"] >= 2 and faults.injected["timeout"] >= 1
    await _assert_all_linked_and_sent(rig, 8)


@pytest.mark.parametrize("kind", KINDS)
async def test_an_update_moves_the_status_redacts_and_an_unchanged_task_sends_nothing(kind: str, rig_for) -> None:  # noqa: ANN001
    rig = await rig_for(kind, Faults(), tasks=3)
    await rig.sync()
    async with rig.db.session() as session:
        task = (await session.scalars(select(Task).where(Task.key == "T1"))).one()
        task.status = TaskStatus.DONE
        task.title = "Ship the release notes"
        task.description = "Mail dana.lee@example.com for the keys"
        await tracker_sync.queue_task(session, Scope(WORKSPACE), rig.launch_id, task.id)
    await rig.sync()
    _, link = await _link_of(rig, "T1")
    if isinstance(rig.fake, FakeNotion):
        page = rig.fake.pages[link.external_id]  # type: ignore[index]
        assert page["values"]["Status"] == "Done" and page["values"]["Name"] == "Ship the release notes"
        text = page["values"]["Description"]
    else:
        assert isinstance(rig.fake, FakeAsana)
        remote = rig.fake.tasks[link.external_id]  # type: ignore[index]
        assert remote["completed"] is True and rig.fake.section_of(remote["gid"]) == "Done"
        assert remote["name"] == "Ship the release notes"
        text = remote["notes"]
    assert "Mail <EMAIL_1> for the keys" in text and "dana.lee@example.com" not in text
    async with rig.db.session() as session:
        await tracker_sync.queue_task(session, Scope(WORKSPACE), rig.launch_id, link.task_id)
    before = rig.fake.requests
    await rig.sync()
    assert rig.fake.requests == before
    assert rig.fake.invalid == []


@pytest.mark.parametrize("kind", KINDS)
async def test_a_crash_after_the_remote_create_finds_the_marker_instead_of_creating_twice(kind: str, rig_for) -> None:  # noqa: ANN001
    rig = await rig_for(kind, Faults(), tasks=3)
    assert (await rig.sync())[-1].created == 3
    await _forget_remote_ids(rig)
    reports = await rig.sync()
    assert sum(r.created for r in reports) == 0
    _assert_exact(rig, 3, await _edges(rig))


@pytest.mark.parametrize("kind", KINDS)
async def test_retry_after_of_a_429_is_honoured(kind: str, rig_for) -> None:  # noqa: ANN001
    rig = await rig_for(kind, Faults(retry_after="3", forced=["429"]), tasks=1)
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    report = await tracker_sync.sync_destination(rig.db, WORKSPACE, rig.connection_id, encryption_key=KEY,
                                                 client_factory=rig.factory, sleep=sleep)
    assert slept == [3.0] and report.created == 1 and report.sent == 1


@pytest.mark.parametrize("kind", KINDS)
async def test_a_revoked_token_stops_the_destination_and_tells_admins_once(kind: str, rig_for) -> None:  # noqa: ANN001
    await _assert_revoked_stops_and_tells_admins_once(await rig_for(kind, Faults(), tasks=2), tasks=2)


@pytest.mark.parametrize("kind", KINDS)
async def test_status_of_and_changed_since_read_a_change_made_in_the_tracker(kind: str, rig_for) -> None:  # noqa: ANN001
    rig = await rig_for(kind, Faults(), tasks=2)
    await rig.sync()
    _, link = await _link_of(rig, "T0")
    _, other = await _link_of(rig, "T1")
    item = str(link.external_id)
    edited = datetime.now(UTC) + timedelta(minutes=3)
    if isinstance(rig.fake, FakeNotion):
        rig.fake.edit_status(item, "Blocked", at=edited)
        rig.fake.edit_status(str(other.external_id), "In progress", at=edited - timedelta(minutes=30))
        wanted_at = edited.replace(second=0, microsecond=0)  # Notion reports edits to the minute
    else:
        assert isinstance(rig.fake, FakeAsana)
        rig.fake.edit(item, section="Blocked", at=edited)
        rig.fake.edit(str(other.external_id), completed=True, at=edited - timedelta(minutes=30))
        wanted_at = edited.replace(microsecond=edited.microsecond // 1000 * 1000)
    client = _client(rig)
    try:
        change = await client.status_of(item)
        assert change is not None and change.status == TaskStatus.BLOCKED and change.changed_at == wanted_at
        done = await client.status_of(str(other.external_id))
        assert done is not None and done.status == (TaskStatus.IN_PROGRESS if kind == "notion" else TaskStatus.DONE)
        missing = "2f26ee68-0000-4251-aad4-8ddc420cba3d" if kind == "notion" else "1300000000099999"
        assert await client.status_of(missing) is None
        recent = await client.changed_since(edited - timedelta(minutes=5))
        assert [(c.item_id, c.status) for c in recent] == [(item, TaskStatus.BLOCKED)]
        everything = await client.changed_since(datetime.now(UTC) - timedelta(hours=2))
        assert {c.item_id for c in everything} == {item, str(other.external_id)}
    finally:
        await client.aclose()
    assert rig.fake.invalid == []


async def test_notion_needs_its_version_header_and_the_fakes_refuse_what_the_specs_refuse() -> None:
    fake = await notion_fake.start()
    try:
        async with aiohttp.ClientSession() as session:
            url = f"{fake.url}/v1/databases/{fake.database_id}"
            async with session.get(url, headers={"Authorization": f"Bearer {fake.token}"}) as response:
                assert response.status == 400 and (await response.json())["code"] == "missing_version"
            headers = {"Authorization": f"Bearer {fake.token}", "Notion-Version": "2025-09-03"}
            async with session.post(f"{fake.url}/v1/pages", headers=headers,
                                    json={"parent": {"database_id": "not-a-uuid"}, "properties": {}}) as response:
                assert response.status == 400
            async with session.post(f"{fake.url}/v1/pages", headers=headers, json={
                    "parent": {"database_id": fake.database_id},
                    "properties": {"Name": {"title": [{"text": {"content": "x" * 2001}}]}}}) as response:
                assert response.status == 400
        assert len(fake.invalid) == 3
    finally:
        await fake.stop()
    api = asana_api()
    _, problems = api.check("POST", "/api/1.0/tasks", [("opt_fields", "name,nonsense")], {},
                            {"data": {"name": "x", "gid": "1", "due_on": "2026-13-01", "projects": ["1"]}})
    assert len(problems) == 3  # an unknown opt_field, a read-only field, a date that is not one
    _, problems = api.check("GET", "/api/1.0/tasks", [("project", "1"), ("limit", "500")], {}, None)
    assert problems == ["query parameter 'limit': 500 is greater than the maximum of 100"]


async def test_the_notion_and_asana_checks_map_refusals_to_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tracker_connect, "CHECK_TIMEOUT_S", 0.5)
    notion = await notion_fake.start()
    asana = await asana_fake.start()
    urls = {"notion": notion.url, "asana": asana.url}

    def build(kind: str, secrets: dict[str, str], settings: dict[str, Any]) -> TrackerClient:
        return build_client(kind, secrets, settings, base_url=urls[kind])

    async def check(kind: str, token: str, target: str) -> str | dict[str, str]:
        field = "database_id" if kind == "notion" else "project_gid"
        secrets, settings, errors = tracker_connect.read_fields(kind, {"token": token, field: target})
        assert errors == {}
        return await tracker_connect.check_credentials(kind, secrets, settings, build=build)

    try:
        # Notion: the database as its link (the id without dashes), a wrong token, an unshared database, and one
        # without the properties Liftoff needs.
        link = f"https://www.notion.so/acme/Launch-tasks-{notion.database_id.replace('-', '')}?v=1"
        assert await check("notion", notion.token, link) == "Launch tasks"
        assert set(await check("notion", "secret_wrong", notion.database_id)) == {"token"}  # type: ignore[arg-type]
        unshared = await check("notion", notion.token, "0" * 32)
        assert isinstance(unshared, dict) and "shared" in unshared["database_id"]
        notion.properties = {k: v for k, v in default_properties().items() if k != "Liftoff marker"}
        bare = await check("notion", notion.token, notion.database_id)
        assert isinstance(bare, dict) and "Liftoff marker" in bare["database_id"]
        # Asana: the project as its link, a wrong token, a project this token cannot see.
        assert await check("asana", asana.token, f"https://app.asana.com/0/{asana.project_gid}/list") == "Launch board"
        assert set(await check("asana", "2/wrong", asana.project_gid)) == {"token"}  # type: ignore[arg-type]
        assert set(await check("asana", asana.token, "1200000000000999")) == {"project_gid"}  # type: ignore[arg-type]
        assert notion.invalid == [] and asana.invalid == []
    finally:
        await notion.stop()
        await asana.stop()


def test_the_connect_form_checks_notion_and_asana_ids_before_any_call() -> None:
    _, settings, errors = tracker_connect.read_fields("notion", {"token": "t", "database_id": "not an id"})
    assert set(errors) == {"database_id"}
    _, settings, errors = tracker_connect.read_fields(
        "notion", {"token": "t", "database_id": "2F26EE68DF304251AAD48DDC420CBA3D"})
    assert errors == {} and settings["database_id"] == "2f26ee68-df30-4251-aad4-8ddc420cba3d"
    _, settings, errors = tracker_connect.read_fields("asana", {"token": "", "project_gid": "board"})
    assert set(errors) == {"token", "project_gid"}
