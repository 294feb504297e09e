"""Content in several languages: what organisers wrote, and its translations per locale.

An object's own row holds its texts in the campus's default locale (as the organiser wrote
them); `/translate` adds a text per locale and field. A list reads the translations for all its
objects in one query, and the view shows each reader their locale's text or, where none exists
yet, the original with a short note (bot.views.content).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage import translations as repo
from bot.storage.db import Database

Texts = dict[tuple[int, str], str]


class Translations:
    def __init__(self, db: Database, clock: Callable[[], datetime], default_locale: str):
        self.db = db
        self.clock = clock
        self.default_locale = default_locale

    async def set_in(self, conn: AsyncConnection, kind: str, object_id: int, locale: str,
                     fields: dict[str, str]) -> None:
        """Add or change texts inside the caller's transaction (with its audit record)."""
        now = self.clock()
        for field, text in fields.items():
            await repo.put(conn, kind=kind, object_id=object_id, locale=locale, field=field,
                           text=text, now=now)

    @staticmethod
    async def every_locale_in(conn: AsyncConnection, kind: str, object_id: int,
                              field: str) -> dict[str, str]:
        """A field's translations in all locales, for a notice's params (read with
        bot.views.content.noticed when the notice is delivered)."""
        return await repo.every_locale(conn, kind, object_id, field)

    async def for_reader(self, kind: str, object_ids: Iterable[int], locale: str) -> Texts:
        """The reader's translations of these objects; empty in the default locale, whose
        texts are the objects' own."""
        if locale == self.default_locale:
            return {}
        async with self.db.read() as conn:
            return await repo.for_locale(conn, kind, object_ids, locale)
