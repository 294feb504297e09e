"""The outbox: notifications written with the change that caused them, sent later by adapters.

A row holds a message kind and its parameters, not text, so each recipient reads it in their own
language. Rows are claimed one at a time with a conditional UPDATE (`status = 'pending'`), so
several processes can share the table and a crash leaves at most the one claimed row in doubt.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.schema import outbox

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"


@dataclass(frozen=True)
class OutboxRow:
    id: int
    member_id: int | None
    chat_ref: str | None
    platform: str
    kind: str
    params: dict[str, Any]
    attempts: int


def _row(r) -> OutboxRow:
    return OutboxRow(id=r.id, member_id=r.member_id, chat_ref=r.chat_ref, platform=r.platform,
                     kind=r.kind, params=json.loads(r.params), attempts=r.attempts)


async def enqueue(conn: AsyncConnection, insert_ignore, *, platform: str, kind: str,
                  params: dict[str, Any], dedupe_key: str, now: datetime,
                  member_id: int | None = None, chat_ref: str | None = None,
                  not_before: datetime | None = None) -> bool:
    """Queue once per dedupe key; False when this notification was queued before."""
    stmt = insert_ignore(outbox).values(
        member_id=member_id, chat_ref=chat_ref, platform=platform, kind=kind,
        params=json.dumps(params, ensure_ascii=False, default=str), status=PENDING,
        not_before=not_before or now, dedupe_key=dedupe_key, created_at=now,
    ).on_conflict_do_nothing(index_elements=["dedupe_key"])
    return bool((await conn.execute(stmt)).rowcount)


async def due_ids(conn: AsyncConnection, platform: str, now: datetime, limit: int,
                  member_id: int | None = None) -> list[int]:
    query = (sa.select(outbox.c.id)
             .where(outbox.c.platform == platform, outbox.c.status == PENDING,
                    outbox.c.not_before <= now)
             .order_by(outbox.c.id).limit(limit))
    if member_id is not None:
        query = query.where(outbox.c.member_id == member_id)
    return list((await conn.execute(query)).scalars())


async def claim(conn: AsyncConnection, row_id: int, worker: str,
                now: datetime) -> OutboxRow | None:
    result = await conn.execute(
        outbox.update()
        .where(outbox.c.id == row_id, outbox.c.status == PENDING)
        .values(status=SENDING, claimed_by=worker, claimed_at=now, attempts=outbox.c.attempts + 1)
        .returning(*outbox.c)
    )
    row = result.first()
    return _row(row) if row else None


async def mark_sent(conn: AsyncConnection, row_id: int, now: datetime) -> None:
    await _finish(conn, row_id, status=SENT, sent_at=now, error=None)


async def mark_failed(conn: AsyncConnection, row_id: int, error: str) -> None:
    await _finish(conn, row_id, status=FAILED, error=error[:500])


async def retry_later(conn: AsyncConnection, row_id: int, when: datetime, error: str,
                      platform: str | None = None) -> None:
    """Put a row back in the queue, optionally for another platform (a member's fallback)."""
    values: dict[str, Any] = dict(status=PENDING, not_before=when, error=error[:500],
                                  claimed_by=None, claimed_at=None)
    if platform:
        values["platform"] = platform
    await _finish(conn, row_id, **values)


async def _finish(conn: AsyncConnection, row_id: int, **values) -> None:
    await conn.execute(outbox.update().where(outbox.c.id == row_id).values(**values))


@dataclass(frozen=True)
class Released:
    """A claim given back because its owner stopped: this message may already have gone out."""

    id: int
    kind: str
    member_id: int | None
    chat_ref: str | None


async def release_orphaned(conn: AsyncConnection, platform: str,
                           live: sa.Select) -> list[Released]:
    """Give back claims on `platform` whose owner is not among `live` (the names of workers
    with a recent heartbeat): the owner stopped between claiming a row and marking it."""
    result = await conn.execute(
        outbox.update()
        .where(outbox.c.platform == platform, outbox.c.status == SENDING,
               sa.or_(outbox.c.claimed_by.is_(None), outbox.c.claimed_by.not_in(live)))
        .values(status=PENDING, claimed_by=None, claimed_at=None)
        .returning(outbox.c.id, outbox.c.kind, outbox.c.member_id, outbox.c.chat_ref)
    )
    return [Released(r.id, r.kind, r.member_id, r.chat_ref) for r in result]


async def status_counts(conn: AsyncConnection) -> dict[str, int]:
    query = sa.select(outbox.c.status, sa.func.count()).group_by(outbox.c.status)
    return {status: n for status, n in await conn.execute(query)}



def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(600, 5 * 2 ** min(attempts, 7)))
