"""SQLAlchemy's aiosqlite dialect, with one trip to the database thread per statement.

aiosqlite runs each call on its own thread and hands the result back through the event loop.
SQLAlchemy's adapter makes four such trips per statement (open a cursor, execute, fetch all,
close), and on a 2-core machine the trips, not SQLite, were most of a read's cost: `/points`
took ~0.3 ms of hand-offs for a 20 µs query. This cursor does the four steps in one function on
that thread. Everything else (connections, transactions, errors, types) is SQLAlchemy's own.
Reads don't come here at all: see bot.storage.db.InlineReads.

Used for `sqlite+aiosqlite://` URLs (bot.storage.db maps them here); tied to SQLAlchemy 2.1's
asyncio connector, which pyproject pins.
"""

from __future__ import annotations

import collections
import sqlite3
from typing import Any

from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
    SQLiteDialect_aiosqlite,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

DRIVER = "campusbot_aiosqlite"


def _run(conn: sqlite3.Connection, many: bool, sql: str, params: Any) -> tuple:
    """On aiosqlite's thread: the whole statement, results included."""
    if many:
        cursor = conn.executemany(sql, params)
    else:
        cursor = conn.execute(sql, params) if params is not None else conn.execute(sql)
    try:
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ("_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection):
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description = None
        self._rowcount = -1
        self._lastrowid = None

    @property
    def description(self):
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self):
        return self._lastrowid

    @property
    def arraysize(self) -> int:
        return 1

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        pass

    async def _trip(self, many: bool, operation: Any, parameters: Any) -> None:
        async with self._adapt_connection._execute_mutex:
            aio = self._connection
            result = await aio._execute(_run, aio._conn, many, operation, parameters)
        self._description, rows, self._rowcount, self._lastrowid = result
        self._rows = collections.deque(rows)

    async def _execute_async(self, operation: Any, parameters: Any) -> None:
        await self._trip(False, operation, parameters)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> None:
        await self._trip(True, operation, seq_of_parameters)

    async def _async_soft_close(self) -> None:
        return None  # nothing open on the other thread

    def close(self) -> None:
        self._rows.clear()


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = OneTripCursor


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        connection = self.aiosqlite.connect(*arg, **kw)
        connection._thread.daemon = True
        return OneTripConnection(self, await_(connection))


class OneTripDialect(SQLiteDialect_aiosqlite):
    driver = DRIVER
    supports_statement_cache = True
    supports_server_side_cursors = False

    @classmethod
    def import_dbapi(cls) -> OneTripDBAPI:
        return OneTripDBAPI(__import__("aiosqlite"), __import__("sqlite3"))


registry.register(f"sqlite.{DRIVER}", __name__, "OneTripDialect")
