"""Tracker connections (Linear, Jira, Notion, Asana), the launch's chosen tracker, and tracker links.

A tracker link is written *before* the remote create (external_id still empty: an intent) and completed after
it, so a crash between the remote call and the local write leaves a trace: whoever finds an intent looks the
remote item up by its idempotency marker before creating it again. Credentials are stored encrypted by the
caller (agents/tracker_sync.py); this module never sees them in clear.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint, and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.enums import OutboxStatus, Role
from storage.models import Base, Outbox, User, utcnow
from storage.scope import Scope

TRACKER_DESTINATION_PREFIX = "tracker:"


class TrackerKind(StrEnum):
    LINEAR = "linear"
    JIRA = "jira"
    NOTION = "notion"
    ASANA = "asana"


class ConnectionStatus(StrEnum):
    ACTIVE = "active"
    STOPPED = "stopped"  # a 4xx that will not heal (revoked key, deleted project): an Admin reconnects


class TrackerConnection(Base):
    __tablename__ = "tracker_connections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200), default="")
    # Fernet token of a JSON object of the secrets (API key, token, email); never stored in clear.
    credentials: Mapped[str] = mapped_column(Text)
    # Not secret: the team / project / database to sync into, the site URL, an optional rate limit.
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default=ConnectionStatus.ACTIVE)
    stop_reason: Mapped[str | None] = mapped_column(Text)
    stopped_at: Mapped[datetime | None] = mapped_column()
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def destination(self) -> str:
        return destination_of(self.id)


class LaunchTracker(Base):
    """The tracker a launch syncs to (at most one); no row: the launch syncs nowhere."""

    __tablename__ = "launch_trackers"

    launch_id: Mapped[int] = mapped_column(ForeignKey("launches.id", ondelete="CASCADE"), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("tracker_connections.id", ondelete="CASCADE"))


class TrackerLink(Base):
    """A task's remote item in one tracker. external_id empty: a create was attempted and may have happened."""

    __tablename__ = "tracker_links"
    __table_args__ = (UniqueConstraint("task_id", "connection_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("tracker_connections.id", ondelete="CASCADE"), index=True)
    launch_id: Mapped[int] = mapped_column(Integer, index=True)
    # Not a foreign key: a rejected or re-planned-away task is deleted, and its remote item must still be closed.
    task_id: Mapped[int] = mapped_column(Integer)
    external_id: Mapped[str | None] = mapped_column(String(200))
    external_key: Mapped[str | None] = mapped_column(String(100))  # e.g. Jira's "LIF-12", Linear's "ENG-4"
    external_url: Mapped[str | None] = mapped_column(Text)
    synced_hash: Mapped[str | None] = mapped_column(String(64))
    # Predecessor task id -> "pending" (a create was attempted) or "done".
    relations: Mapped[dict[str, Any]] = mapped_column(default=dict)
    closed: Mapped[bool] = mapped_column(default=False)
    last_synced_at: Mapped[datetime | None] = mapped_column()


def destination_of(connection_id: int) -> str:
    return f"{TRACKER_DESTINATION_PREFIX}{connection_id}"


class TrackerRepository:
    def __init__(self, session: AsyncSession, scope: Scope) -> None:
        self.session = session
        self.scope = scope

    # connections
    async def add_connection(self, *, kind: TrackerKind, name: str, credentials: str, settings: dict[str, Any],
                             created_by: str) -> TrackerConnection:
        row = TrackerConnection(workspace_id=self.scope.workspace_id, kind=kind, name=name, credentials=credentials,
                                settings=settings, created_by=created_by)
        self.session.add(row)
        await self.session.flush()
        return row

    async def connection(self, connection_id: int) -> TrackerConnection | None:
        return await self.session.scalar(select(TrackerConnection).where(
            TrackerConnection.id == connection_id, TrackerConnection.workspace_id == self.scope.workspace_id))

    async def connections(self) -> list[TrackerConnection]:
        return list(await self.session.scalars(select(TrackerConnection).where(
            TrackerConnection.workspace_id == self.scope.workspace_id).order_by(TrackerConnection.id)))

    async def stop(self, connection_id: int, reason: str) -> bool:
        """Stop an active connection; False when it was already stopped (so Admins are told once)."""
        result = await self.session.execute(
            update(TrackerConnection)
            .where(TrackerConnection.id == connection_id, TrackerConnection.workspace_id == self.scope.workspace_id,
                   TrackerConnection.status == ConnectionStatus.ACTIVE)
            .values(status=ConnectionStatus.STOPPED, stop_reason=reason[:2000], stopped_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def admins(self) -> list[str]:
        return list(await self.session.scalars(select(User.slack_id).where(
            User.workspace_id == self.scope.workspace_id, User.role == Role.ADMIN).order_by(User.id)))

    # a launch's tracker
    async def choose(self, launch_id: int, connection_id: int | None) -> None:
        await self.session.execute(delete(LaunchTracker).where(
            LaunchTracker.launch_id == launch_id, LaunchTracker.workspace_id == self.scope.workspace_id))
        if connection_id is not None:
            self.session.add(LaunchTracker(launch_id=launch_id, workspace_id=self.scope.workspace_id,
                                           connection_id=connection_id))
            await self.session.flush()

    async def launch_connection(self, launch_id: int) -> TrackerConnection | None:
        return await self.session.scalar(
            select(TrackerConnection)
            .join(LaunchTracker, LaunchTracker.connection_id == TrackerConnection.id)
            .where(LaunchTracker.launch_id == launch_id, LaunchTracker.workspace_id == self.scope.workspace_id)
        )

    # links
    async def link(self, connection_id: int, task_id: int) -> TrackerLink | None:
        return await self.session.scalar(select(TrackerLink).where(
            TrackerLink.workspace_id == self.scope.workspace_id, TrackerLink.connection_id == connection_id,
            TrackerLink.task_id == task_id))

    async def links_of_launch(self, connection_id: int, launch_id: int) -> list[TrackerLink]:
        return list(await self.session.scalars(select(TrackerLink).where(
            TrackerLink.workspace_id == self.scope.workspace_id, TrackerLink.connection_id == connection_id,
            TrackerLink.launch_id == launch_id).order_by(TrackerLink.id)))

    async def links_by_task(self, connection_id: int, task_ids: Sequence[int]) -> dict[int, TrackerLink]:
        if not task_ids:
            return {}
        rows = await self.session.scalars(select(TrackerLink).where(
            TrackerLink.workspace_id == self.scope.workspace_id, TrackerLink.connection_id == connection_id,
            TrackerLink.task_id.in_(list(task_ids))))
        return {row.task_id: row for row in rows}

    async def intend_create(self, connection_id: int, launch_id: int, task_id: int) -> TrackerLink:
        """The link row before the remote create: its existence means "look before creating again"."""
        link = await self.link(connection_id, task_id)
        if link is None:
            link = TrackerLink(workspace_id=self.scope.workspace_id, connection_id=connection_id,
                               launch_id=launch_id, task_id=task_id, relations={})
            self.session.add(link)
            await self.session.flush()
        return link

    async def intend_creates(self, connection_id: int, launch_task_ids: Sequence[tuple[int, int]]) -> None:
        """Intents for many (launch id, task id) pairs that have no link yet, in one flush."""
        self.session.add_all([TrackerLink(workspace_id=self.scope.workspace_id, connection_id=connection_id,
                                          launch_id=launch_id, task_id=task_id, relations={})
                              for launch_id, task_id in launch_task_ids])
        await self.session.flush()

    # the outbox rows of one tracker destination
    async def add_rows(self, destination: str, kind: str, rows: Sequence[tuple[str, dict[str, Any]]]) -> int:
        """Outbox rows (idempotency key, payload) in one flush; a key already present is skipped. Returns the count."""
        keys = [key for key, _ in rows]
        existing = set(await self.session.scalars(select(Outbox.idempotency_key).where(
            Outbox.idempotency_key.in_(keys)))) if keys else set()
        fresh = [Outbox(workspace_id=self.scope.workspace_id, destination=destination, kind=kind,
                        idempotency_key=key, payload=payload, status=OutboxStatus.PENDING)
                 for key, payload in rows if key not in existing]
        self.session.add_all(fresh)
        await self.session.flush()
        return len(fresh)

    async def claim_rows(self, ids: Sequence[int], *, stale_before: datetime) -> list[int]:
        """Claim many rows at once (pending ones, or ones whose sender vanished); the ids this call claimed."""
        if not ids:
            return []
        token = utcnow()
        await self.session.execute(
            update(Outbox)
            .where(Outbox.workspace_id == self.scope.workspace_id, Outbox.id.in_(list(ids)),
                   or_(Outbox.status == OutboxStatus.PENDING,
                       and_(Outbox.status == OutboxStatus.SENDING, Outbox.claimed_at < stale_before)))
            .values(status=OutboxStatus.SENDING, attempts=Outbox.attempts + 1, claimed_at=token)
            .execution_options(synchronize_session=False))
        return list(await self.session.scalars(select(Outbox.id).where(
            Outbox.id.in_(list(ids)), Outbox.status == OutboxStatus.SENDING, Outbox.claimed_at == token)))

    async def finish_rows(self, ids: Sequence[int], *, error: str | None, give_up: bool = False) -> None:
        """Rows sent (error None), back to pending with the error, or failed for good (give_up)."""
        if not ids:
            return
        if error is None:
            values: dict[str, Any] = {"status": OutboxStatus.SENT, "sent_at": utcnow(), "last_error": None}
        else:
            values = {"status": OutboxStatus.FAILED if give_up else OutboxStatus.PENDING, "last_error": error[:2000]}
        await self.session.execute(update(Outbox).where(
            Outbox.workspace_id == self.scope.workspace_id, Outbox.id.in_(list(ids))).values(**values)
            .execution_options(synchronize_session=False))

    async def due_rows(self, destination: str, *, limit: int = 500) -> list[Outbox]:
        return list(await self.session.scalars(
            select(Outbox)
            .where(Outbox.workspace_id == self.scope.workspace_id, Outbox.destination == destination,
                   Outbox.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING]))
            .order_by(Outbox.id).limit(limit)))

    async def pending_count(self, destination: str) -> int:
        return len(await self.due_rows(destination, limit=100_000))


async def connections_with_due_rows(session: AsyncSession, workspace_id: str | None = None) -> list[tuple[str, int]]:
    """(workspace id, connection id) of active connections with rows to sync; across workspaces for the scheduler's
    sync window (it enqueues one job per pair), or within one workspace."""
    rows = select(Outbox.workspace_id, Outbox.destination).distinct().where(
        Outbox.destination.startswith(TRACKER_DESTINATION_PREFIX),
        Outbox.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING]))
    active = select(TrackerConnection.workspace_id, TrackerConnection.id).where(
        TrackerConnection.status == ConnectionStatus.ACTIVE)
    if workspace_id is not None:
        rows = rows.where(Outbox.workspace_id == workspace_id)
        active = active.where(TrackerConnection.workspace_id == workspace_id)
    due = {(str(ws), str(destination)) for ws, destination in await session.execute(rows)}
    return sorted((str(ws), int(cid)) for ws, cid in await session.execute(active)
                  if (str(ws), destination_of(int(cid))) in due)


async def choose_tracker_in(session: AsyncSession, scope: Scope, launch_id: int, connection_id: int) -> bool:
    """The launch syncs to the connection when it is an active one of this workspace; False (nothing chosen) if not."""
    trackers = TrackerRepository(session, scope)
    connection = await trackers.connection(connection_id)
    if connection is None or connection.status != ConnectionStatus.ACTIVE:
        return False
    await trackers.choose(launch_id, connection.id)
    return True
