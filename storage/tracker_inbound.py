"""Inbound tracker state: each connection's webhook secret (encrypted by the caller), its reconcile mark and
the reconcile's last failure; the reads that find a task by its remote item, and a connection's sync state.

The secret is a Fernet token written by agents/tracker_inbound.py; this module never sees it in clear.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey, Text, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.enums import OutboxStatus
from storage.models import Base, Outbox, utcnow
from storage.okr_enums import ProgressSource
from storage.okr_models import KeyResult
from storage.scope import Scope
from storage.trackers import ConnectionStatus, LaunchTracker, TrackerConnection, TrackerLink, destination_of

# The sync pass leaves this error on a row that waits for its task's review: waiting, not failing.
WAITING_FOR_REVIEW = "waiting for the task's review"


class SyncHealth:
    IN_SYNC = "in_sync"
    PENDING = "pending"
    FAILING = "failing"


@dataclass(frozen=True)
class TrackerSyncState:
    """What the health card says about one tracker connection."""

    kind: str
    name: str
    state: str  # a SyncHealth value
    pending: int = 0
    failing_since: datetime | None = None
    last_error: str | None = None


class TrackerInbound(Base):
    """One row per tracker connection that takes webhooks or is reconciled."""

    __tablename__ = "tracker_inbound"

    connection_id: Mapped[int] = mapped_column(ForeignKey("tracker_connections.id", ondelete="CASCADE"),
                                               primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    # Fernet token of the webhook signing secret (ours for Linear and Jira; the handshake's for Asana and Notion).
    webhook_secret: Mapped[str | None] = mapped_column(Text)
    secret_set_at: Mapped[datetime | None] = mapped_column()
    reconciled_at: Mapped[datetime | None] = mapped_column()  # changes up to this time have been pulled
    last_event_at: Mapped[datetime | None] = mapped_column()  # the last webhook that was applied
    failing_since: Mapped[datetime | None] = mapped_column()  # the reconcile has failed since then
    last_error: Mapped[str | None] = mapped_column(Text)


class InboundRepository:
    def __init__(self, session: AsyncSession, scope: Scope) -> None:
        self.session = session
        self.scope = scope

    async def state(self, connection_id: int) -> TrackerInbound | None:
        return await self.session.scalar(select(TrackerInbound).where(
            TrackerInbound.connection_id == connection_id, TrackerInbound.workspace_id == self.scope.workspace_id))

    async def ensure(self, connection_id: int) -> TrackerInbound:
        row = await self.state(connection_id)
        if row is None:
            row = TrackerInbound(connection_id=connection_id, workspace_id=self.scope.workspace_id)
            self.session.add(row)
            await self.session.flush()
        return row

    async def set_secret(self, connection_id: int, encrypted: str, *, only_if_empty: bool) -> bool:
        """Store the webhook secret; with only_if_empty, a secret already there wins (False: not stored)."""
        row = await self.ensure(connection_id)
        query = update(TrackerInbound).where(TrackerInbound.connection_id == connection_id,
                                             TrackerInbound.workspace_id == self.scope.workspace_id)
        if only_if_empty:
            query = query.where(TrackerInbound.webhook_secret.is_(None))
        result = await self.session.execute(query.values(webhook_secret=encrypted, secret_set_at=utcnow())
                                            .execution_options(synchronize_session=False))
        await self.session.refresh(row)
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def mark_reconciled(self, connection_id: int, at: datetime) -> None:
        row = await self.ensure(connection_id)
        row.reconciled_at, row.failing_since, row.last_error = at, None, None

    async def record_failure(self, connection_id: int, error: str) -> None:
        row = await self.ensure(connection_id)
        row.failing_since = row.failing_since or utcnow()
        row.last_error = error[:2000]

    async def record_event(self, connection_id: int) -> None:
        row = await self.ensure(connection_id)
        row.last_event_at = utcnow()

    async def links_by_external(self, connection_id: int, external_ids: Sequence[str]) -> dict[str, TrackerLink]:
        if not external_ids:
            return {}
        rows = await self.session.scalars(select(TrackerLink).where(
            TrackerLink.workspace_id == self.scope.workspace_id, TrackerLink.connection_id == connection_id,
            TrackerLink.external_id.in_(list(external_ids))))
        return {str(row.external_id): row for row in rows}

    async def link_for_update(self, link_id: int) -> TrackerLink | None:
        return await self.session.scalar(select(TrackerLink).where(
            TrackerLink.workspace_id == self.scope.workspace_id, TrackerLink.id == link_id)
            .execution_options(populate_existing=True))

    async def jira_connection(self) -> TrackerConnection | None:
        """The workspace's first active Jira connection (JQL-driven key results count with it)."""
        return await self.session.scalar(select(TrackerConnection).where(
            TrackerConnection.workspace_id == self.scope.workspace_id, TrackerConnection.kind == "jira",
            TrackerConnection.status == ConnectionStatus.ACTIVE).order_by(TrackerConnection.id).limit(1))

    async def sync_state(self, connection: TrackerConnection) -> TrackerSyncState:
        """In sync, N pending, or failing since a time with the last error (stopped, rows failing, reconcile)."""
        if connection.status != ConnectionStatus.ACTIVE:
            return TrackerSyncState(connection.kind, connection.name, SyncHealth.FAILING,
                                    failing_since=connection.stopped_at, last_error=connection.stop_reason)
        destination = destination_of(connection.id)
        base = (Outbox.workspace_id == self.scope.workspace_id, Outbox.destination == destination)
        pending = int(await self.session.scalar(select(func.count(Outbox.id)).where(
            *base, Outbox.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING]))) or 0)
        last_sent = await self.session.scalar(select(func.max(Outbox.sent_at)).where(
            *base, Outbox.status == OutboxStatus.SENT))
        failing_rows = select(Outbox.created_at, Outbox.last_error).where(
            *base, Outbox.last_error.is_not(None), Outbox.last_error != WAITING_FOR_REVIEW,
            Outbox.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.FAILED]))
        if last_sent is not None:  # a row given up before the last success is history, not a failure now
            failing_rows = failing_rows.where(
                (Outbox.status != OutboxStatus.FAILED) | (Outbox.created_at > last_sent))
        failing = list(await self.session.execute(failing_rows.order_by(Outbox.created_at)))
        inbound = await self.state(connection.id)
        candidates = [(row[0], row[1]) for row in failing[:1]]
        if inbound is not None and inbound.failing_since is not None:
            candidates.append((inbound.failing_since, f"reconcile: {inbound.last_error or 'failed'}"))
        if candidates:
            since = min(at for at, _ in candidates)
            latest_error = failing[-1][1] if failing else candidates[0][1]
            return TrackerSyncState(connection.kind, connection.name, SyncHealth.FAILING, pending=pending,
                                    failing_since=since, last_error=latest_error)
        if pending:
            return TrackerSyncState(connection.kind, connection.name, SyncHealth.PENDING, pending=pending)
        return TrackerSyncState(connection.kind, connection.name, SyncHealth.IN_SYNC)

    async def urls_of_launch(self, connection_id: int, launch_id: int) -> dict[int, str]:
        """Task id -> its remote item's URL, for the tasks of a launch that have one."""
        rows = await self.session.execute(select(TrackerLink.task_id, TrackerLink.external_url).where(
            TrackerLink.workspace_id == self.scope.workspace_id, TrackerLink.connection_id == connection_id,
            TrackerLink.launch_id == launch_id, TrackerLink.external_url.is_not(None)))
        return {int(task_id): str(url) for task_id, url in rows}


async def launch_tracker_view(session: AsyncSession, scope: Scope, launch_id: int
                              ) -> tuple[TrackerSyncState | None, dict[int, str]]:
    """For a launch's health card: its tracker's sync state and each task's remote URL (none: no tracker)."""
    connection = await session.scalar(
        select(TrackerConnection).join(LaunchTracker, LaunchTracker.connection_id == TrackerConnection.id)
        .where(LaunchTracker.launch_id == launch_id, LaunchTracker.workspace_id == scope.workspace_id))
    if connection is None:
        return None, {}
    inbound = InboundRepository(session, scope)
    return await inbound.sync_state(connection), await inbound.urls_of_launch(connection.id, launch_id)


async def webhook_connection(session: AsyncSession, kind: str, connection_id: int
                             ) -> tuple[TrackerConnection, TrackerInbound | None] | None:
    """The connection a webhook URL names, in whichever workspace it is (the URL is the only key a tracker
    sends), with its inbound row; None for an unknown id or one of another kind."""
    connection = await session.scalar(select(TrackerConnection).where(
        TrackerConnection.id == connection_id, TrackerConnection.kind == kind))
    if connection is None:
        return None
    inbound = await session.scalar(select(TrackerInbound).where(TrackerInbound.connection_id == connection_id))
    return connection, inbound


async def workspaces_counting_jql(session: AsyncSession) -> list[str]:
    """Workspaces with an active Jira connection and a key result that follows a JQL count."""
    rows = await session.scalars(
        select(KeyResult.workspace_id).distinct()
        .join(TrackerConnection, TrackerConnection.workspace_id == KeyResult.workspace_id)
        .where(KeyResult.source == ProgressSource.JIRA, TrackerConnection.kind == "jira",
               TrackerConnection.status == ConnectionStatus.ACTIVE).order_by(KeyResult.workspace_id))
    return [str(ws) for ws in rows]


async def active_connections(session: AsyncSession) -> list[tuple[str, int]]:
    """(workspace id, connection id) of every active connection: the reconcile runs for each."""
    rows = await session.execute(select(TrackerConnection.workspace_id, TrackerConnection.id).where(
        TrackerConnection.status == ConnectionStatus.ACTIVE).order_by(TrackerConnection.id))
    return [(str(ws), int(cid)) for ws, cid in rows]
