"""A small key-value table for bookkeeping such as the Discord command-schema hash."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.schema import kv


async def get(conn: AsyncConnection, key: str) -> str | None:
    return (await conn.execute(sa.select(kv.c.value).where(kv.c.key == key))).scalar()


async def put(conn: AsyncConnection, key: str, value: str, now: datetime) -> None:
    updated = await conn.execute(kv.update().where(kv.c.key == key).values(value=value,
                                                                           updated_at=now))
    if not updated.rowcount:
        await conn.execute(kv.insert().values(key=key, value=value, updated_at=now))
