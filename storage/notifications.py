"""Notifications, their events, deliveries, per-person preferences and the scheduler's last runs.

A notification is one outward message to one recipient (a person's DM or a launch channel). Events that belong
together (same recipient, same group, a few minutes apart) join one pending notification. Every notification has
a unique idempotency key; the weekly digest's key names the person's ISO week, so a week has one digest at most.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, UtcDateTime, utcnow
from storage.scope import Scope


class NotificationStatus(StrEnum):
    PENDING = "pending"  # waiting for its due time (grouping window, quiet hours, a retry)
    SENDING = "sending"  # claimed by a delivery run
    SENT = "sent"
    HELD = "held"  # over the day's nudge cap: waits for the weekly digest
    DIGESTED = "digested"  # a held one the digest has shown
    MUTED = "muted"  # a kind the person muted
    ON_HOME = "on_home"  # Slack and email failed for an hour: kept on the App Home, an incident logged


class Urgency(StrEnum):
    URGENT = "urgent"  # not capped, not held by quiet hours, not grouped
    NORMAL = "normal"


class Target(StrEnum):
    DM = "dm"
    CHANNEL = "channel"


class DeliveryChannel(StrEnum):
    SLACK = "slack"
    EMAIL = "email"


@dataclass(frozen=True)
class Preferences:
    """A person's choices; the defaults apply to anyone who never opened the settings."""

    muted: frozenset[str] = frozenset()
    quiet_start: int | None = None  # local hour quiet hours begin (inclusive); None: no quiet hours
    quiet_end: int | None = None  # local hour they end (exclusive); may wrap past midnight
    digest_weekday: int = 0  # Monday
    digest_hour: int = 9
    digest_enabled: bool = True


class NotificationPreference(Base):
    __tablename__ = "notification_preferences"
    __table_args__ = (UniqueConstraint("workspace_id", "slack_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    slack_id: Mapped[str] = mapped_column(String(32))
    muted_kinds: Mapped[list[Any]] = mapped_column(JSON, default=list)
    quiet_start: Mapped[int | None] = mapped_column(Integer)
    quiet_end: Mapped[int | None] = mapped_column(Integer)
    digest_weekday: Mapped[int] = mapped_column(Integer, default=0)
    digest_hour: Mapped[int] = mapped_column(Integer, default=9)
    digest_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    def as_preferences(self) -> Preferences:
        return Preferences(frozenset(self.muted_kinds or []), self.quiet_start, self.quiet_end, self.digest_weekday,
                           self.digest_hour, self.digest_enabled)


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_due", "status", "due_at"),
        Index("ix_notifications_group", "workspace_id", "recipient", "group_key", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    recipient: Mapped[str] = mapped_column(String(32))  # a person's id (DM) or a channel id
    target: Mapped[str] = mapped_column(String(8), default=Target.DM)
    kind: Mapped[str] = mapped_column(String(40))
    urgency: Mapped[str] = mapped_column(String(8), default=Urgency.NORMAL)
    group_key: Mapped[str] = mapped_column(String(120), default="")
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    # {"events": [{"kind", "text"}...]} for event notifications; {"message": {...}} for a built digest.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default=NotificationStatus.PENDING)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    first_failed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    delivered_via: Mapped[str | None] = mapped_column(String(8))
    external_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class NotificationEvent(Base):
    """One domain event, recorded once by its key, and the notification it joined."""

    __tablename__ = "notification_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id", ondelete="CASCADE"), index=True)
    event_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class NotificationDelivery(Base):
    """Each delivery attempt: when, through which channel, and what came of it."""

    __tablename__ = "notification_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(8))
    ok: Mapped[bool] = mapped_column(Boolean)
    detail: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ScheduleRun(Base):
    """The last slot a scheduled job covered: a restart resumes from here, so a missed slot runs once."""

    __tablename__ = "schedule_runs"

    job: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_run: Mapped[datetime] = mapped_column(UtcDateTime)


@dataclass
class NewNotification:
    recipient: str
    kind: str
    idempotency_key: str
    payload: dict[str, Any]
    due_at: datetime
    target: str = Target.DM
    urgency: str = Urgency.NORMAL
    group_key: str = ""
    created_at: datetime | None = None


def _insert(session: AsyncSession, table: Any) -> Any:
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    return (postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table))


class NotificationRepository:
    def __init__(self, session: AsyncSession, scope: Scope) -> None:
        self.session = session
        self.scope = scope

    # --- preferences
    async def preferences(self, slack_id: str) -> Preferences:
        row = await self._preference_row(slack_id)
        return row.as_preferences() if row is not None else Preferences()

    async def all_preferences(self) -> dict[str, Preferences]:
        """Everyone's stored choices (people who never changed them are not here: they have the defaults)."""
        rows = await self.session.scalars(select(NotificationPreference).where(
            NotificationPreference.workspace_id == self.scope.workspace_id))
        return {r.slack_id: r.as_preferences() for r in rows}

    async def save_preferences(self, slack_id: str, prefs: Preferences) -> tuple[Preferences, Preferences]:
        """Store the person's choices; returns (before, after)."""
        row = await self._preference_row(slack_id)
        before = row.as_preferences() if row is not None else Preferences()
        if row is None:
            row = NotificationPreference(workspace_id=self.scope.workspace_id, slack_id=slack_id)
            self.session.add(row)
        row.muted_kinds = sorted(prefs.muted)
        row.quiet_start, row.quiet_end = prefs.quiet_start, prefs.quiet_end
        row.digest_weekday, row.digest_hour, row.digest_enabled = (prefs.digest_weekday, prefs.digest_hour,
                                                                   prefs.digest_enabled)
        row.updated_at = utcnow()
        await self.session.flush()
        return before, prefs

    async def _preference_row(self, slack_id: str) -> NotificationPreference | None:
        return await self.session.scalar(select(NotificationPreference).where(
            NotificationPreference.workspace_id == self.scope.workspace_id,
            NotificationPreference.slack_id == slack_id))

    # --- events and notifications
    async def event_seen(self, event_key: str) -> bool:
        return await self.session.scalar(select(NotificationEvent.id).where(
            NotificationEvent.event_key == event_key)) is not None

    async def open_group(self, recipient: str, group_key: str, since: datetime) -> Notification | None:
        """A pending notification of this group, created since `since`, that a related event can join."""
        return await self.session.scalar(select(Notification).where(
            Notification.workspace_id == self.scope.workspace_id, Notification.recipient == recipient,
            Notification.group_key == group_key, Notification.status == NotificationStatus.PENDING,
            Notification.attempts == 0, Notification.created_at >= since,
        ).order_by(Notification.id.desc()).limit(1).with_for_update())

    async def add(self, new: NewNotification) -> Notification:
        row = Notification(workspace_id=self.scope.workspace_id, recipient=new.recipient, target=new.target,
                           kind=new.kind, urgency=new.urgency, group_key=new.group_key,
                           idempotency_key=new.idempotency_key, payload=new.payload, due_at=new.due_at,
                           status=NotificationStatus.PENDING, created_at=new.created_at or utcnow())
        self.session.add(row)
        await self.session.flush()
        return row

    async def add_event(self, notification: Notification, event_key: str, kind: str) -> None:
        self.session.add(NotificationEvent(workspace_id=self.scope.workspace_id, notification_id=notification.id,
                                           event_key=event_key, kind=kind))
        await self.session.flush()

    async def add_many_once(self, rows: list[NewNotification]) -> int:
        """Insert notifications whose key is new; a key already there is left alone. Returns how many were new."""
        if not rows:
            return 0
        values = [dict(workspace_id=self.scope.workspace_id, recipient=r.recipient, target=r.target, kind=r.kind,
                       urgency=r.urgency, group_key=r.group_key, idempotency_key=r.idempotency_key,
                       payload=r.payload, due_at=r.due_at, status=NotificationStatus.PENDING, attempts=0,
                       created_at=utcnow()) for r in rows]
        inserted = 0
        for start in range(0, len(values), 500):
            statement = _insert(self.session, Notification).values(values[start:start + 500])
            statement = statement.on_conflict_do_nothing(index_elements=["idempotency_key"])
            result = await self.session.execute(statement)
            inserted += max(0, result.rowcount or 0)  # type: ignore[attr-defined]
        return inserted

    async def existing_keys(self, keys: list[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(keys), 500):
            found |= set(await self.session.scalars(select(Notification.idempotency_key).where(
                Notification.idempotency_key.in_(keys[start:start + 500]))))
        return found

    async def due(self, now: datetime, stale_before: datetime, limit: int = 200) -> list[Notification]:
        return list(await self.session.scalars(select(Notification).where(
            Notification.workspace_id == self.scope.workspace_id,
            ((Notification.status == NotificationStatus.PENDING) & (Notification.due_at <= now))
            | ((Notification.status == NotificationStatus.SENDING) & (Notification.claimed_at < stale_before)),
        ).order_by(Notification.due_at, Notification.id).limit(limit)))

    async def get(self, notification_id: int) -> Notification | None:
        row = await self.session.get(Notification, notification_id)
        return row if row is not None and row.workspace_id == self.scope.workspace_id else None

    async def claim(self, notification_id: int, now: datetime, stale_before: datetime) -> bool:
        """pending (due) or stale sending -> sending; atomic, so two runs never both send one notification."""
        result = await self.session.execute(update(Notification).where(
            Notification.id == notification_id, Notification.workspace_id == self.scope.workspace_id,
            ((Notification.status == NotificationStatus.PENDING) & (Notification.due_at <= now))
            | ((Notification.status == NotificationStatus.SENDING) & (Notification.claimed_at < stale_before)),
        ).values(status=NotificationStatus.SENDING, claimed_at=now, attempts=Notification.attempts + 1)
            .execution_options(synchronize_session=False))
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def set_status(self, notification_id: int, status: str, **values: Any) -> None:
        await self.session.execute(update(Notification).where(Notification.id == notification_id)
                                   .values(status=status, **values).execution_options(synchronize_session=False))

    async def record_delivery(self, notification_id: int, channel: str, ok: bool, detail: str, at: datetime) -> None:
        self.session.add(NotificationDelivery(workspace_id=self.scope.workspace_id, notification_id=notification_id,
                                              channel=channel, ok=ok, detail=detail[:2000], at=at))

    async def deliveries(self, notification_id: int) -> list[NotificationDelivery]:
        return list(await self.session.scalars(select(NotificationDelivery).where(
            NotificationDelivery.notification_id == notification_id).order_by(NotificationDelivery.id)))

    async def nudges_since(self, recipient: str, since: datetime) -> int:
        """Non-urgent DMs delivered to this person since `since` (the start of their local day)."""
        return int(await self.session.scalar(select(func.count()).select_from(Notification).where(
            Notification.workspace_id == self.scope.workspace_id, Notification.recipient == recipient,
            Notification.target == Target.DM, Notification.urgency == Urgency.NORMAL,
            Notification.status == NotificationStatus.SENT, Notification.kind != "weekly_digest",
            Notification.delivered_at >= since)) or 0)

    async def held_for(self, recipient: str) -> list[Notification]:
        return list(await self.session.scalars(select(Notification).where(
            Notification.workspace_id == self.scope.workspace_id, Notification.recipient == recipient,
            Notification.status == NotificationStatus.HELD).order_by(Notification.id)))

    async def held_by_recipient(self) -> dict[str, list[Notification]]:
        rows = await self.session.scalars(select(Notification).where(
            Notification.workspace_id == self.scope.workspace_id,
            Notification.status == NotificationStatus.HELD).order_by(Notification.id))
        held: dict[str, list[Notification]] = {}
        for row in rows:
            held.setdefault(row.recipient, []).append(row)
        return held

    async def mark_digested(self, ids: list[int]) -> None:
        if ids:
            await self.session.execute(update(Notification).where(Notification.id.in_(ids)).values(
                status=NotificationStatus.DIGESTED).execution_options(synchronize_session=False))

    async def on_home(self, recipient: str, limit: int = 5) -> list[Notification]:
        """Notifications nothing could deliver, newest first: the App Home shows them."""
        return list(await self.session.scalars(select(Notification).where(
            Notification.workspace_id == self.scope.workspace_id, Notification.recipient == recipient,
            Notification.status == NotificationStatus.ON_HOME).order_by(Notification.id.desc()).limit(limit)))


class ScheduleRuns:
    """Compare-and-set on a job's last run: of two schedulers (or a restart), one covers each window."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def last_run(self, job: str) -> datetime | None:
        return await self.session.scalar(select(ScheduleRun.last_run).where(ScheduleRun.job == job))

    async def advance(self, job: str, previous: datetime | None, now: datetime) -> bool:
        """Move the job's last run from `previous` to `now`; False when someone else moved it first."""
        if previous is None:
            statement = _insert(self.session, ScheduleRun).values(job=job, last_run=now)
            result = await self.session.execute(statement.on_conflict_do_nothing(index_elements=["job"]))
            return bool(result.rowcount)  # type: ignore[attr-defined]
        result = await self.session.execute(update(ScheduleRun).where(
            ScheduleRun.job == job, ScheduleRun.last_run == previous).values(last_run=now)
            .execution_options(synchronize_session=False))
        return bool(result.rowcount)  # type: ignore[attr-defined]


GROUP_WINDOW = timedelta(minutes=3)
