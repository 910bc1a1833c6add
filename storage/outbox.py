"""The outbox: outward work recorded with the change that needs it, drained by jobs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import OutboxStatus
from storage.models import Outbox, utcnow
from storage.scope import Scope


class OutboxRepository:
    def __init__(self, session: AsyncSession, scope: Scope | None = None) -> None:
        self.session = session
        self.scope = scope

    async def add(self, *, workspace_id: str, destination: str, kind: str, idempotency_key: str,
                  payload: dict[str, Any]) -> Outbox:
        """Record outward work once per idempotency key; a repeat returns the existing row."""
        existing = await self.session.scalar(select(Outbox).where(Outbox.idempotency_key == idempotency_key))
        if existing is not None:
            return existing
        row = Outbox(
            workspace_id=workspace_id,
            destination=destination,
            kind=kind,
            idempotency_key=idempotency_key,
            payload=payload,
            status=OutboxStatus.PENDING,
        )
        self.session.add(row)
        await self.session.flush()
        return row

    async def due(self, destination: str, *, limit: int = 50) -> list[Outbox]:
        """Rows waiting to be sent, oldest first; rows left in `sending` by a crash come back too."""
        query = (
            select(Outbox)
            .where(
                Outbox.destination == destination,
                Outbox.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING]),
            )
            .order_by(Outbox.id)
            .limit(limit)
        )
        if self.scope is not None:
            query = query.where(Outbox.workspace_id == self.scope.workspace_id)
        return list(await self.session.scalars(query))

    async def claim(self, outbox_id: int, *, stale_before: datetime) -> bool:
        """Take a row for sending: a pending one, or one whose sender vanished before `stale_before`.

        False when another drain holds it; the conditional update makes the claim atomic.
        """
        result = await self.session.execute(
            update(Outbox)
            .where(
                Outbox.id == outbox_id,
                or_(
                    Outbox.status == OutboxStatus.PENDING,
                    and_(Outbox.status == OutboxStatus.SENDING, Outbox.claimed_at < stale_before),
                ),
            )
            .values(status=OutboxStatus.SENDING, attempts=Outbox.attempts + 1, claimed_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def mark_sent(self, outbox_id: int, external_id: str | None) -> None:
        await self.session.execute(
            update(Outbox)
            .where(Outbox.id == outbox_id)
            .values(status=OutboxStatus.SENT, external_id=external_id, sent_at=utcnow(), last_error=None)
        )

    async def mark_retry(self, outbox_id: int, error: str, *, give_up: bool) -> None:
        status = OutboxStatus.FAILED if give_up else OutboxStatus.PENDING
        await self.session.execute(
            update(Outbox).where(Outbox.id == outbox_id).values(status=status, last_error=error[:2000])
        )

    async def get(self, outbox_id: int) -> Outbox | None:
        return await self.session.get(Outbox, outbox_id)
