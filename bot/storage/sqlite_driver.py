"""SQLAlchemy's aiosqlite dialect, with one trip to the database thread per statement.

What it does: aiosqlite runs each call on its own thread and hands the result back through the
event loop. SQLAlchemy's adapter makes three or four such trips per statement (open a cursor,
execute, fetch all when there are rows, close); `OneTripCursor` does those steps in one
function (`_run`) on that thread. Everything else (connections, pooling, transactions, errors,
types) is SQLAlchemy's own. Every statement on the SQLite engine comes here: the `write()`
transactions and the `scan()` reads. The point lookups of `read()` don't (they run inline:
bot.storage.db.InlineReads).

Why: writes are serialised (one SQLite writer, queued on an asyncio.Lock), so the trips of a
transaction (BEGIN IMMEDIATE, the entry, the balance, a notice, COMMIT) add straight to how
long every other writer waits. Measured against SQLAlchemy's stock dialect with
`bench/ledger.py --backend sqlite [--sqlite-driver stock]` (5,000 awards and spends from 100
tasks), 16 alternating pairs on a 2-core machine that other work kept at a load average of
2-4: campusbot ops/s with this driver was a median 44% higher (-12% to +136%; more than 15%
higher in 11 pairs, lower in 3), p50 latency a median 29% lower and p99 41% lower. That
machine drifted so much (the same driver ranged over 309-772 ops/s) that the steadier figure
is CPU time: with both engines in one process taking turns by blocks of 1,000 operations, this
driver spent 23-42% less CPU per operation in each of 4 runs (1.12 vs 1.60 ms, 1.19 vs
1.55 ms, 1.27 vs 2.14 ms, 1.89 vs 3.24 ms), where two engines on the same driver came within 2%
of each other.

The price: it reaches into private internals: SQLAlchemy's `AsyncAdapt_aiosqlite_*` classes
(`_connection`, `_execute_mutex`, `_rows`, `_soft_closed_memoized`: SQLAlchemy 2.1's asyncio
connector, which pyproject pins) and aiosqlite's `Connection._execute`, `._conn` and
`._thread`. An upgrade of either must run tests/storage and compare the bench again
(`--sqlite-driver stock`); if the gain is gone, delete this module and let bot.storage.db use
`sqlite+aiosqlite` as it is.
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
        connection._thread.daemon = True  # a connection left open never holds up the exit
        return OneTripConnection(self, await_(connection))


class OneTripDialect(SQLiteDialect_aiosqlite):
    driver = DRIVER
    supports_statement_cache = True
    supports_server_side_cursors = False

    @classmethod
    def import_dbapi(cls) -> OneTripDBAPI:
        return OneTripDBAPI(__import__("aiosqlite"), __import__("sqlite3"))


registry.register(f"sqlite.{DRIVER}", __name__, "OneTripDialect")
