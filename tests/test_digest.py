"""The weekly digest: due times across timezones and DST, one per person and ISO week whatever happens, within
Slack's limits, and a scheduler that catches a missed hour up once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

import bot.notification_delivery as delivery_module
from agents.digest import DigestData, Person, build_digest, digest_due_between, due_in_week, iso_week
from agents.notification import DIGEST_KIND, zone
from blocks.digest import digest_message
from bot.digest_sweep import queue_digests
from bot.notification_delivery import deliver_due
from bot.scheduler import tick
from bot.settings import Settings
from bot.wiring import build_services
from storage.enums import LaunchStatus, TaskStatus
from storage.models import Launch, LaunchMember, Task
from storage.notifications import Notification, NotificationStatus, Preferences
from storage.okr_enums import ObjectiveLevel
from storage.okr_models import KeyResult, Objective, OkrPeriod
from tests.notification_support import WS, World, make_world
from tests.support import PEOPLE

DEFAULT = Preferences()


@pytest.mark.parametrize(("tz", "monday", "expected"), [
    ("America/New_York", date(2026, 3, 2), datetime(2026, 3, 2, 14, 0, tzinfo=UTC)),  # EST
    ("America/New_York", date(2026, 3, 9), datetime(2026, 3, 9, 13, 0, tzinfo=UTC)),  # EDT from Mar 8
    ("America/New_York", date(2026, 11, 2), datetime(2026, 11, 2, 14, 0, tzinfo=UTC)),  # EST again from Nov 1
    ("Europe/Berlin", date(2026, 3, 23), datetime(2026, 3, 23, 8, 0, tzinfo=UTC)),  # CET
    ("Europe/Berlin", date(2026, 3, 30), datetime(2026, 3, 30, 7, 0, tzinfo=UTC)),  # CEST from Mar 29
    ("Asia/Kolkata", date(2026, 3, 9), datetime(2026, 3, 9, 3, 30, tzinfo=UTC)),  # +05:30, no DST
    ("Australia/Sydney", date(2026, 3, 30), datetime(2026, 3, 29, 22, 0, tzinfo=UTC)),  # AEDT +11: Sunday in UTC
    ("Australia/Sydney", date(2026, 4, 6), datetime(2026, 4, 5, 23, 0, tzinfo=UTC)),  # AEST +10 from Apr 5
    ("Pacific/Chatham", date(2026, 3, 30), datetime(2026, 3, 29, 19, 15, tzinfo=UTC)),  # +13:45
    ("Pacific/Chatham", date(2026, 4, 6), datetime(2026, 4, 5, 20, 15, tzinfo=UTC)),  # +12:45 from Apr 5
])
def test_monday_nine_local_is_the_right_instant_across_dst(tz: str, monday: date, expected: datetime) -> None:
    assert due_in_week(monday, DEFAULT, zone(tz)) == expected
    assert expected.astimezone(zone(tz)).replace(tzinfo=None) == datetime(monday.year, monday.month, monday.day, 9)


def test_an_hour_the_clocks_skip_or_repeat_still_gives_one_digest() -> None:
    new_york = zone("America/New_York")
    sunday_two = Preferences(digest_weekday=6, digest_hour=2)
    # 02:00 on Mar 8 does not exist in New York: the digest goes when the clocks jump (03:00 EDT = 07:00 UTC).
    assert due_in_week(date(2026, 3, 2), sunday_two, new_york) == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)
    # 01:00 on Nov 1 happens twice: the first one (EDT, 05:00 UTC), once.
    sunday_one = Preferences(digest_weekday=6, digest_hour=1)
    assert due_in_week(date(2026, 10, 26), sunday_one, new_york) == datetime(2026, 11, 1, 5, 0, tzinfo=UTC)
    window = digest_due_between(sunday_one, new_york, datetime(2026, 11, 1, 0, tzinfo=UTC),
                                datetime(2026, 11, 1, 12, tzinfo=UTC))
    assert len(window) == 1


@pytest.mark.parametrize("tz", ["America/New_York", "Europe/Berlin", "Asia/Kolkata", "Australia/Sydney",
                                "Pacific/Chatham"])
def test_one_digest_per_iso_week_over_a_dst_spanning_quarter(tz: str) -> None:
    start = datetime(2026, 2, 15, tzinfo=UTC)
    hourly = [start + timedelta(hours=h) for h in range(24 * 91)]
    found = [hit for a, b in zip(hourly, hourly[1:], strict=False)
             for hit in digest_due_between(DEFAULT, zone(tz), a, b)]
    weeks = [week for _, week in found]
    assert len(weeks) == len(set(weeks)) == 13
    assert all(due.astimezone(zone(tz)).strftime("%a %H:%M") == "Mon 09:00" for due, _ in found)
    assert iso_week(date(2026, 3, 30)) == "2026-W14"


def test_a_digest_stays_within_slack_limits_at_any_size() -> None:
    kr = KeyResult(id=1, key="KR-1", title="x" * 300, progress=0.2, status="at_risk", last_checkin_on=None,
                   owner_id="U1")
    launches = []
    task = Task(id=1, title="t" * 300, status=TaskStatus.TODO, due=date(2026, 1, 1), assignee_slack_id="U1")
    data = DigestData(tasks_by_person={"U1": [(task, "L" * 150)] * 500}, launches_by_person={"U1": launches},
                      krs_by_person={"U1": [kr] * 300}, departments_by_head={"U1": ["Eng"]},
                      department_summaries={"Eng": "line\n" * 5000})
    digest = build_digest(Person("U1", "Ann", "UTC", None), data, date(2026, 1, 12), "2026-W03", ["held"] * 900)
    message = digest_message(digest)
    assert len(message["blocks"]) <= 50 and len(message["text"]) <= 3000
    for block in message["blocks"]:
        text = block.get("text", {}).get("text", "")
        assert len(text) <= 3000


@pytest.fixture(params=["sqlite", "postgresql"])
async def world(request: pytest.FixtureRequest, tmp_path: Path, blockkit_validator: Any) -> AsyncIterator[World]:
    async for w in make_world(tmp_path, blockkit_validator, "digest", request.param):
        yield w


async def seed_work(world: World, today: date) -> None:
    """A launch with U102's tasks (one overdue, one due this week), U102's stale key result; U100 heads Eng."""
    async with world.db.session() as session:
        launch = Launch(workspace_id=WS, name="Smart Search", name_key="smart search",
                        target_date=today + timedelta(30), launch_type="software_release", created_by="U100",
                        status=LaunchStatus.PLANNED,
                        risks=[{"code": "tight", "severity": "high",
                                "evidence": "critical path longer than the time"}])
        session.add(launch)
        await session.flush()
        session.add(LaunchMember(workspace_id=WS, launch_id=launch.id, name="Lucia", role="eng", slack_id="U102"))
        for n, due in enumerate((today - timedelta(days=2), today + timedelta(days=2))):
            session.add(Task(workspace_id=WS, launch_id=launch.id, key=f"T{n}", title=f"Task {n}", team="eng",
                             role="eng", assignee_slack_id="U102", estimate_days=1, due=due, priority="P1",
                             confidence=0.9))
        period = OkrPeriod(workspace_id=WS, name="Q1", start=today - timedelta(30), end=today + timedelta(60))
        session.add(period)
        await session.flush()
        objective = Objective(workspace_id=WS, key="ENG-1", title="Faster search", level=ObjectiveLevel.DEPARTMENT,
                              owner_id="U100", department="Eng", period_id=period.id)
        session.add(objective)
        await session.flush()
        session.add(KeyResult(workspace_id=WS, objective_id=objective.id, key="ENG-1.1", title="p95 under 200ms",
                              owner_id="U102", start_value=400, target_value=200, status="at_risk"))


async def _digests(world: World) -> list[Notification]:
    async with world.db.reader() as session:
        return list(await session.scalars(select(Notification).where(Notification.kind == DIGEST_KIND)))


async def test_a_digest_run_twice_and_a_worker_killed_mid_send_give_everyone_one(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monday = datetime(2026, 1, 12, 0, 0, tzinfo=UTC)
    await seed_work(world, monday.date())
    until = monday + timedelta(hours=15)  # 09:00 in New York is 14:00 UTC; Asia and Europe came earlier
    first = await queue_digests(world.db, WS, monday - timedelta(hours=12), until)
    second = await queue_digests(world.db, WS, monday - timedelta(hours=12), until)
    assert first.queued == len(PEOPLE) and second.queued == 0 and second.already == first.due
    rows = await _digests(world)
    assert len(rows) == len(PEOPLE) and len({r.idempotency_key for r in rows}) == len(PEOPLE)
    lucia = next(r for r in rows if r.recipient == "U102")
    text = str(lucia.payload["message"]["blocks"])
    assert "Task 0" in text and "Task 1" in text and "ENG-1.1" in text and "critical path longer" in text
    maya = next(r for r in rows if r.recipient == "U100")
    assert "Your department this week" in str(maya.payload["message"]["blocks"])

    # The worker dies right after Slack accepted the first digest, before it could record that.
    real_finish, calls = delivery_module._finish, []

    async def die_once(*args: Any, **kwargs: Any) -> None:
        if not calls:
            calls.append(1)
            raise SystemExit("worker killed")
        await real_finish(*args, **kwargs)

    monkeypatch.setattr(delivery_module, "_finish", die_once)
    with pytest.raises(SystemExit):
        await deliver_due(world.db, world.sender(), world.email(), WS, until)
    monkeypatch.setattr(delivery_module, "_finish", real_finish)
    # Another worker, after the lease: finds the message by its key in the DM's history instead of posting again.
    report = await deliver_due(world.db, world.sender(), world.email(), WS, until + timedelta(minutes=3))
    again = await deliver_due(world.db, world.sender(), world.email(), WS, until + timedelta(minutes=10))
    assert report.sent_slack == len(PEOPLE) and again.sent_slack == 0
    for person in PEOPLE:
        assert len(world.dms(person["id"])) == 1, person["id"]
    assert world.standin.validation_errors == []
    assert {r.status for r in await _digests(world)} == {NotificationStatus.SENT}


async def test_the_scheduler_catches_a_missed_hour_up_once(world: World) -> None:
    services = build_services(Settings(database_url=world.db.url, slack_api_url=world.standin.base_url,
                                       slack_bot_token=world.standin.bot_token))
    try:
        sunday = datetime(2026, 1, 11, 23, 0, tzinfo=UTC)
        start = await tick(services, sunday, deliver=False)  # the first run covers no history
        daily = ["audit_purge", "okr_sync", "people_refresh"]
        assert start.digests_queued == 0 and sorted(start.daily) == daily and start.hourly == ["notification_sweep"]
        assert (await tick(services, sunday + timedelta(minutes=30), deliver=False)).hourly == []  # the same hour
        early = await tick(services, sunday + timedelta(hours=5), deliver=False)
        assert early.digests_queued == 2  # Seoul (09:00 = 00:00 UTC) and Kolkata (03:30 UTC)
        assert sorted(early.daily) == daily and early.hourly == ["notification_sweep"]  # a new day, a new hour
        # Down from 04:00 to 15:00 UTC: Berlin, Madrid, Lagos (08:00 UTC) and New York (14:00 UTC), caught up once.
        late = await tick(services, sunday + timedelta(hours=16), deliver=False)
        repeat = await tick(services, sunday + timedelta(hours=16), deliver=False)
        assert late.digests_queued == 5 and repeat.digests_queued == 0 and late.daily == []
        async with services.db.reader() as session:
            assert await session.scalar(select(func.count()).select_from(Notification)) == len(PEOPLE)
        await services.jobs.drain()  # type: ignore[union-attr]
    finally:
        await services.db.dispose()
