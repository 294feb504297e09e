"""Engine setup and the two kinds of transaction the services use.

`write()` is one transaction that takes the write lock up front: on SQLite a deferred BEGIN
upgrades late and can fail with "database is locked" halfway through a command, so writes begin
IMMEDIATE (https://docs.sqlalchemy.org/en/20/dialects/sqlite.html#pysqlite-serializable).
`read()` is for queries. On SQLite it uses its own pool of autocommit connections: every
statement sees the latest commit (WAL readers never wait for the writer), and no BEGIN or
ROLLBACK is sent, because through aiosqlite each statement is a round trip to a worker thread and
those trips, not SQLite, were most of a read's cost.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from bot.storage import sqlite_driver

_WRITE = "campusbot_write"
_AFTER_COMMIT = "campusbot_after_commit"
BUSY_TIMEOUT_MS = 10_000


class Database:
    def __init__(self, url: str, echo: bool = False):
        self.url = url
        self.engine = _make_engine(url, echo)
        self.dialect = self.engine.dialect.name
        self._reader = _make_reader(self.engine, url, echo) if self.is_sqlite else self.engine
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

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """Queries only. On SQLite each statement stands alone (no snapshot across two)."""
        async with self._reader.connect() as conn:
            yield conn

    def insert_ignore(self, table: sa.Table) -> Any:
        """INSERT … ON CONFLICT DO NOTHING, the idempotent insert both backends understand."""
        dialect_insert = sqlite.insert if self.is_sqlite else postgresql.insert
        return dialect_insert(table)

    async def dispose(self) -> None:
        if self._reader is not self.engine:
            await self._reader.dispose()
        await self.engine.dispose()


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


def _make_reader(writer: AsyncEngine, url: str, echo: bool) -> AsyncEngine:
    """SQLite's read pool: autocommit, so neither BEGIN nor the ROLLBACK on return is sent,
    and its statements run on the event loop's thread (sqlite_driver.InlineCursor)."""
    if writer.url.database in (None, "", ":memory:"):
        return writer  # an in-memory database exists only on the writer's connection
    engine = create_async_engine(_one_trip(url), echo=echo, isolation_level="AUTOCOMMIT",
                                 skip_autocommit_rollback=True,
                                 connect_args={"timeout": BUSY_TIMEOUT_MS / 1000,
                                               sqlite_driver.INLINE: True})
    event.listen(engine.sync_engine, "connect", _on_sqlite_connect)
    return engine


def _one_trip(url: str) -> sa.URL:
    """`sqlite+aiosqlite` runs on bot.storage.sqlite_driver (one thread trip a statement)."""
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

