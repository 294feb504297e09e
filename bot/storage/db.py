"""Engine setup, the write transaction, and the two ways to read.

`write()` is one transaction that takes the write lock up front: on SQLite a deferred BEGIN
upgrades late and can fail with "database is locked" halfway through a command, so writes begin
IMMEDIATE (https://docs.sqlalchemy.org/en/20/dialects/sqlite.html#pysqlite-serializable).

Which read for which query:

- `read()`: indexed point lookups only, whose cost does not grow with the data: rows found by a
  key (a member, an account, a link code, one member's standing), or a LIMIT read off an index
  in its order (the all-time top ten on `members.earned`). On SQLite it runs them at once on an
  autocommit sqlite3 connection in the event loop's thread (InlineReads): every statement sees
  the latest commit (WAL readers never wait for the writer), and none pays for a round trip to
  aiosqlite's worker thread, which cost more than the query itself. While it runs nothing else
  on the loop does, so it is only for queries of microseconds.
- `scan()`: every query whose cost grows with the data: the period leaderboards (`top_since`
  sums the month's or week's ledger), a member's history (`count_for`, `page`: counted and
  paged over all their entries), exports (`entries_since`, `all_members`) and the invariant
  check (`sums_by_member`). On SQLite it is a connection of the engine's own pool: its
  statements run on aiosqlite's thread while the loop goes on answering updates (a
  `/leaderboard month` over 300,000 entries takes ~0.3-0.8 s here; inline it froze every
  update for that long). Its statements share one deferred read transaction, one WAL snapshot:
  it never takes the write lock, never waits for a writer and never holds one up
  (https://sqlite.org/wal.html#concurrency); it is rolled back when returned, so it commits
  nothing. On PostgreSQL `scan()` is the same as `read()`.

A new query goes to `read()` only when its EXPLAIN QUERY PLAN searches an index for a bounded
number of rows; anything that scans a table or an open-ended index range goes to `scan()`.
(`/points`' rank counts the members above on `ix_members_earned`: that grows with the members,
not the ledger, and stays well under a millisecond at 5,000 members.)
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from bot.storage import sqlite_driver
from bot.storage.prepared import Prepared

_WRITE = "campusbot_write"
_AFTER_COMMIT = "campusbot_after_commit"
BUSY_TIMEOUT_MS = 10_000


class Database:
    def __init__(self, url: str, echo: bool = False):
        self.url = url
        self.engine = _make_engine(url, echo)
        self.dialect = self.engine.dialect.name
        self._inline = _make_inline_reader(self.engine, echo) if self.is_sqlite else None
        self._writer = self.engine.execution_options(**{_WRITE: True})
        # SQLite has one writer at a time anyway; queueing writers here instead of in SQLite's
        # busy handler keeps the event loop busy and the tail latency low.
        self._write_lock = asyncio.Lock() if self.is_sqlite else None

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """One transaction for all of a command's writes: it commits whole or not at all."""
        after: list[Callable[[], None]] = []
        lock = self._write_lock or contextlib.nullcontext()
        async with lock, self._writer.begin() as conn:
            conn.info[_AFTER_COMMIT] = after
            try:
                yield conn
            finally:
                del conn.info[_AFTER_COMMIT]
        for callback in after:
            callback()

    @staticmethod
    def after_commit(conn: AsyncConnection, callback: Callable[[], None]) -> None:
        """Run `callback` once `conn`'s write transaction has committed (never on rollback):
        whoever is woken by it must find the rows already there."""
        pending = conn.info.get(_AFTER_COMMIT)
        if pending is None:
            callback()  # not inside write(): nothing left to wait for
        else:
            pending.append(callback)

    def read(self) -> contextlib.AbstractAsyncContextManager[AsyncConnection]:
        """Indexed point lookups only (see the module docstring). On SQLite each statement
        stands alone (no snapshot across two) and runs in the event loop's thread."""
        if self._inline is None:
            return self.engine.connect()
        return self._inline  # type: ignore[return-value]

    def scan(self) -> contextlib.AbstractAsyncContextManager[AsyncConnection]:
        """Queries whose cost grows with the data (see the module docstring): off the event
        loop's thread on SQLite, in one read transaction (one snapshot); never write here."""
        return self.engine.connect()

    def insert_ignore(self, table: sa.Table) -> Any:
        """INSERT … ON CONFLICT DO NOTHING, the idempotent insert both backends understand."""
        return _DIALECT_INSERT[self.dialect](table)

    async def dispose(self) -> None:
        if self._inline is not None:
            self._inline.close()
        await self.engine.dispose()


_DIALECT_INSERT = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


def insert_for(conn: AsyncConnection, table: sa.Table) -> Any:
    """The backend's own INSERT, which has `on_conflict_do_nothing()` / `_do_update()`.

    Every get-or-create is such an insert followed by a read: two transactions that both read
    "missing" and then insert would collide on the unique key on PostgreSQL (READ COMMITTED),
    while an insert that ignores the conflict waits for the other one and then does nothing
    (https://www.postgresql.org/docs/current/sql-insert.html#SQL-ON-CONFLICT)."""
    return _DIALECT_INSERT[conn.dialect.name](table)


def _make_engine(url: str, echo: bool) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_async_engine(url, echo=echo, pool_pre_ping=True, pool_size=10,
                                   max_overflow=10)
    database = parsed.database or ""
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(_one_trip(url), echo=echo,
                                 connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
    _install_sqlite_hooks(engine)
    return engine


class InlineReads:
    """The `conn` of `Database.read()` on SQLite: the repositories' `await conn.execute(…)`,
    run at once on a plain sqlite3 connection in the event loop's thread.

    Why: a WAL reader never waits for a lock and our reads are indexed lookups of microseconds,
    while the asyncio path around one (a thread hand-off, greenlets, an async pool) cost ten
    times the query. Each thread keeps one autocommit connection open (checking one out of the
    pool for every read cost more than the read); rows are fetched whole (prebuffer_rows), so
    no statement stays open and holds an old snapshot. `run_compiled` is the fast path of
    bot.storage.prepared."""

    def __init__(self, engine: sa.Engine):
        self.engine = engine
        self.dialect = engine.dialect
        self._local = threading.local()
        self._generation = 0  # bumped by close(): every thread's connection is then stale

    async def __aenter__(self) -> InlineReads:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        return None

    def _connection(self) -> sa.Connection:
        kept = getattr(self._local, "kept", None)
        if kept is not None and kept[0] == self._generation and not kept[1].invalidated:
            return kept[1]
        conn = self.engine.connect().execution_options(prebuffer_rows=True)
        self._local.kept = (self._generation, conn)
        return conn

    async def execute(self, statement: Any, parameters: Any = None) -> sa.CursorResult:
        return self._connection().execute(statement, parameters)

    async def exec_driver_sql(self, statement: str, parameters: Any = None) -> sa.CursorResult:
        return self._connection().exec_driver_sql(statement, parameters)

    def run_compiled(self, prepared: Prepared, values: Mapping[str, Any]) -> list[tuple] | None:
        if self.engine.echo:
            return None  # let SQLAlchemy log the statement
        plan = prepared.plan(self.dialect)
        raw = self._connection().connection.dbapi_connection
        assert raw is not None
        cursor = raw.cursor()
        try:
            cursor.execute(plan.sql, plan.values(values))
            return plan.rows(cursor.fetchall())
        finally:
            cursor.close()

    def close(self) -> None:
        self._generation += 1
        kept = getattr(self._local, "kept", None)
        if kept is not None:
            kept[1].close()
            self._local.kept = None
        self.engine.dispose()


def _make_inline_reader(writer: AsyncEngine, echo: bool) -> InlineReads | None:
    """Autocommit sqlite3 connections for the loop's thread (SingletonThreadPool): there is
    no transaction to begin or roll back, and a statement never yields, so readers never wait
    for each other."""
    database = writer.url.database
    if database in (None, "", ":memory:"):
        return None  # an in-memory database exists only on the writer's connection
    engine = sa.create_engine(
        writer.url.set(drivername="sqlite"), echo=echo, isolation_level="AUTOCOMMIT",
        skip_autocommit_rollback=True, poolclass=sa.pool.SingletonThreadPool,
        pool_reset_on_return=None, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
    event.listen(engine, "connect", _on_sqlite_connect)
    return InlineReads(engine)


def _one_trip(url: str) -> sa.URL:
    """`sqlite+aiosqlite` runs on bot.storage.sqlite_driver (one thread trip a statement);
    `bench/ledger.py --sqlite-driver stock` replaces this function to measure without it."""
    parsed = make_url(url)
    if parsed.drivername == "sqlite+aiosqlite":
        parsed = parsed.set(drivername=f"sqlite+{sqlite_driver.DRIVER}")
    return parsed


def _on_sqlite_connect(dbapi_connection, _record) -> None:
    # Let us issue BEGIN ourselves (pysqlite's own transaction handling is off).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _install_sqlite_hooks(engine: AsyncEngine) -> None:
    event.listen(engine.sync_engine, "connect", _on_sqlite_connect)

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(conn):
        immediate = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

