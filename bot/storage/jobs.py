"""Scheduled jobs: one row per (kind, ref), the truth about what is due and what was done.

A row is pending until it fires (done), is missed (due while the bot was down for longer than
the grace period), or is cancelled. A recurring row stays pending and moves its `due_at` to the
next occurrence each time it fires, so "this occurrence" is always (id, due_at): the claim below
is conditional on both, and two processes can never fire one occurrence twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.db import insert_for
from bot.storage.schema import jobs

PENDING, DONE, MISSED, CANCELLED = "pending", "done", "missed", "cancelled"


@dataclass(frozen=True)
class JobRow:
    id: int
    kind: str
    ref: str
    due_at: datetime
    rule: str | None
    timezone: str | None
    params: dict[str, Any]
    state: str
    claimed_by: str | None
    fired_at: datetime | None
    runs: int


_COLS = [jobs.c[name] for name in JobRow.__dataclass_fields__]


def _job(row) -> JobRow:
    values = dict(row._mapping)
    values["params"] = json.loads(values["params"] or "{}")
    return JobRow(**values)


async def put(conn: AsyncConnection, *, kind: str, ref: str, due_at: datetime,
              rule: str | None, timezone: str | None, params: dict[str, Any],
              now: datetime) -> None:
    """Schedule (or move) the job of (kind, ref): pending again at `due_at`, in one statement,
    so two organisers editing one event at once leave one row."""
    values = {"due_at": due_at, "rule": rule, "timezone": timezone,
              "params": json.dumps(params, sort_keys=True), "state": PENDING,
              "claimed_by": None}
    stmt = insert_for(conn, jobs).values(kind=kind, ref=ref, created_at=now, **values)
    await conn.execute(stmt.on_conflict_do_update(index_elements=["kind", "ref"],
                                                  set_=values))


async def cancel(conn: AsyncConnection, kind: str, ref: str) -> bool:
    result = await conn.execute(
        jobs.update().where(jobs.c.kind == kind, jobs.c.ref == ref, jobs.c.state == PENDING)
        .values(state=CANCELLED))
    return result.rowcount == 1


async def get(conn: AsyncConnection, kind: str, ref: str) -> JobRow | None:
    row = (await conn.execute(sa.select(*_COLS).where(jobs.c.kind == kind,
                                                      jobs.c.ref == ref))).first()
    return _job(row) if row else None


async def due(conn: AsyncConnection, now: datetime, limit: int = 100) -> list[JobRow]:
    """Pending jobs due by `now`, the oldest first (on ix_jobs_state_due_at)."""
    query = (sa.select(*_COLS).where(jobs.c.state == PENDING, jobs.c.due_at <= now)
             .order_by(jobs.c.due_at, jobs.c.id).limit(limit))
    return [_job(r) for r in await conn.execute(query)]


async def pending(conn: AsyncConnection) -> list[tuple[int, datetime]]:
    """(id, due_at) of every pending job: what the alarm clock is set for at start-up."""
    query = sa.select(jobs.c.id, jobs.c.due_at).where(jobs.c.state == PENDING)
    return [(r.id, r.due_at) for r in await conn.execute(query)]


async def claim(conn: AsyncConnection, job: JobRow, worker: str) -> bool:
    """Take this occurrence of the job, inside the transaction that runs it. False when another
    process took (or moved, or cancelled) it first: on PostgreSQL the second UPDATE waits for
    the first transaction and then finds `due_at` or `state` changed."""
    result = await conn.execute(
        jobs.update().where(jobs.c.id == job.id, jobs.c.state == PENDING,
                            jobs.c.due_at == job.due_at)
        .values(claimed_by=worker, runs=jobs.c.runs + 1))
    return result.rowcount == 1


async def finish(conn: AsyncConnection, job_id: int, *, state: str, now: datetime,
                 next_due: datetime | None = None) -> None:
    """After a run (or a miss): a recurring job moves on to `next_due` and stays pending."""
    values: dict[str, Any] = {"fired_at": now}
    if next_due is not None:
        values.update(due_at=next_due, state=PENDING)
    else:
        values["state"] = state
    await conn.execute(jobs.update().where(jobs.c.id == job_id).values(**values))
