"""Writing notifications into the outbox, inside the caller's transaction.

The choice of platform is made here, when the notice is queued: the platform the member used
last, if that account is still reachable there, else the most recently seen reachable one. The
delivering adapter may move the row to another platform later if this one turns out closed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.i18n import Translator
from bot.reply import Reply
from bot.spec import NoticeKind
from bot.storage import members as member_repo
from bot.storage import outbox as outbox_repo
from bot.storage.db import Database
from bot.storage.members import AccountRow


class Notifier:
    """Queues notices, renders them for delivery, and wakes the deliverers. Each deliverer has
    its own event: one shared event cleared by the Telegram deliverer would swallow a wake-up
    meant for Discord's."""

    def __init__(self, db: Database, kinds: Mapping[str, NoticeKind]):
        self.db = db
        self.kinds = kinds
        self._listeners: list[asyncio.Event] = []

    def render(self, t: Translator, kind: str, params: dict[str, Any]) -> Reply:
        """A queued notice for one reader; an unknown kind (from a newer version) raises
        KeyError, which the deliverer treats as a failure to retry later."""
        return self.kinds[kind].render(t, params)

    def subscribe(self) -> asyncio.Event:
        event = asyncio.Event()
        self._listeners.append(event)
        return event

    def unsubscribe(self, event: asyncio.Event) -> None:
        if event in self._listeners:
            self._listeners.remove(event)

    def wake(self) -> None:
        """Something may be due now: every deliverer looks."""
        for event in self._listeners:
            event.set()

    async def to_member(self, conn: AsyncConnection, member_id: int, kind: NoticeKind,
                        params: dict[str, Any], dedupe_key: str, now: datetime,
                        platform: str | None = None) -> bool:
        """Queue a direct message; False when the member turned notices off or has no
        reachable account, or this notice was queued before.

        `platform`: where the member should read it (a decision on a submission goes where
        it was submitted from); when that account is unreachable or no longer linked, the
        platform they used last, else the newest reachable one."""
        member, accounts = await member_repo.notice_targets(conn, member_id)
        if member is None or not member.notify:
            return False
        account = (pick_account(accounts, platform, only=True) if platform else None) or \
            pick_account(accounts, member.last_platform)
        if account is None:
            return False
        queued = await outbox_repo.enqueue(
            conn, self.db.insert_ignore, platform=account.platform, kind=kind.name,
            params=params, dedupe_key=dedupe_key, now=now, member_id=member_id)
        if queued:
            self.db.after_commit(conn, self.wake)
        return queued


def pick_account(accounts: list[AccountRow], preferred: str | None,
                 exclude: str | None = None, only: bool = False) -> AccountRow | None:
    """The account to notify: the preferred platform first, then (unless `only`) the newest
    reachable one."""
    usable = [a for a in accounts if a.reachable and a.platform != exclude
              and (not only or a.platform == preferred)]
    for account in sorted(usable, key=lambda a: a.id, reverse=True):
        if account.platform == preferred:
            return account
    return max(usable, key=lambda a: a.id, default=None)
