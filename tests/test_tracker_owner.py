"""A task's owner reaches every tracker as its assignee: the owner's email is looked up once per client through each
tracker's documented user lookup (served by the fakes, validated against the specs), an unknown email leaves the
item unassigned, and a change of owner is an update."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from agents import tracker_sync
from integrations.fakes import asana_fake, jira_fake, linear_fake, notion_fake
from integrations.fakes.faults import Faults
from integrations.fakes.sync_rig import WORKSPACE, Rig, build_rig
from integrations.tracker_http import RequestError, TransientError
from integrations.tracker_owner import HIDDEN, OwnerDirectory
from storage.enums import OutboxStatus
from storage.models import Outbox, Task, User
from storage.scope import Scope
from storage.trackers import TrackerLink

STARTS = {"linear": linear_fake.start, "jira": jira_fake.start, "notion": notion_fake.start,
          "asana": asana_fake.start}
PEOPLE = {"U0ANN": "Ann@Example.com", "U0BO": "bo@example.com", "U0GHOST": "ghost@example.com"}


@pytest.fixture
async def rig_for(tmp_path: Path) -> AsyncIterator[Any]:
    made: list[Rig] = []

    async def make(kind: str) -> Rig:
        fake = await STARTS[kind](faults=Faults())
        rig = await build_rig(f"sqlite+aiosqlite:///{tmp_path}/{kind}.db", fake, tasks=3, rate=500, timeout_s=0.5)
        made.append(rig)
        async with rig.db.session() as session:
            session.add_all([User(workspace_id=WORKSPACE, slack_id=s, name=s, email=e) for s, e in PEOPLE.items()])
        return rig

    yield make
    for rig in made:
        await rig.db.dispose()
        await rig.fake.stop()


async def _set_owners(rig: Rig, owners: dict[str, str | None], *, queue: bool) -> None:
    async with rig.db.session() as session:
        for key, slack_id in owners.items():
            task = (await session.scalars(select(Task).where(Task.key == key))).one()
            task.assignee_slack_id = slack_id
            if queue:
                await tracker_sync.queue_task(session, Scope(WORKSPACE), rig.launch_id, task.id)


async def _items(rig: Rig) -> dict[str, str]:
    """Task key -> its remote item id."""
    async with rig.db.reader() as session:
        rows = await session.execute(select(Task.key, TrackerLink.external_id).join(
            TrackerLink, TrackerLink.task_id == Task.id))
        return {key: str(item) for key, item in rows}


def _assignee(rig: Rig, item_id: str) -> str | None:
    """The remote item's assignee, as the fake's own user id (None: unassigned)."""
    fake = rig.fake
    if isinstance(fake, linear_fake.FakeLinear):
        return fake.store[item_id].get("assigneeId")
    if isinstance(fake, jira_fake.FakeJira):
        return (fake.store[item_id]["fields"].get("assignee") or {}).get("accountId")
    if isinstance(fake, notion_fake.FakeNotion):
        owners = fake._page(item_id)["values"]["Owner"]
        assert len(owners) <= 1
        return owners[0] if owners else None
    assert isinstance(fake, asana_fake.FakeAsana)
    return fake.tasks[item_id]["assignee"]


def _remote_id(rig: Rig, email: str) -> str:
    return next(person[0] for person in rig.fake.people if person[2] == email)


def _lookups(rig: Rig) -> dict[str, int]:
    """Lookups the fake answered, per email (Notion: its user list, read whole)."""
    if isinstance(rig.fake, notion_fake.FakeNotion):
        return {"(list)": rig.fake.user_pages}
    return {key.casefold(): count for key, count in rig.fake.user_lookups.items()}


def _text(rig: Rig) -> str:
    fake = rig.fake
    if isinstance(fake, linear_fake.FakeLinear | jira_fake.FakeJira):
        return str(list(fake.store.values()))
    if isinstance(fake, notion_fake.FakeNotion):
        return str([{k: v for k, v in p["values"].items() if k != "Owner"} for p in fake.pages.values()])
    return str([{k: v for k, v in t.items() if k != "assignee"} for t in fake.tasks.values()])


@pytest.mark.parametrize("kind", ["linear", "jira", "notion", "asana"])
async def test_the_owner_is_the_remote_assignee_and_a_new_owner_is_an_update(kind: str, rig_for: Any) -> None:
    rig = await rig_for(kind)
    # T0 and T2 share an owner (one lookup); T1's owner has no account in the tracker (unassigned, synced fine).
    await _set_owners(rig, {"T0": "U0ANN", "T1": "U0GHOST", "T2": "U0ANN"}, queue=False)
    await rig.sync()
    items = await _items(rig)
    ann, bo = _remote_id(rig, "ann@example.com"), _remote_id(rig, "bo@example.com")
    assert {key: _assignee(rig, item) for key, item in items.items()} == {"T0": ann, "T1": None, "T2": ann}
    assert _lookups(rig) == ({"(list)": 1} if kind == "notion" else {"ann@example.com": 1, "ghost@example.com": 1})
    assert rig.fake.invalid == []
    assert "example.com" not in _text(rig)  # the email is a lookup key only, never text
    async with rig.db.reader() as session:
        rows = list(await session.scalars(select(Outbox).where(Outbox.destination.like("tracker:%"))))
    assert rows and {row.status for row in rows} == {OutboxStatus.SENT}

    # A new owner for T0, none for T2: both are content updates; T1 is untouched, so nothing is sent for it.
    await _set_owners(rig, {"T0": "U0BO", "T2": None}, queue=True)
    await rig.sync()
    assert {key: _assignee(rig, item) for key, item in items.items()} == {"T0": bo, "T1": None, "T2": None}
    assert rig.fake.invalid == []

    # Nothing changed since: another pass sends nothing.
    await _set_owners(rig, {"T0": "U0BO"}, queue=True)
    before = rig.fake.requests
    await rig.sync()
    assert rig.fake.requests == before


async def test_an_email_learnt_later_assigns_the_item_on_the_next_pass(rig_for: Any) -> None:
    rig = await rig_for("linear")
    await _set_owners(rig, {"T0": "U0NEW"}, queue=False)  # a person without a known email yet
    await rig.sync()
    item = (await _items(rig))["T0"]
    assert _assignee(rig, item) is None
    async with rig.db.session() as session:  # the daily people refresh found their email
        session.add(User(workspace_id=WORKSPACE, slack_id="U0NEW", name="New", email="bo@example.com"))
        await tracker_sync.queue_launch(session, Scope(WORKSPACE), rig.launch_id)
    await rig.sync()
    assert _assignee(rig, item) == "user-bo"


async def test_owner_lookups_are_shared_between_workers_and_failures_keep_the_email_out() -> None:
    calls: list[str] = []

    async def lookup(email: str) -> str | None:
        calls.append(email)
        await asyncio.sleep(0.01)
        if email == "down@example.com":
            raise TransientError(f"GET /users/{email}: 500 upstream")
        if email == "refused@example.com":
            raise RequestError(f"GET /users/{email}: 403 no permission", status=403)
        return {"ann@example.com": "u-1"}.get(email)

    owners = OwnerDirectory(lookup)
    found = await asyncio.gather(*(owners.user_id(e) for e in ["ann@example.com", "ANN@example.com "] * 4))
    assert found == ["u-1"] * 8 and calls == ["ann@example.com"]
    assert await owners.user_id(None) is None and await owners.user_id("") is None
    assert await owners.user_id("nobody@example.com") is None
    assert await owners.user_id("refused@example.com") is None  # refused: unassigned, not a failure
    with pytest.raises(TransientError) as raised:
        await owners.user_id("down@example.com")
    assert "down@example.com" not in str(raised.value) and HIDDEN in str(raised.value)
    with pytest.raises(TransientError):  # a failure is not remembered: the retried operation asks again
        await owners.user_id("down@example.com")
    assert calls.count("down@example.com") == 2 and owners.lookups == 5


async def test_first_sight_profile_lookup_stores_the_email(tmp_path: Path) -> None:
    from agents.access import resolve_actor
    from storage.db import Database
    from storage.migrate import upgrade_async
    from storage.workspaces import WorkspaceRepository

    url = f"sqlite+aiosqlite:///{tmp_path}/access.db"
    await upgrade_async(url)
    db = Database(url)
    asked: list[str] = []

    async def lookup(user_id: str) -> dict[str, Any]:
        asked.append(user_id)
        return {"id": user_id, "real_name": "Ann", "profile": {"email": "ann@example.com"}}

    try:
        await resolve_actor(db, "T0ACCESS", "U0ANN", lookup)
        await resolve_actor(db, "T0ACCESS", "U0ANN", lookup)  # known now: Slack is not asked again
        async with db.reader() as session:
            emails = await WorkspaceRepository(session, Scope("T0ACCESS")).emails(["U0ANN", "U0NOBODY"])
        assert emails == {"U0ANN": "ann@example.com"} and asked == ["U0ANN"]
    finally:
        await db.dispose()
