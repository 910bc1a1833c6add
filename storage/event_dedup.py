"""Events API deliveries seen: Slack retries (X-Slack-Retry-Num) and repeated event_ids run once."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import DateTime, String, delete
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, utcnow
from storage.workspaces import insert_ignoring_duplicates

# Slack retries for about an hour (3 tries with backoff); a day leaves a wide margin.
KEEP_FOR = timedelta(days=1)


class ProcessedEvent(Base):
    __tablename__ = "processed_events"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(32), default="")
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class EventLedger:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def first_sight(self, event_id: str, workspace_id: str) -> bool:
        """Record the event id; True only the first time it is seen."""
        now = utcnow()
        result = await self.session.execute(
            insert_ignoring_duplicates(self.session, ProcessedEvent).values(
                event_id=event_id[:64], workspace_id=(workspace_id or "")[:32], received_at=now
            )
        )
        await self.session.execute(delete(ProcessedEvent).where(ProcessedEvent.received_at < now - KEEP_FOR))
        return bool(result.rowcount)  # type: ignore[attr-defined]
