"""The database layer's own behaviour: pool warming, plain readers, snapshots."""

from __future__ import annotations

from sqlalchemy import text

from storage.db import Database
from storage.migrate import upgrade_async
from tests.support import postgres_database, require_service


async def test_warming_opens_pooled_connections_up_front_and_readers_need_no_transaction() -> None:
    require_service("PostgreSQL", "127.0.0.1", 5432)
    async with postgres_database() as url:
        await upgrade_async(url)
        db = Database(url)
        try:
            await db.warm(5)
            pool = db.engine.sync_engine.pool
            assert pool.checkedin() == 5 and pool.checkedout() == 0  # type: ignore[attr-defined]
            async with db.reader() as session:  # autocommit: each statement is a transaction of its own
                first = await session.scalar(text("SELECT now()"))
                assert await session.scalar(text("SELECT now()")) != first
            async with db.snapshot() as session:
                first = await session.scalar(text("SELECT now()"))
                assert await session.scalar(text("SELECT now()")) == first  # one transaction throughout
        finally:
            await db.dispose()
