"""A small key-value table for bookkeeping such as the Discord command-schema hash."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.db import insert_for
from bot.storage.schema import kv


async def get(conn: AsyncConnection, key: str) -> str | None:
    return (await conn.execute(sa.select(kv.c.value).where(kv.c.key == key))).scalar()


async def put(conn: AsyncConnection, key: str, value: str, now: datetime) -> None:
    """Insert or replace in one statement: two processes starting together both write."""
    stmt = insert_for(conn, kv).values(key=key, value=value, updated_at=now)
    await conn.execute(stmt.on_conflict_do_update(
        index_elements=["key"], set_={"value": stmt.excluded.value,
                                      "updated_at": stmt.excluded.updated_at}))


async def forget(conn: AsyncConnection, prefix: str, before: datetime) -> int:
    """Delete the rows under `prefix` last written before `before`; how many went."""
    result = await conn.execute(kv.delete().where(kv.c.key.startswith(prefix, autoescape=True),
                                                  kv.c.updated_at < before))
    return result.rowcount
