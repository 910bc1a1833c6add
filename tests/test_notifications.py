"""Notifications: routing, quiet hours, the nudge cap, grouping, Slack down (email), Slack and SMTP down (retries,
then the App Home and an incident)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from agents.notification import (
    Disposition,
    DomainEvent,
    EventKind,
    disposition,
    in_quiet_hours,
    notify,
    quiet_hours_end,
    route,
    zone,
)
from blocks.notification_settings import parse_settings, settings_modal
from bot.notification_delivery import INCIDENT_ACTION, deliver_due
from storage.audit import AuditEntry
from storage.notifications import (
    Notification,
    NotificationRepository,
    NotificationStatus,
    Preferences,
    Target,
    Urgency,
)
from storage.scope import Scope
from tests.notification_support import WS, World, make_world

BERLIN = zone("Europe/Berlin")
QUIET = Preferences(quiet_start=22, quiet_end=7)


@pytest.fixture
async def world(tmp_path: Path, blockkit_validator: Any) -> AsyncIterator[World]:
    async for w in make_world(tmp_path, blockkit_validator, "notify"):
        yield w


def test_events_are_routed_to_the_right_person_and_channel() -> None:
    blocked = DomainEvent(EventKind.CRITICAL_BLOCKED, "k1", "API blocked", recipient="U102", pm="U100")
    r = route(blocked)
    assert (r.recipient, r.target, r.urgency) == ("U100", Target.DM, Urgency.URGENT)
    milestone = DomainEvent(EventKind.MILESTONE, "k2", "Beta shipped", recipient="U100", channel="C0LAUNCH")
    assert (route(milestone).recipient, route(milestone).target) == ("C0LAUNCH", Target.CHANNEL)
    assigned = DomainEvent(EventKind.TASK_ASSIGNED, "k3", "Write docs", recipient="U102", pm="U100")
    assert (route(assigned).recipient, route(assigned).urgency) == ("U102", Urgency.NORMAL)


def test_quiet_hours_wrap_midnight_in_the_persons_zone() -> None:
    # 23:30 in Berlin (CET, UTC+1) is 22:30 UTC: quiet; they end at 07:00 Berlin = 06:00 UTC the next day.
    late = datetime(2026, 1, 14, 22, 30, tzinfo=UTC)
    assert in_quiet_hours(QUIET, BERLIN, late)
    assert quiet_hours_end(QUIET, BERLIN, late) == datetime(2026, 1, 15, 6, 0, tzinfo=UTC)
    assert not in_quiet_hours(QUIET, BERLIN, datetime(2026, 1, 15, 12, 0, tzinfo=UTC))
    # Summer (CEST, UTC+2): 06:30 Berlin is 04:30 UTC, still quiet; ends 05:00 UTC.
    summer = datetime(2026, 7, 15, 4, 30, tzinfo=UTC)
    assert quiet_hours_end(QUIET, BERLIN, summer) == datetime(2026, 7, 15, 5, 0, tzinfo=UTC)
    daytime = Preferences(quiet_start=12, quiet_end=14)
    assert in_quiet_hours(daytime, BERLIN, datetime(2026, 1, 15, 12, 0, tzinfo=UTC))  # 13:00 Berlin


def test_disposition_caps_nudges_but_never_urgent_alerts_or_channel_posts() -> None:
    now = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    args = {"kind": EventKind.DUE_TOMORROW, "target": Target.DM}
    free = Preferences()
    assert disposition(free, BERLIN, now, urgency=Urgency.NORMAL, nudges_today=4, **args)[0] == Disposition.SEND
    assert disposition(free, BERLIN, now, urgency=Urgency.NORMAL, nudges_today=5, **args)[0] == Disposition.HOLD
    assert disposition(free, BERLIN, now, urgency=Urgency.URGENT, nudges_today=50, **args)[0] == Disposition.SEND
    muted = Preferences(muted=frozenset({EventKind.DUE_TOMORROW}))
    assert disposition(muted, BERLIN, now, urgency=Urgency.NORMAL, nudges_today=0, **args)[0] == Disposition.MUTE
    night = datetime(2026, 1, 14, 23, 0, tzinfo=UTC)
    what, until = disposition(QUIET, BERLIN, night, urgency=Urgency.NORMAL, nudges_today=0, **args)
    assert what == Disposition.DEFER and until == datetime(2026, 1, 15, 6, 0, tzinfo=UTC)
    assert disposition(QUIET, BERLIN, night, urgency=Urgency.URGENT, nudges_today=0, **args)[0] == Disposition.SEND


def test_settings_modal_round_trips_and_refuses_half_quiet_hours() -> None:
    prefs = Preferences(muted=frozenset({"mention"}), quiet_start=22, quiet_end=7, digest_weekday=4, digest_hour=16)
    view = settings_modal(prefs, "Europe/Berlin")
    values: dict[str, Any] = {}
    for block in view["blocks"]:
        element = block.get("element")
        if not element:
            continue
        state = {"selected_options": element.get("initial_options", [])} if element["type"] == "checkboxes" \
            else {"selected_option": element.get("initial_option")}
        values[block["block_id"]] = {element["action_id"]: state}
    assert parse_settings(values) == (prefs, {})
    values["quiet_end"]["quiet_end"]["selected_option"] = {"value": "none"}
    parsed, errors = parse_settings(values)
    assert parsed is None and "quiet_end" in errors


async def _event(world: World, kind: EventKind, key: str, recipient: str = "U102", group: str = "",
                 now: datetime | None = None) -> int | None:
    async with world.db.session() as session:
        return await notify(session, Scope(WS), DomainEvent(kind, key, f"{kind} {key}", recipient=recipient,
                                                            group=group, pm="U100"), now)


async def _rows(world: World) -> list[Notification]:
    async with world.db.reader() as session:
        return list(await session.scalars(select(Notification).order_by(Notification.id)))


async def test_related_events_group_into_one_message_and_a_replayed_event_is_ignored(world: World) -> None:
    now = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)  # 13:00 in Madrid (U102)
    first = await _event(world, EventKind.TASK_ASSIGNED, "a1", group="launch:1", now=now)
    second = await _event(world, EventKind.DUE_TOMORROW, "a2", group="launch:1", now=now + timedelta(minutes=1))
    assert first is not None and first == second
    assert await _event(world, EventKind.TASK_ASSIGNED, "a1", group="launch:1", now=now) is None
    later = await _event(world, EventKind.TASK_ASSIGNED, "a3", group="launch:1", now=now + timedelta(minutes=10))
    assert later != first
    report = await deliver_due(world.db, world.sender(), world.email(), WS, now + timedelta(minutes=15))
    assert report.sent_slack == 2
    dms = world.dms("U102")
    assert len(dms) == 2 and "1 related update" in dms[0]["blocks"][0]["text"]["text"]
    # Delivered again: nothing more is sent.
    again = await deliver_due(world.db, world.sender(), world.email(), WS, now + timedelta(minutes=20))
    assert again.sent_slack == 0 and len(world.dms("U102")) == 2


async def test_nudge_cap_holds_the_sixth_dm_for_the_digest_but_not_urgent_ones(world: World) -> None:
    now = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    for n in range(7):
        await _event(world, EventKind.DUE_TOMORROW, f"n{n}", group=f"g{n}", now=now)
    await _event(world, EventKind.CRITICAL_BLOCKED, "urgent", recipient="U100", group="g-urgent", now=now)
    async with world.db.session() as session:  # the urgent one goes to the PM (U100); make one urgent for U102 too
        urgent = await notify(session, Scope(WS), DomainEvent(EventKind.LAUNCH_AT_RISK, "u2", "at risk",
                                                              recipient="U102"), now)
    assert urgent is not None
    report = await deliver_due(world.db, world.sender(), world.email(), WS, now + timedelta(minutes=5))
    assert report.held == 2
    statuses = [(r.recipient, r.urgency, r.status) for r in await _rows(world)]
    assert statuses.count(("U102", Urgency.NORMAL, NotificationStatus.SENT)) == 5
    assert statuses.count(("U102", Urgency.NORMAL, NotificationStatus.HELD)) == 2
    assert ("U102", Urgency.URGENT, NotificationStatus.SENT) in statuses
    assert len(world.dms("U102")) == 6


async def test_quiet_hours_defer_a_nudge_until_morning(world: World) -> None:
    async with world.db.session() as session:
        await NotificationRepository(session, Scope(WS)).save_preferences("U101", QUIET)  # Omar, Berlin
    night = datetime(2026, 1, 14, 22, 30, tzinfo=UTC)
    await _event(world, EventKind.REVIEW_WAITING, "q1", recipient="U101", now=night)
    report = await deliver_due(world.db, world.sender(), world.email(), WS, night + timedelta(minutes=5))
    assert report.deferred == 1 and world.dms("U101") == []
    morning = datetime(2026, 1, 15, 6, 0, tzinfo=UTC)
    assert (await deliver_due(world.db, world.sender(), world.email(), WS, morning)).sent_slack == 1
    assert len(world.dms("U101")) == 1


async def test_slack_down_sends_email_and_records_both_attempts(world: World) -> None:
    now = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    await _event(world, EventKind.MENTION, "m1", recipient="U103", now=now)
    world.standin.fail_next("chat.postMessage", error="internal_error", status=500, retry_after=None)
    report = await deliver_due(world.db, world.sender(), world.email(), WS, now + timedelta(minutes=5))
    assert report.sent_email == 1 and world.dms("U103") == []
    assert [m["To"] for m in world.inbox.messages] == ["tom@example.com"]
    assert "mention m1" in world.inbox.messages[0].get_payload()
    (row,) = await _rows(world)
    assert row.status == NotificationStatus.SENT and row.delivered_via == "email"
    async with world.db.reader() as session:
        deliveries = await NotificationRepository(session, Scope(WS)).deliveries(row.id)
    assert [(d.channel, d.ok) for d in deliveries] == [("slack", False), ("email", True)]
    assert all(d.at is not None for d in deliveries)


async def test_slack_and_smtp_down_retry_every_five_minutes_then_the_home_and_an_incident(world: World) -> None:
    start = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    await _event(world, EventKind.OVERDUE, "o1", recipient="U103", now=start)
    world.standin.fail_next("chat.postMessage", error="internal_error", status=500, retry_after=None, times=100)
    now, tries = start + timedelta(minutes=3), 0
    while True:
        report = await deliver_due(world.db, world.sender(), world.email(up=False), WS, now)
        tries += 1
        (row,) = await _rows(world)
        if row.status != NotificationStatus.PENDING:
            break
        assert row.due_at == now + timedelta(minutes=5)
        assert (await deliver_due(world.db, world.sender(), world.email(up=False), WS, now + timedelta(minutes=4))
                ).retrying == 0  # not due yet
        now = row.due_at
    assert row.status == NotificationStatus.ON_HOME and tries == 13 and report.incidents
    async with world.db.reader() as session:
        incident = await session.scalar(select(AuditEntry).where(AuditEntry.action == INCIDENT_ACTION))
        on_home = await NotificationRepository(session, Scope(WS)).on_home("U103")
    assert incident is not None and incident.after["incident"] == report.incidents[0]
    assert [r.id for r in on_home] == [row.id]
    from blocks.notification_settings import undelivered_blocks

    assert "o1" in undelivered_blocks(on_home)[0].text.text
    assert world.inbox.messages == [] and world.dms("U103") == []
