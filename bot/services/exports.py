"""CSV exports: the rows behind `campusbot export KIND`, read in the service's own query (a
scan: it runs off the event loop, see bot.storage.db).

Each kind is a method; `run(kind, since)` dispatches to it, so the CLI opens no transaction and
knows no table. (The features add their kinds here: bounties, attendees, ambassadors, audit.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from bot.storage import ledger, members
from bot.storage.db import Database


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: list[list[Any]]


class Exports:
    KINDS = ("ledger", "members")

    def __init__(self, db: Database):
        self.db = db

    async def run(self, kind: str, since: date | None = None) -> Table:
        if kind == "ledger":
            return await self.ledger(since)
        if kind == "members":
            return await self.members()
        raise ValueError(f"unknown export {kind!r}")

    async def ledger(self, since: date | None) -> Table:
        start = datetime.combine(since, datetime.min.time(), UTC) if since else None
        async with self.db.scan() as conn:
            entries = await ledger.entries_since(conn, start)
        return Table(["id", "member_id", "amount", "kind", "reason", "ref", "actor",
                      "created_at"],
                     [[e.id, e.member_id, e.amount, e.kind, e.reason, e.ref, e.actor_member_id,
                       e.created_at.isoformat()] for e in entries])

    async def members(self) -> Table:
        async with self.db.scan() as conn:
            found = await members.all_members(conn)
        return Table(["id", "display_name", "role", "balance", "earned", "locale"],
                     [[m.id, m.display_name, m.role, m.balance, m.earned, m.locale]
                      for m in found])
