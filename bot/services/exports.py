"""The reads behind the CSV exports: each method returns a `Table`, read in the service's own
query (a scan: it runs off the event loop, see bot.storage.db).

The features declare the kinds (`router.export(...)` in bot.commands.points and
bot.commands.identity) and call these methods, so `campusbot export KIND` and a chat command's
CSV attachment share the same rows, and neither opens a transaction or knows a table.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.spec import Table
from bot.storage import ledger, members
from bot.storage.db import Database

__all__ = ["Exports", "Table"]


class Exports:
    def __init__(self, db: Database):
        self.db = db

    async def ledger_rows(self, since: date | None = None) -> Table:
        """Every ledger entry (from the start of `since`, UTC, when given), oldest first."""
        start = datetime.combine(since, datetime.min.time(), UTC) if since else None
        async with self.db.scan() as conn:
            entries = await ledger.entries_since(conn, start)
        return Table(["id", "member_id", "amount", "kind", "reason", "ref", "actor",
                      "created_at"],
                     [[e.id, e.member_id, e.amount, e.kind, e.reason, e.ref, e.actor_member_id,
                       e.created_at.isoformat()] for e in entries])

    async def member_rows(self) -> Table:
        async with self.db.scan() as conn:
            found = await members.all_members(conn)
        return Table(["id", "display_name", "role", "balance", "earned", "locale"],
                     [[m.id, m.display_name, m.role, m.balance, m.earned, m.locale]
                      for m in found])
