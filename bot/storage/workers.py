"""Delivery workers and their heartbeats: who may still be holding an outbox claim."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.db import insert_for
from bot.storage.schema import workers


async def beat(conn: AsyncConnection, name: str, platform: str, now: datetime) -> None:
    """Say `name` is alive now (registering it on its first beat)."""
    stmt = insert_for(conn, workers).values(name=name, platform=platform, started_at=now,
                                            heartbeat_at=now)
    await conn.execute(stmt.on_conflict_do_update(
        index_elements=["name"], set_={"heartbeat_at": stmt.excluded.heartbeat_at}))


def alive_since(cutoff: datetime, exclude: tuple[str, ...] = ()) -> sa.Select:
    """The names of workers that beat at or after `cutoff`, less `exclude` (known dead)."""
    query = sa.select(workers.c.name).where(workers.c.heartbeat_at >= cutoff)
    if exclude:
        query = query.where(workers.c.name.not_in(exclude))
    return query


async def on_platform(conn: AsyncConnection, platform: str) -> list[tuple[str, datetime]]:
    query = (sa.select(workers.c.name, workers.c.heartbeat_at)
             .where(workers.c.platform == platform))
    return [(r.name, r.heartbeat_at) for r in await conn.execute(query)]


async def remove(conn: AsyncConnection, *names: str) -> None:
    if names:
        await conn.execute(workers.delete().where(workers.c.name.in_(names)))
