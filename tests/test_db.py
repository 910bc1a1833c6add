"""The database layer's own behaviour: the migrations build the models' schema; pool warming, a pool that keeps
what it opens, plain readers, snapshots."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from pytest_mock import MockerFixture
from sqlalchemy import event, text

import storage.schema  # noqa: F401  (registers every model on Base.metadata, as the migrations' env does)
from storage.db import Database
from storage.migrate import upgrade_async
from storage.models import Base
from tests.support import migrated_database, postgres_database, require_service


async def test_warming_opens_pooled_connections_up_front_named_and_readers_need_no_transaction() -> None:
    require_service("PostgreSQL", "127.0.0.1", 5432)
    async with postgres_database() as url:
        await upgrade_async(url)
        db = Database(url, application_name="liftoff-test")
        try:
            await db.warm(5)
            pool = db.engine.sync_engine.pool
            assert pool.checkedin() == 5 and pool.checkedout() == 0  # type: ignore[attr-defined]
            async with db.reader() as session:  # autocommit: each statement is a transaction of its own
                # Named, so pg_stat_activity tells a web process's sessions from a worker's.
                assert await session.scalar(text("SELECT current_setting('application_name')")) == "liftoff-test"
                first = await session.scalar(text("SELECT now()"))
                assert await session.scalar(text("SELECT now()")) != first
            async with db.snapshot() as session:
                first = await session.scalar(text("SELECT now()"))
                assert await session.scalar(text("SELECT now()")) == first  # one transaction throughout
        finally:
            await db.dispose()


async def test_a_burst_past_the_pool_waits_for_connections_and_keeps_them(mocker: MockerFixture) -> None:
    """No overflow connections opened and closed again per burst: each costs the web process a connect."""
    require_service("PostgreSQL", "127.0.0.1", 5432)
    mocker.patch("storage.db.POOL_CONNECTIONS", 6)
    async with postgres_database() as url:
        await upgrade_async(url)
        db = Database(url)
        pool = db.engine.sync_engine.pool
        opened: list[object] = []
        event.listen(pool, "connect", lambda *args: opened.append(args[0]))

        async def read() -> None:
            async with db.reader() as session:
                await session.execute(text("SELECT pg_sleep(0.05)"))

        try:
            await asyncio.gather(*(read() for _ in range(15)))  # more sessions at once than connections
            assert len(opened) == 6
            assert pool.checkedin() == 6  # type: ignore[attr-defined]
            await asyncio.gather(*(read() for _ in range(15)))
            assert len(opened) == 6  # the next burst reuses them
        finally:
            await db.dispose()


async def test_closing_a_session_takes_no_turn_of_the_event_loop_and_a_cancelled_one_gives_its_connection_back(
) -> None:
    """Each turn the event loop takes under load is every other request's next step: a close that takes three
    (`async with session`, which closes in a task of its own) kept answers waiting 10-50 ms."""
    require_service("PostgreSQL", "127.0.0.1", 5432)
    async with postgres_database() as url:
        await upgrade_async(url)
        db = Database(url)
        turns = 0

        async def count_turns() -> None:
            nonlocal turns
            while True:
                turns += 1
                await asyncio.sleep(0)

        counter = asyncio.create_task(count_turns())
        try:
            async with db.reader() as session:
                await session.execute(text("SELECT 1"))
                before = turns
            assert turns == before
            async with db.session() as session:
                await session.execute(text("SELECT 1"))
            assert turns > before  # the commit's round trip: the counter does run meanwhile

            async def read_until_cancelled() -> None:
                async with db.reader() as session:
                    await session.execute(text("SELECT pg_sleep(5)"))

            reading = asyncio.create_task(read_until_cancelled())
            await asyncio.sleep(0.2)
            reading.cancel()
            with pytest.raises(asyncio.CancelledError):
                await reading
            pool = db.engine.sync_engine.pool
            assert pool.checkedout() == 0  # type: ignore[attr-defined]
            async with db.reader() as session:  # and the pool still serves
                assert await session.scalar(text("SELECT 2")) == 2
        finally:
            counter.cancel()
            await db.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_the_migrations_build_exactly_the_models_schema(backend: str, tmp_path: Path) -> None:
    """A column, index or constraint added to a model without its migration (or the other way round) shows here."""
    async with migrated_database(backend, tmp_path) as url:
        db = Database(url)
        try:
            async with db.engine.connect() as connection:
                drift = await connection.run_sync(
                    lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata))
        finally:
            await db.dispose()
    assert drift == []
