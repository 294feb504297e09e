"""The audit record of organiser actions, written inside the action's own transaction.

Every organiser command records what it did through `Audit.record(conn, …)` on the connection
of the transaction that does it: the record and the change commit together or not at all, so
the log never shows an action that didn't happen, nor misses one that did.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage import audit as repo
from bot.storage.audit import AuditRow
from bot.storage.db import Database


class Audit:
    def __init__(self, db: Database, clock: Callable[[], datetime]):
        self.db = db
        self.clock = clock

    async def record(self, conn: AsyncConnection, *, actor_member_id: int | None, action: str,
                     target_member_id: int | None = None, target_ref: str | None = None,
                     **detail: Any) -> int:
        """`action` is a dotted name (`points.award`, `roles.grant`, `bounty.approve`);
        `detail` holds what a reader of the log needs (amounts, reasons, old and new values)."""
        return await repo.insert(conn, actor_member_id=actor_member_id, action=action,
                                 target_member_id=target_member_id, target_ref=target_ref,
                                 detail=detail, now=self.clock())

    async def recent(self, member_id: int | None = None, limit: int = 50) -> list[AuditRow]:
        async with self.db.read() as conn:
            return await repo.recent(conn, member_id=member_id, limit=limit)
