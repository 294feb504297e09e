"""The `page_filters` table: list filters kept server-side under a short token."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.db import insert_for
from bot.storage.schema import page_filters


async def get(conn: AsyncConnection, token: str) -> tuple[str, datetime] | None:
    """(payload, created_at) of a token, by its primary key."""
    row = (await conn.execute(
        sa.select(page_filters.c.payload, page_filters.c.created_at)
        .where(page_filters.c.token == token))).first()
    return (row.payload, row.created_at) if row else None


async def put(conn: AsyncConnection, token: str, payload: str, now: datetime) -> bool:
    """Insert unless the token is there already (two presses making it at once both succeed);
    True when this call inserted it."""
    stmt = insert_for(conn, page_filters).values(token=token, payload=payload, created_at=now)
    result = await conn.execute(stmt.on_conflict_do_nothing(index_elements=["token"]))
    return result.rowcount == 1


async def touch(conn: AsyncConnection, token: str, now: datetime, older_than: datetime) -> None:
    """A token in use again starts its life again (a row is kept while its lists are read)."""
    await conn.execute(
        sa.update(page_filters)
        .where(page_filters.c.token == token, page_filters.c.created_at < older_than)
        .values(created_at=now))


async def delete_before(conn: AsyncConnection, cutoff: datetime) -> int:
    result = await conn.execute(
        sa.delete(page_filters).where(page_filters.c.created_at < cutoff))
    return result.rowcount
