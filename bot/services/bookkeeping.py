"""Small facts the bot keeps for itself between runs, such as the Discord command-schema hash.

Adapters read and write them here, so no adapter opens a transaction or touches storage.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.storage import kv
from bot.storage.db import Database


class Bookkeeping:
    def __init__(self, db: Database, clock: Callable[[], datetime]):
        self.db = db
        self.clock = clock

    async def get(self, key: str) -> str | None:
        async with self.db.read() as conn:
            return await kv.get(conn, key)

    async def put(self, key: str, value: str) -> None:
        async with self.db.write() as conn:
            await kv.put(conn, key, value, self.clock())
