"""The async engine and sessions. One Database per process (or per job run on a worker)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import StaticPool

from storage.audit import UNSEALED, AuditSealer
from storage.launch_pii import ENCRYPTION_KEY

# PostgreSQL connections a process keeps (web process, or one job's run on a worker); the server's
# max_connections must cover web processes x this, plus the workers.
POOL_CONNECTIONS = 40

# True while the current task holds a session of Database: its pooled connection and, for a write, the
# transaction's locks (SQLite's one writer, PostgreSQL's row locks) until it ends.
_IN_SESSION: ContextVar[bool] = ContextVar("liftoff_in_session", default=False)


def in_session() -> bool:
    """Does the current task hold a database session? Nothing there should wait on other requests' work."""
    return _IN_SESSION.get()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the one writer; the busy timeout covers other processes' writers.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _sqlite_autocommit_driver(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the driver, decide how transactions begin (see _begin_immediate).
    dbapi_connection.isolation_level = None


def _begin_immediate(connection: Any) -> None:
    # A write transaction takes SQLite's write lock up front. A deferred one that read first
    # fails at once with SQLITE_BUSY_SNAPSHOT when another writer committed meanwhile.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_engine(url: str, *, writer: bool = True, application_name: str | None = None) -> AsyncEngine:
    """An engine for `url`. On SQLite the writer engine holds one connection that begins immediately.
    `application_name` names the PostgreSQL sessions (pg_stat_activity shows which process each serves)."""
    if not url.startswith("sqlite"):
        # At most POOL_CONNECTIONS per process, and all of them kept: no overflow. Twenty requests in flight hold
        # about forty sessions at a burst's peak (each request's read before its ack, the writes of those acked
        # just before). With twenty kept and twenty overflow, every burst opened and closed overflow connections,
        # and a new asyncpg connection costs milliseconds of CPU (its type codecs are set up with round trips of
        # their own) on the loop that answers Slack: a re-plan burst's acks were p99 ~200 ms with that churn, ~90 ms
        # without. Past the cap a session waits for a connection, which costs nothing while it waits.
        # No pre-ping: on asyncpg it is a transaction and a statement (three round trips) at every checkout. A
        # connection the server dropped fails its first use instead, and SQLAlchemy then invalidates the whole
        # pool, so one request sees the error; recycling retires connections before a firewall or PgBouncer
        # idles them out. LIFO: a quiet moment reuses the same few connections, whose prepared-statement caches
        # are warm, instead of cycling through all of them (each would parse every statement again).
        server_settings = {"application_name": application_name} if application_name else {}
        return create_async_engine(url, pool_size=POOL_CONNECTIONS, max_overflow=0, pool_recycle=1800,
                                   pool_use_lifo=True, connect_args={"server_settings": server_settings})
    if is_in_memory(url):
        # One shared connection is the whole database; readers and the writer must use it.
        engine = create_async_engine(url, poolclass=StaticPool)
    elif writer:
        # One connection: in-process writers queue for it without spinning on SQLite's lock.
        engine = create_async_engine(url, pool_size=1, max_overflow=0, pool_timeout=60)
        event.listen(engine.sync_engine, "connect", _sqlite_autocommit_driver)
        event.listen(engine.sync_engine, "begin", _begin_immediate)
    else:
        engine = create_async_engine(url, pool_size=5, max_overflow=5)
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def is_in_memory(url: str) -> bool:
    return url.startswith("sqlite") and (":memory:" in url or url.rstrip("/").endswith("aiosqlite:"))


class Database:
    """Sessions for writing (`session`) and for reading (`reader`)."""

    def __init__(self, url: str, *, encryption_key: str | None = None, application_name: str | None = None) -> None:
        self.url = url
        self.engine = create_engine(url, application_name=application_name)
        separate_reader = self.is_sqlite and not is_in_memory(url)
        self._read_engine = create_engine(url, writer=False) if separate_reader else self.engine
        # Every session carries the key for what is stored encrypted beside the launch (storage/launch_pii.py).
        info = {ENCRYPTION_KEY: encryption_key}
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False, info=info)
        # PostgreSQL readers run without BEGIN/ROLLBACK (two round trips per read): each statement still reads
        # committed data, as it would inside a READ COMMITTED transaction.
        readers = self._read_engine if self.is_sqlite else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self._readers = async_sessionmaker(readers, expire_on_commit=False, info=info)
        self.audit = AuditSealer(self._sessions)

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session whose transaction commits when the block ends and rolls back on error."""
        async with self._opened(self._sessions) as session, session.begin():
            yield session
        if session.info.pop(UNSEALED, False):
            if self._read_engine is self.engine and self.is_sqlite:
                await self.audit.flush()  # one shared in-memory connection: no second transaction beside it
            else:
                self.audit.request()  # chain the audit entries it committed, off this caller's path

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[AsyncSession]:
        """A session for reads only."""
        async with self._opened(self._readers) as session:
            yield session

    @asynccontextmanager
    async def _opened(self, sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
        """A new session, closed when the block ends.

        On PostgreSQL by close() itself. `async with session` closes in a task of its own, SQLAlchemy's guard
        against a cancellation halfway through a close, and that costs three turns of the event loop: under load,
        10-50 ms before an ack (a re-plan submission's one read spent longer closing than reading). Here a
        session's transaction has ended (or a reader had none) before it is closed, so closing only hands the
        connection back to the pool, with no I/O: there is no await for a cancellation to interrupt. SQLite's close
        does talk to its driver's thread, so it keeps the guard."""
        inside = _IN_SESSION.set(True)
        try:
            if self.is_sqlite:
                async with sessions() as session:
                    yield session
                return
            session = sessions()
            try:
                yield session
            finally:
                await session.close()
        finally:
            _IN_SESSION.reset(inside)

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[AsyncSession]:
        """A read-only transaction seeing one snapshot (REPEATABLE READ on PostgreSQL), for long reads that
        stream their rows (a server-side cursor needs a transaction, which plain readers do without)."""
        async with self._readers() as session:
            # Before any statement: the session's transaction begins on this connection, at this level.
            await session.connection(
                execution_options={"isolation_level": "SERIALIZABLE" if self.is_sqlite else "REPEATABLE READ"})
            yield session  # closing the session ends the transaction without writing

    async def warm(self, connections: int) -> None:
        """Open `connections` pooled connections now (PostgreSQL), so the first burst of requests does not pay for
        them: each new asyncpg connection sets up its type codecs with round trips of its own, and twenty at once
        held the event loop for a few hundred milliseconds."""
        if self.is_sqlite:
            return
        async with AsyncExitStack() as held:
            for _ in range(connections):
                await held.enter_async_context(self.engine.connect())

    async def dispose(self) -> None:
        await self.audit.close()
        await self.engine.dispose()
        if self._read_engine is not self.engine:
            await self._read_engine.dispose()
