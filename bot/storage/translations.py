"""Content translations: a text of an object (bounty, reward, event, session) in one locale."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.db import insert_for
from bot.storage.schema import translations


async def put(conn: AsyncConnection, *, kind: str, object_id: int, locale: str, field: str,
              text: str, now: datetime) -> None:
    """Add or replace one translation, in one statement (two organisers may race)."""
    stmt = insert_for(conn, translations).values(kind=kind, object_id=object_id, locale=locale,
                                                 field=field, text=text, updated_at=now)
    await conn.execute(stmt.on_conflict_do_update(
        index_elements=["kind", "object_id", "locale", "field"],
        set_={"text": stmt.excluded.text, "updated_at": stmt.excluded.updated_at}))


async def for_locale(conn: AsyncConnection, kind: str, object_ids: Iterable[int],
                     locale: str) -> dict[tuple[int, str], str]:
    """(object id, field) -> text, for the objects of one list and one reader's locale."""
    ids = list(object_ids)
    if not ids:
        return {}
    query = sa.select(translations.c.object_id, translations.c.field, translations.c.text).where(
        translations.c.kind == kind, translations.c.locale == locale,
        translations.c.object_id.in_(ids))
    return {(r.object_id, r.field): r.text for r in await conn.execute(query)}


async def every_locale(conn: AsyncConnection, kind: str, object_id: int,
                       field: str) -> dict[str, str]:
    """locale -> text of one field of one object: what a notice carries, so it can be read in
    whichever language its reader has when it is delivered."""
    query = sa.select(translations.c.locale, translations.c.text).where(
        translations.c.kind == kind, translations.c.object_id == object_id,
        translations.c.field == field)
    return {r.locale: r.text for r in await conn.execute(query)}
