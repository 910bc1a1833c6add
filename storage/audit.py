"""The audit log: append-only, hash-chained entries of every state change and every denial.

An entry is written in the transaction of the change it records, unsealed (no position, no hash),
so recording a change never waits for other writers. A sealer then chains committed entries in the
order it finds them: it gives each the next position (seq), the previous entry's hash and its own,
sha256(prev_hash + canonical JSON of the entry). Sealing is serialised (a transaction-level
advisory lock on PostgreSQL; SQLite has one writer), so the chain is a single line. Each process
seals right after its own commits (storage.db.Database runs an AuditSealer); `liftoff audit verify`
and the daily purge seal whatever is left first. An unsealed entry is only as safe as the table
until it is sealed, which is a moment after its commit.
A purge removes the oldest entries; verification starts from the oldest kept entry's prev_hash,
so a purged chain still verifies.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String, Text, delete, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, utcnow
from storage.scope import Scope

log = logging.getLogger(__name__)

GENESIS_HASH = "0" * 64
# session.info key: this transaction appended entries, so they want sealing once it commits.
UNSEALED = "audit_unsealed"
# The workspace id of entries about the whole log (a retention purge), not about one workspace.
ALL_WORKSPACES = "*"
PURGED_ACTION = "audit.purged"
# pg_advisory_xact_lock key: any constant unique to the audit chain.
AUDIT_LOCK_KEY = 0x4C494654_41554454
SEAL_BATCH = 1000
SEAL_DELAY_S = 0.05


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
    # Position in the chain, hash of the entry before and of this one: all None until sealed.
    seq: Mapped[int | None] = mapped_column(Integer, unique=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64), unique=True)
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
    ) -> None:
        """Record a change in the current transaction; it is chained (sealed) once committed.

        A plain INSERT, not an ORM object: every change writes one, and the unit of work's bookkeeping for an
        object nobody reads back was the larger part of a short request's database time."""
        await self.session.execute(insert(AuditEntry.__table__).values(
            workspace_id=self.scope.workspace_id,
            actor=actor[:64],
            action=action,
            target=target[:200],
            before=_plain(before),
            after=_plain(after),
            at=utcnow(),
            note=note,
        ))
        self.session.info[UNSEALED] = True

    async def entries(self, limit: int = 100) -> list[AuditEntry]:
        query = (
            select(AuditEntry)
            .where(AuditEntry.workspace_id == self.scope.workspace_id)
            .order_by(AuditEntry.id.desc())
            .limit(limit)
        )
        return list(await self.session.scalars(query))


async def seal_pending(session: AsyncSession, *, limit: int = SEAL_BATCH) -> int:
    """Chain up to `limit` committed, unsealed entries (oldest id first); how many were sealed.

    Call in a write transaction: the chain's tail is read under the chain lock, so two sealers never
    give out the same position.
    """
    await lock_chain(session)
    tail = (await session.execute(
        select(AuditEntry.seq, AuditEntry.hash).where(AuditEntry.seq.is_not(None)).order_by(AuditEntry.seq.desc())
        .limit(1)
    )).first()
    seq, prev_hash = (tail[0], tail[1]) if tail is not None else (0, GENESIS_HASH)
    pending = list(await session.scalars(
        select(AuditEntry).where(AuditEntry.seq.is_(None)).order_by(AuditEntry.id).limit(limit)
    ))
    for entry in pending:
        seq += 1
        entry.seq = seq
        entry.prev_hash = prev_hash
        entry.hash = prev_hash = entry_hash(prev_hash, entry)
    await session.flush()
    return len(pending)


class AuditSealer:
    """Seals a process's committed entries in the background, batching whatever has piled up.

    `request()` is cheap and never waits; the sealing runs in a task of the running event loop.
    `flush()` seals everything now (the CLI, tests, and a process about to exit use it).
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._wanted: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._requested = False
        self._closing = False

    def request(self) -> None:
        self._requested = True
        if self._wanted is None:
            self._wanted = asyncio.Event()
        self._wanted.set()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="audit-sealer")

    async def _run(self) -> None:
        assert self._wanted is not None
        while not self._closing:
            await self._wanted.wait()
            if not self._closing:
                # Let the commits of a busy moment pile up, so one sealing transaction chains them all
                # instead of one per request; verify/export/purge flush first, so nothing reads a gap.
                await asyncio.sleep(SEAL_DELAY_S)
            self._wanted.clear()
            try:
                await self.flush()
            except Exception:  # the database briefly away: try again shortly
                log.warning("could not seal audit entries; retrying", exc_info=True)
                if not self._closing:
                    await asyncio.sleep(1.0)
                    self._wanted.set()

    async def flush(self) -> int:
        """Seal every committed entry that is not sealed yet; how many."""
        total = 0
        while True:
            async with self._sessions() as session, session.begin():
                sealed = await seal_pending(session, limit=SEAL_BATCH)
            total += sealed
            if sealed < SEAL_BATCH:
                return total

    async def close(self) -> None:
        """Seal what this process committed and stop; a seal in progress finishes, never cut off mid-transaction."""
        self._closing = True
        task, self._task = self._task, None
        if task is not None and self._wanted is not None and task.get_loop() is asyncio.get_running_loop():
            self._wanted.set()
            await task
        self._wanted = None
        self._closing = False
        if self._requested:
            await self.flush()


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
        """The sealed entries in chain order."""
        query = select(AuditEntry).where(AuditEntry.seq.is_not(None)).order_by(AuditEntry.seq)
        if since is not None:
            query = query.where(AuditEntry.at >= since)
        # populate_existing: an entry this session loaded before it was sealed is read afresh.
        options = {"yield_per": 500, "populate_existing": True}
        async for entry in await self.session.stream_scalars(query.execution_options(**options)):
            yield entry

    async def verify(self) -> Verification:
        """The first sealed entry whose hash or link does not match, or ok (seal pending entries first)."""
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
            yield {**entry_document(entry), "seq": entry.seq, "prev_hash": entry.prev_hash, "hash": entry.hash}

    async def purge_before(self, cutoff: datetime) -> int:
        """Delete the chain's oldest entries, up to the first one at or after cutoff (retention).

        Only a prefix is ever removed, so the kept tail verifies even when clocks of different
        processes put an older timestamp after a newer one; such an entry is kept until its turn.
        """
        await seal_pending(self.session)  # takes the chain lock; everything committed is in the chain now
        first_kept = await self.session.scalar(
            select(func.min(AuditEntry.seq)).where(AuditEntry.seq.is_not(None), AuditEntry.at >= cutoff)
        )
        query = delete(AuditEntry).where(AuditEntry.seq.is_not(None))
        if first_kept is not None:
            query = query.where(AuditEntry.seq < first_kept)
        result = await self.session.execute(query)
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def purge_expired(self, cutoff: datetime, *, actor: str = "retention") -> int:
        """Apply retention and, when something went, say so in the log itself. Idempotent: a second run
        with the same cutoff removes nothing and writes nothing."""
        removed = await self.purge_before(cutoff)
        if removed:
            await AuditLog(self.session, Scope(ALL_WORKSPACES)).append(
                actor=actor, action=PURGED_ACTION, target="audit_entries",
                after={"removed": removed, "older_than": _timestamp(cutoff)},
            )
        return removed

    async def count(self) -> int:
        return int(await self.session.scalar(select(func.count(AuditEntry.id))) or 0)

    async def unsealed(self) -> int:
        return int(await self.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.seq.is_(None))) or 0)
