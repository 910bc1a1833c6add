"""`liftoff audit verify|export|purge`: check the hash chain, write it out as JSON lines, apply retention."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from typing import TextIO

from bot.settings import Settings
from storage.audit import AuditChain
from storage.db import Database


def parse_day(text: str) -> datetime:
    """A YYYY-MM-DD date (or full ISO timestamp) as an aware UTC datetime."""
    value = datetime.fromisoformat(text)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


async def verify(settings: Settings, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    db = Database(settings.database_url)
    try:
        await db.audit.flush()
        async with db.snapshot() as session:
            result = await AuditChain(session).verify()
    finally:
        await db.dispose()
    if result.ok:
        print(f"ok ({result.checked} entries)", file=out)
        return 0
    print(f"tampered: entry {result.first_bad_id}: {result.problem}", file=out)
    return 1


async def export(settings: Settings, since: datetime, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    db = Database(settings.database_url)
    try:
        await db.audit.flush()
        async with db.snapshot() as session:
            async for entry in AuditChain(session).export(since):
                out.write(json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n")
    finally:
        await db.dispose()
    return 0


async def purge(settings: Settings, out: TextIO | None = None, *, now: datetime | None = None) -> int:
    cutoff = (now or datetime.now(UTC)) - timedelta(days=settings.audit_retention_days)
    out = out or sys.stdout
    db = Database(settings.database_url)
    try:
        async with db.session() as session:
            removed = await AuditChain(session).purge_expired(cutoff, actor="cli")
    finally:
        await db.dispose()
    print(f"removed {removed} entries older than {cutoff.date().isoformat()}", file=out)
    return 0
