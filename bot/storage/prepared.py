"""Prepared reads: the few SELECTs that run on nearly every update, compiled once.

Why: on SQLite a `read()` runs in the event loop's thread (`InlineReads`), and SQLAlchemy's
execution path around it (cache key, execution context, result wrapping) costs several times
the query itself. Between two updates the other programs on the machine push our code out of
the CPU caches, so that path is paid cold: about 90 µs for `/points`, against about 20 µs for
sqlite3 running the same SQL. A `Prepared` statement is still written with SQLAlchemy Core and
compiled by SQLAlchemy for the dialect in use (types, bind and result processing included);
only the execution of the compiled SQL is done directly on the DBAPI connection. On
PostgreSQL, and whenever SQL echo is on, it runs through SQLAlchemy as usual.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect


@dataclass(frozen=True)
class Plan:
    """A statement compiled for one dialect with a positional paramstyle."""

    sql: str
    names: tuple[str, ...]  # bound parameter names, in the order the SQL takes them
    defaults: Mapping[str, Any]  # values bound in the statement itself (`x > 0`)
    binds: tuple[Callable[[Any], Any] | None, ...]
    results: tuple[Callable[[Any], Any] | None, ...]

    def values(self, given: Mapping[str, Any]) -> list[Any]:
        out = []
        for name, process in zip(self.names, self.binds, strict=True):
            value = given[name] if name in given else self.defaults[name]
            out.append(process(value) if process is not None and value is not None else value)
        return out

    def rows(self, raw: Sequence[Sequence[Any]]) -> list[tuple]:
        if not any(self.results):
            return [tuple(row) for row in raw]
        return [tuple(value if process is None or value is None else process(value)
                      for value, process in zip(row, self.results, strict=True))
                for row in raw]


class Prepared:
    """A Core SELECT run by name-bound parameters: `await STMT.first(conn, member_id=7)`.

    The statement may not use expanding (`IN`) or literal-execute parameters: their SQL is only
    known at execution time.
    """

    def __init__(self, statement: sa.Select):
        self.statement = statement
        self._plans: dict[str, Plan] = {}

    def plan(self, dialect: Dialect) -> Plan:
        key = f"{dialect.name}:{dialect.paramstyle}"
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = _compile(self.statement, dialect)
        return plan

    async def all(self, conn: Any, **params: Any) -> list[tuple]:
        """`conn` is what `Database.read()` gave: an InlineReads offers `run_compiled` (it
        answers None when it wants SQLAlchemy to run the statement after all)."""
        fast = getattr(conn, "run_compiled", None)
        rows = fast(self, params) if fast is not None else None
        if rows is not None:
            return rows
        return [tuple(row) for row in await conn.execute(self.statement, params)]

    async def first(self, conn: Any, **params: Any) -> tuple | None:
        """The first row, for statements that select one row (by a key)."""
        rows = await self.all(conn, **params)
        return rows[0] if rows else None


def _compile(statement: sa.Select, dialect: Dialect) -> Plan:
    compiled = statement.compile(dialect=dialect)
    if compiled.positiontup is None:
        raise ValueError(f"Prepared needs a positional paramstyle, not {dialect.paramstyle}")
    if compiled.literal_execute_params or compiled.post_compile_params:
        raise ValueError("Prepared statements can't hold expanding or literal parameters")
    names = tuple(compiled.positiontup)
    binds = tuple(compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
                  for name in names)
    results = tuple(column.type.dialect_impl(dialect).result_processor(dialect, None)
                    for column in statement.selected_columns)
    return Plan(compiled.string, names, dict(compiled.params), binds, results)
