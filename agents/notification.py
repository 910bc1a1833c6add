"""The notification agent: decides who hears about what, and records it in the outbox.

It never calls Slack itself: the outbox row is written in the same transaction as the change,
and a drain job renders and sends it (see bot/delivery.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import Destination, OutboxKind
from storage.models import Launch, utcnow
from storage.notifications import (
    GROUP_WINDOW,
    NewNotification,
    NotificationRepository,
    Preferences,
    Target,
    Urgency,
)
from storage.outbox import OutboxRepository
from storage.scope import Scope


def plan_recipient(launch: Launch) -> str:
    """The launch channel, or the PM's DM when the brief named no channel."""
    return launch.channel_id or launch.created_by


async def announce_plan(outbox: OutboxRepository, launch: Launch) -> None:
    await outbox.add(
        workspace_id=launch.workspace_id,
        destination=Destination.SLACK,
        kind=OutboxKind.LAUNCH_PLAN,
        idempotency_key=f"launch:{launch.id}:v{launch.version}:plan",
        payload={"launch_id": launch.id, "channel": plan_recipient(launch), "pm": launch.created_by},
    )


async def alert_admins(outbox: OutboxRepository, launch: Launch, reason: str, admin_ids: list[str]) -> None:
    """Tell each workspace admin, by DM, that the PII check failed and the launch was blocked."""
    for admin_id in admin_ids:
        await outbox.add(
            workspace_id=launch.workspace_id,
            destination=Destination.SLACK,
            kind=OutboxKind.GUARDRAIL_ALERT,
            idempotency_key=f"launch:{launch.id}:v{launch.version}:guardrail-alert:{admin_id}",
            payload={"launch_id": launch.id, "channel": admin_id, "reason": reason},
        )


async def announce_planning_failed(outbox: OutboxRepository, launch: Launch, reason: str) -> None:
    """Tell the PM, by DM, why the plan could not be made."""
    await outbox.add(
        workspace_id=launch.workspace_id,
        destination=Destination.SLACK,
        kind=OutboxKind.LAUNCH_FAILED,
        idempotency_key=f"launch:{launch.id}:v{launch.version}:failed",
        payload={"launch_id": launch.id, "channel": launch.created_by, "reason": reason},
    )


# --- notifications to people: events -> who, how urgent, where, when (issue 8)


class EventKind(StrEnum):
    TASK_ASSIGNED = "task_assigned"
    DUE_TOMORROW = "due_tomorrow"
    OVERDUE = "overdue"
    CRITICAL_BLOCKED = "critical_blocked"
    REVIEW_WAITING = "review_waiting"
    LAUNCH_AT_RISK = "launch_at_risk"
    KR_AT_RISK = "kr_at_risk"
    CHECKIN_DUE = "checkin_due"
    MENTION = "mention"
    MILESTONE = "milestone"  # a milestone reached: a post in the launch channel


EVENT_LABELS = {
    EventKind.TASK_ASSIGNED: "Task assigned to me",
    EventKind.DUE_TOMORROW: "Task due tomorrow",
    EventKind.OVERDUE: "Task overdue",
    EventKind.CRITICAL_BLOCKED: "Blocked on the critical path",
    EventKind.REVIEW_WAITING: "Review waiting",
    EventKind.LAUNCH_AT_RISK: "Launch at risk",
    EventKind.KR_AT_RISK: "Key result at risk",
    EventKind.CHECKIN_DUE: "Check-in due",
    EventKind.MENTION: "Comment mentions me",
    EventKind.MILESTONE: "Milestone reached (launch channel)",
}
URGENT_KINDS = frozenset({EventKind.CRITICAL_BLOCKED, EventKind.LAUNCH_AT_RISK})
NUDGE_CAP = 5
DIGEST_KIND = "weekly_digest"


@dataclass(frozen=True)
class DomainEvent:
    """Something that happened. `key` names it uniquely (a replayed event is recorded once); `group` joins related
    events (e.g. one launch) into one message; `recipient` is a person, `pm` the launch's PM, `channel` its channel."""

    kind: EventKind
    key: str
    text: str
    recipient: str
    group: str = ""
    pm: str | None = None
    channel: str | None = None
    # The launch whose task text the event quotes: placeholders in it are restored for the reader at delivery.
    launch_id: int | None = None


def is_person(slack_id: str | None) -> bool:
    """A Slack user id (a DM), not a channel id, a bot or nobody."""
    return bool(slack_id) and str(slack_id)[:1] in ("U", "W")


@dataclass(frozen=True)
class Route:
    recipient: str
    target: Target
    urgency: Urgency


def route(event: DomainEvent) -> Route:
    """Who hears about it, where, how urgently: milestones go to the launch channel, risks to the PM, the rest by DM."""
    urgency = Urgency.URGENT if event.kind in URGENT_KINDS else Urgency.NORMAL
    if event.kind == EventKind.MILESTONE and event.channel:
        return Route(event.channel, Target.CHANNEL, Urgency.NORMAL)
    if event.kind in (EventKind.CRITICAL_BLOCKED, EventKind.LAUNCH_AT_RISK) and event.pm:
        return Route(event.pm, Target.DM, urgency)
    return Route(event.recipient, Target.DM, urgency)


def in_quiet_hours(prefs: Preferences, tz: ZoneInfo, now: datetime) -> bool:
    """True when the person's local hour falls in their quiet hours (which may wrap past midnight)."""
    if prefs.quiet_start is None or prefs.quiet_end is None or prefs.quiet_start == prefs.quiet_end:
        return False
    hour = now.astimezone(tz).hour
    if prefs.quiet_start < prefs.quiet_end:
        return prefs.quiet_start <= hour < prefs.quiet_end
    return hour >= prefs.quiet_start or hour < prefs.quiet_end


def quiet_hours_end(prefs: Preferences, tz: ZoneInfo, now: datetime) -> datetime:
    """The first instant after `now` when the person's quiet hours are over (UTC); `now` when not quiet."""
    if not in_quiet_hours(prefs, tz, now):
        return now
    local = now.astimezone(tz)
    for days in range(2):
        day = local.date() + timedelta(days=days)
        end = local_instant(day, prefs.quiet_end or 0, tz)
        if end > now:
            return end
    return now + timedelta(hours=24)


def local_instant(day: date, hour: int, tz: ZoneInfo) -> datetime:
    """`hour`:00 local on `day`, as UTC. In a spring-forward gap this is the moment the clocks jump (the hour
    read with the offset before the change); in a fall-back hour, its first occurrence (fold 0)."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=tz).astimezone(UTC)


def local_day_start(tz: ZoneInfo, now: datetime) -> datetime:
    local = now.astimezone(tz)
    return datetime(local.year, local.month, local.day, tzinfo=tz).astimezone(UTC)


def zone(name: str | None) -> ZoneInfo:
    """The person's IANA zone; UTC when Slack gave none or an unknown one."""
    try:
        return ZoneInfo(name) if name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


class Disposition(StrEnum):
    SEND = "send"
    DEFER = "defer"  # quiet hours: try again when they end
    HOLD = "hold"  # over the nudge cap: wait for the digest
    MUTE = "mute"


def disposition(prefs: Preferences, tz: ZoneInfo, now: datetime, *, kind: str, urgency: str, target: str,
                nudges_today: int) -> tuple[Disposition, datetime]:
    """What to do with a due notification right now, and until when when deferred."""
    if target == Target.CHANNEL or kind == DIGEST_KIND:
        return Disposition.SEND, now
    if kind in prefs.muted and urgency != Urgency.URGENT:
        return Disposition.MUTE, now
    if urgency == Urgency.URGENT:
        return Disposition.SEND, now
    if in_quiet_hours(prefs, tz, now):
        return Disposition.DEFER, quiet_hours_end(prefs, tz, now)
    if nudges_today >= NUDGE_CAP:
        return Disposition.HOLD, now
    return Disposition.SEND, now


async def notify(session: AsyncSession, scope: Scope, event: DomainEvent, now: datetime | None = None) -> int | None:
    """Record an event as (part of) a notification, in the caller's transaction; the delivery job sends it.

    A repeated event key does nothing. A related normal event within GROUP_WINDOW joins the pending notification
    of its group; an urgent one goes out at once on its own. Returns the notification id (None for a repeat).
    """
    now = now or utcnow()
    repo = NotificationRepository(session, scope)
    if await repo.event_seen(event.key):
        return None
    where = route(event)
    entry: dict[str, object] = {"kind": str(event.kind), "text": event.text}
    if event.launch_id is not None:
        entry["launch_id"] = event.launch_id
    group = f"{event.group or event.kind}"
    row = None
    if where.urgency == Urgency.NORMAL:
        row = await repo.open_group(where.recipient, group, now - GROUP_WINDOW)
    if row is not None:
        row.payload = {**row.payload, "events": [*row.payload.get("events", []), entry]}
    else:
        due = now if where.urgency == Urgency.URGENT else now + GROUP_WINDOW
        row = await repo.add(NewNotification(
            recipient=where.recipient, kind=str(event.kind), idempotency_key=f"n:{scope.workspace_id}:{event.key}",
            payload={"events": [entry]}, due_at=due, target=where.target, urgency=where.urgency, group_key=group,
            created_at=now))
    await repo.add_event(row, event.key, str(event.kind))
    return row.id
