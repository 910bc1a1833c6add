"""Calendar feeds: valid RFC 5545 (parsed with icalendar), the right events, stable UIDs, secret and revocable URLs,
one workspace's data only, and the App Home's "Calendar feed" modal through signed requests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from icalendar import Calendar
from sqlalchemy import select

from agents.calendar_feed import FEED_CREATED, load_feed, new_feed, turn_off
from agents.policy import Actor
from blocks.calendar_blocks import CalendarId, CalendarModal, calendar_modal
from storage.audit import AuditEntry
from storage.calendar import CalendarFeed, FeedKind
from storage.db import Database
from storage.enums import LaunchStatus, ReviewState, TaskStatus
from storage.migrate import upgrade_async
from storage.models import Launch, LaunchMember, Task
from storage.scope import Scope
from storage.workspaces import WorkspaceRepository
from tests.support import Stack, postgres_database, running_stack

WS, OTHER_WS = "T0CAL", "T0ELSE"
ME, COLLEAGUE = "U201", "U202"
TARGET = date(2026, 12, 15)
CHANGED = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def token_of(url: str) -> str:
    return url.rsplit("/", 1)[1].removesuffix(".ics")


async def add_launch(session: Any, ws: str, name: str, created_by: str) -> Launch:
    launch = Launch(workspace_id=ws, name=name, name_key=name.casefold(), brief="", target_date=TARGET,
                    launch_type="software_release", created_by=created_by, status=LaunchStatus.PLANNED,
                    critical_path=[], risks=[], planned_at=CHANGED)
    session.add(launch)
    await session.flush()
    return launch


def add_task(session: Any, launch: Launch, key: str, title: str, owner: tuple[str, str] | None, due: date | None,
             **extra: Any) -> Task:
    values: dict[str, Any] = dict(
        workspace_id=launch.workspace_id, launch_id=launch.id, key=key, title=title, team="Engineering",
        role="engineer", assignee=owner[1] if owner else None, assignee_slack_id=owner[0] if owner else None,
        estimate_days=2.0, due=due, priority="P1", confidence=0.9, flags=[], status=TaskStatus.TODO,
        milestone=False, slack_days=0.0, updated_at=CHANGED,
    )
    values.update(extra)
    task = Task(**values)
    session.add(task)
    return task


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async for database in seeded(f"sqlite+aiosqlite:///{tmp_path}/calendar.db"):
        yield database


@pytest.fixture(params=["sqlite", "postgresql"])
async def any_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """The queries on both databases (PostgreSQL must be up where CI=true)."""
    if request.param == "sqlite":
        async for database in seeded(f"sqlite+aiosqlite:///{tmp_path}/calendar.db"):
            yield database
        return
    async with postgres_database() as url:
        async for database in seeded(url):
            yield database


async def seeded(url: str) -> AsyncIterator[Database]:
    await upgrade_async(url)
    database = Database(url)
    async with database.session() as session:
        for ws in (WS, OTHER_WS):
            people = WorkspaceRepository(session, Scope(ws))
            await people.ensure("Calendar")
            await people.ensure_user(ME, "Maya Chen")
            await people.ensure_user(COLLEAGUE, "Omar Haddad")
        launch = await add_launch(session, WS, "Smart Search", COLLEAGUE)
        session.add(LaunchMember(workspace_id=WS, launch_id=launch.id, name="Maya Chen", role="pm", slack_id=ME))
        add_task(session, launch, "SS-1", "Write the ranking API", (ME, "Maya Chen"), date(2026, 12, 1),
                 status=TaskStatus.BLOCKED, blocked_reason="waiting on omar@example.com")
        add_task(session, launch, "SS-2", "Old spike", (ME, "Maya Chen"), date(2026, 11, 20), status=TaskStatus.DONE)
        add_task(session, launch, "SS-3", "Beta ships", (COLLEAGUE, "Omar Haddad"), date(2026, 12, 5),
                 milestone=True)
        add_task(session, launch, "SS-4", "Colleague's chore", (COLLEAGUE, "Omar Haddad"), date(2026, 12, 3))
        add_task(session, launch, "SS-5", "Flagged, under review", (ME, "Maya Chen"), date(2026, 12, 4),
                 review_state=ReviewState.OPEN)
        add_task(session, launch, "SS-6", "No date yet", (ME, "Maya Chen"), None)
        elsewhere = await add_launch(session, OTHER_WS, "Secret Other Launch", ME)
        add_task(session, elsewhere, "OT-1", "Other workspace task", (ME, "Maya Chen"), date(2026, 12, 2),
                 milestone=True)
    try:
        yield database
    finally:
        await database.dispose()


def events(body: bytes) -> dict[str, Any]:
    calendar = Calendar.from_ical(body)
    assert calendar["VERSION"] == "2.0" and calendar["PRODID"] and str(calendar["X-PUBLISHED-TTL"]) == "PT1H"
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


async def feed_body(db: Database, url: str, kind: FeedKind = FeedKind.PERSON) -> bytes:
    feed = await load_feed(db, kind, token_of(url))
    assert feed is not None
    return feed.body


async def test_person_feed_has_my_open_tasks_my_launches_milestones_and_targets_only(any_db: Database) -> None:
    db = any_db
    made = await new_feed(db, Actor(WS, ME), FeedKind.PERSON, app_id="A0LIFT", public_url="https://lift.example")
    assert made is not None and made.url.startswith("https://lift.example/calendar/person/")
    async with db.reader() as session:
        ids = {t.key: t.id for t in await session.scalars(select(Task).where(Task.workspace_id == WS))}
        launch_id = await session.scalar(select(Launch.id).where(Launch.workspace_id == WS))
        stored = (await session.scalars(select(CalendarFeed))).one()
        audit = (await session.scalars(select(AuditEntry).where(AuditEntry.action == FEED_CREATED))).one()
    assert stored.token_hash != token_of(made.url) and token_of(made.url) not in str(audit.after)

    body = await feed_body(db, made.url)
    found = events(body)
    domain = f"@{WS.lower()}.liftoff"
    assert set(found) == {f"task-{ids['SS-1']}{domain}", f"task-{ids['SS-3']}{domain}",
                          f"launch-{launch_id}-target{domain}"}
    mine = found[f"task-{ids['SS-1']}{domain}"]
    assert mine["DTSTART"].params["VALUE"] == "DATE" and mine.decoded("DTSTART") == date(2026, 12, 1)
    assert mine.decoded("DTEND") == date(2026, 12, 2)
    assert "Smart Search" in str(mine["SUMMARY"]) and "SS-1" in str(mine["SUMMARY"])
    description = str(mine["DESCRIPTION"])
    assert "Status: Blocked" in description and "Owner: Maya Chen" in description  # my own name stays
    assert "omar@example.com" not in description and "<EMAIL_1>" in description  # PII leaves redacted
    milestone = str(found[f"task-{ids['SS-3']}{domain}"]["DESCRIPTION"])
    assert "Omar Haddad" not in milestone and "<PERSON_" in milestone
    assert str(mine["URL"]) == "https://slack.com/app_redirect?app=A0LIFT&team=T0CAL"
    assert found[f"launch-{launch_id}-target{domain}"].decoded("DTSTART") == TARGET
    assert b"Secret Other Launch" not in body and b"Other workspace" not in body


async def test_a_moved_due_date_keeps_the_uid_and_bumps_sequence(db: Database) -> None:
    made = await new_feed(db, Actor(WS, ME), FeedKind.PERSON)
    assert made is not None
    first = await load_feed(db, FeedKind.PERSON, token_of(made.url))
    again = await load_feed(db, FeedKind.PERSON, token_of(made.url))
    assert first is not None and again is not None and first.etag == again.etag  # polls see no change
    async with db.session() as session:
        task = await session.scalar(select(Task).where(Task.workspace_id == WS, Task.key == "SS-1"))
        assert task is not None
        task.due, task.updated_at = date(2026, 12, 9), datetime.now(UTC)  # as a review edit or re-plan does
        uid = f"task-{task.id}@{WS.lower()}.liftoff"
    moved = await load_feed(db, FeedKind.PERSON, token_of(made.url))
    assert moved is not None and moved.etag != first.etag and moved.last_modified > first.last_modified
    before, after = events(first.body)[uid], events(moved.body)[uid]
    assert after.decoded("DTSTART") == date(2026, 12, 9) and after.decoded("DTEND") == date(2026, 12, 10)
    assert int(after["SEQUENCE"]) > int(before["SEQUENCE"])
    assert after.decoded("LAST-MODIFIED") > before.decoded("LAST-MODIFIED")
    assert len(events(moved.body)) == len(events(first.body))  # moved, not duplicated


async def test_launch_feed_and_revoked_unknown_or_wrong_kind_tokens_open_nothing(db: Database) -> None:
    me = Actor(WS, ME)
    async with db.reader() as session:
        launch_id = await session.scalar(select(Launch.id).where(Launch.workspace_id == WS))
        other_launch = await session.scalar(select(Launch.id).where(Launch.workspace_id == OTHER_WS))
    launch_feed = await new_feed(db, me, FeedKind.LAUNCH, launch_id=launch_id)
    assert launch_feed is not None
    summaries = " ".join(str(e["SUMMARY"]) for e in events(await feed_body(db, launch_feed.url, FeedKind.LAUNCH))
                         .values())
    assert "SS-4" in summaries and "SS-3" in summaries and "SS-2" not in summaries and "SS-5" not in summaries
    assert await new_feed(db, me, FeedKind.LAUNCH, launch_id=other_launch) is None  # another workspace's launch

    first = await new_feed(db, me, FeedKind.PERSON)
    second = await new_feed(db, me, FeedKind.PERSON)
    assert first is not None and second is not None and second.replaced
    assert await load_feed(db, FeedKind.PERSON, token_of(first.url)) is None  # replaced: revoked
    assert await load_feed(db, FeedKind.LAUNCH, token_of(second.url)) is None  # a person token is no launch token
    assert await load_feed(db, FeedKind.PERSON, "not-a-token") is None
    assert await turn_off(db, me, FeedKind.PERSON) == 1
    assert await load_feed(db, FeedKind.PERSON, token_of(second.url)) is None
    assert await load_feed(db, FeedKind.LAUNCH, token_of(launch_feed.url)) is not None  # its own switch


# --- the App Home's button, the modal, and the HTTP feed, through signed requests (SQLite, in-process jobs) -------


@pytest.fixture(scope="module")
async def sqlite_stack(tmp_path_factory: pytest.TempPathFactory, blockkit_validator: Any) -> AsyncIterator[Stack]:
    async with running_stack("sqlite-inline", tmp_path_factory.mktemp("calendar"), blockkit_validator) as stack:
        yield stack


async def modal_after(stack: Stack, user: str, click: Any) -> dict[str, Any]:
    ack = await click
    assert ack.status == 200 and ack.in_time
    await stack.standin.wait_for(lambda: any(v.get("callback_id") == CalendarId.CALLBACK
                                             for v in stack.standin.open_views(user)))
    return next(v for v in stack.standin.open_views(user) if v.get("callback_id") == CalendarId.CALLBACK)


def url_in(view: dict[str, Any]) -> str | None:
    for block in view["blocks"]:
        text = (block.get("text") or {}).get("text", "")
        if "```" in text:
            return text.split("```")[1]
    return None


async def test_home_button_opens_the_modal_and_the_url_serves_the_feed_until_replaced(sqlite_stack: Stack) -> None:
    stack, user = sqlite_stack, "U101"
    await stack.slack.open_home(user)
    await stack.standin.wait_for(lambda: stack.standin.home(user) is not None)
    home = stack.standin.home(user)
    assert home is not None
    view = await modal_after(stack, user, stack.slack.click(user, action_id=CalendarId.OPEN, view=home))
    assert url_in(view) is None and "no calendar URL yet" in str(view["blocks"])

    view_id = view["id"]
    await stack.slack.click(user, action_id=CalendarId.NEW_URL, view=view)
    await stack.standin.wait_for(lambda: url_in(stack.standin.views[view_id]) is not None)
    first = url_in(stack.standin.views[view_id])
    assert first is not None
    path = first.split("://", 1)[1].split("/", 1)[1]
    async with aiohttp.ClientSession(stack.liftoff.url) as http:
        async with http.get(f"/{path}") as response:
            assert response.status == 200 and response.content_type == "text/calendar"
            etag, body = response.headers["ETag"], await response.read()
            assert response.headers["Last-Modified"]
        Calendar.from_ical(body)
        async with http.get(f"/{path}", headers={"If-None-Match": etag}) as response:
            assert response.status == 304

        await stack.slack.click(user, action_id=CalendarId.NEW_URL, view=stack.standin.views[view_id])
        await stack.standin.wait_for(lambda: url_in(stack.standin.views[view_id]) not in (None, first))
        second = url_in(stack.standin.views[view_id])
        assert second is not None
        async with http.get(f"/{path}") as response:
            revoked = (response.status, await response.text())
        async with http.get("/calendar/person/never-existed.ics") as response:
            unknown = (response.status, await response.text())
        assert revoked == unknown == (404, "Not found.")  # says nothing of whether it ever existed
        async with http.get("/" + second.split("://", 1)[1].split("/", 1)[1]) as response:
            assert response.status == 200


async def test_modal_with_new_urls_and_many_long_launch_names_is_valid_block_kit(db: Database,
                                                                                 blockkit_validator: Any) -> None:
    async with db.session() as session:
        launches = [await add_launch(session, WS, f"Launch {n} " + "x" * 140, ME) for n in range(120)]
    modal = calendar_modal(CalendarModal(feed=None, launches=launches[:100], new_url="https://h/calendar/person/t.ics",
                                         launch_url=(launches[0].name, "https://h/calendar/launch/u.ics"),
                                         notice="New URL made.", public_url_set=False))
    assert blockkit_validator("modal", modal) == []
    assert "https://h/calendar/person/t.ics" in str(modal) and "LIFTOFF_PUBLIC_URL" in str(modal)
