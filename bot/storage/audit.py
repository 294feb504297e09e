"""The audit record: who did what, to whom, when (the only SQL for it)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.schema import audit


@dataclass(frozen=True)
class AuditRow:
    id: int
    actor_member_id: int | None
    action: str
    target_member_id: int | None
    target_ref: str | None
    detail: dict[str, Any]
    created_at: datetime


async def insert(conn: AsyncConnection, *, actor_member_id: int | None, action: str,
                 target_member_id: int | None, target_ref: str | None,
                 detail: dict[str, Any], now: datetime) -> int:
    result = await conn.execute(audit.insert().values(
        actor_member_id=actor_member_id, action=action, target_member_id=target_member_id,
        target_ref=target_ref, detail=json.dumps(detail, ensure_ascii=False, default=str),
        created_at=now).returning(audit.c.id))
    return result.scalar_one()


async def recent(conn: AsyncConnection, *, member_id: int | None = None,
                 limit: int = 50) -> list[AuditRow]:
    """Newest first; with `member_id`, the records where they acted or were the target."""
    query = sa.select(audit).order_by(audit.c.id.desc()).limit(limit)
    if member_id is not None:
        query = query.where(sa.or_(audit.c.actor_member_id == member_id,
                                   audit.c.target_member_id == member_id))
    return [AuditRow(r.id, r.actor_member_id, r.action, r.target_member_id, r.target_ref,
                     json.loads(r.detail), r.created_at) for r in await conn.execute(query)]
