"""The audit log: append-only, hash-chained entries of every state change and every denial.

Each entry stores the previous entry's hash and its own: sha256(prev_hash + canonical JSON of the
entry). Appends are serialised (a transaction-level advisory lock on PostgreSQL; SQLite has one
writer), so the chain is a single line. A purge removes the oldest entries; verification starts
from the oldest kept entry's prev_hash, so a purged chain still verifies.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String, Text, delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, utcnow
from storage.scope import Scope

GENESIS_HASH = "0" * 64
# pg_advisory_xact_lock key: any constant unique to the audit chain.
AUDIT_LOCK_KEY = 0x4C494654_41554454


class AuditEntry(Base):
    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Not a foreign key: the log outlives the workspace rows it talks about.
    workspace_id: Mapped[str] = mapped_column(String(32), index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(200), default="")
    before: Mapped[Any] = mapped_column(JSON, nullable=True)
    after: Mapped[Any] = mapped_column(JSON, nullable=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    note: Mapped[str] = mapped_column(Text, default="")


def _timestamp(at: datetime) -> str:
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _plain(value: Any) -> Any:
    """A JSON-native copy (dates become strings), so what is stored reads back identically."""
    return None if value is None else json.loads(json.dumps(value, default=str))


def entry_document(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "workspace_id": entry.workspace_id,
        "actor": entry.actor,
        "action": entry.action,
        "target": entry.target,
        "before": entry.before,
        "after": entry.after,
        "at": _timestamp(entry.at),
        "note": entry.note,
    }


def entry_hash(prev_hash: str, entry: AuditEntry) -> str:
    canonical = json.dumps(entry_document(entry), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


class AuditLog:
    """Appends to the chain on behalf of one workspace."""

    def __init__(self, session: AsyncSession, scope: Scope) -> None:
        self.session = session
        self.scope = scope

    async def append(
        self, *, actor: str, action: str, target: str = "", before: Any = None, after: Any = None, note: str = ""
    ) -> AuditEntry:
        await lock_chain(self.session)
        last = await self.session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1))
        prev_hash = last.hash if last is not None else GENESIS_HASH
        entry = AuditEntry(
            workspace_id=self.scope.workspace_id,
            actor=actor[:64],
            action=action,
            target=target[:200],
            before=_plain(before),
            after=_plain(after),
            at=utcnow(),
            prev_hash=prev_hash,
            hash="pending:" + prev_hash[:56],
            note=note,
        )
        self.session.add(entry)
        await self.session.flush()  # the id is part of what is hashed
        entry.hash = entry_hash(prev_hash, entry)
        await self.session.flush()
        return entry

    async def entries(self, limit: int = 100) -> list[AuditEntry]:
        query = (
            select(AuditEntry)
            .where(AuditEntry.workspace_id == self.scope.workspace_id)
            .order_by(AuditEntry.id.desc())
            .limit(limit)
        )
        return list(await self.session.scalars(query))


async def lock_chain(session: AsyncSession) -> None:
    """Serialise appends until this transaction ends (PostgreSQL); SQLite already has one writer."""
    if session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_LOCK_KEY})


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    first_bad_id: int | None = None
    problem: str = ""


class AuditChain:
    """The whole chain, across workspaces: verify, export, purge. For the operator's CLI."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _ordered(self, since: datetime | None = None) -> AsyncIterator[AuditEntry]:
        query = select(AuditEntry).order_by(AuditEntry.id)
        if since is not None:
            query = query.where(AuditEntry.at >= since)
        async for entry in await self.session.stream_scalars(query.execution_options(yield_per=500)):
            yield entry

    async def verify(self) -> Verification:
        """The first entry whose hash or link does not match, or ok."""
        expected_prev: str | None = None
        checked = 0
        async for entry in self._ordered():
            if expected_prev is not None and entry.prev_hash != expected_prev:
                return Verification(False, checked, entry.id, "its prev_hash does not match the entry before it")
            if entry_hash(entry.prev_hash, entry) != entry.hash:
                return Verification(False, checked, entry.id, "its content does not match its hash")
            expected_prev = entry.hash
            checked += 1
        return Verification(True, checked)

    async def export(self, since: datetime) -> AsyncIterator[dict[str, Any]]:
        async for entry in self._ordered(since):
            yield {**entry_document(entry), "prev_hash": entry.prev_hash, "hash": entry.hash}

    async def purge_before(self, cutoff: datetime) -> int:
        """Delete entries older than cutoff (retention). The kept tail still verifies."""
        await lock_chain(self.session)
        result = await self.session.execute(delete(AuditEntry).where(AuditEntry.at < cutoff))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def count(self) -> int:
        return int(await self.session.scalar(select(func.count(AuditEntry.id))) or 0)
