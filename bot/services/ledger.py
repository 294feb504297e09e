"""Points: awards, corrections and spends as ledger entries; balances, ranks and leaderboards.

Points are a loyalty score, never money: there is deliberately no transfer between members.
Every movement is one transaction that writes the entry (once per idempotency key), moves the
cached balance with a conditional update, and queues the member's notice.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection

from bot import errors
from bot.model import MAX_POINTS
from bot.services.audit import Audit
from bot.services.notices import Notifier
from bot.spec import NoticeKind
from bot.storage import ledger as repo
from bot.storage import members as member_repo
from bot.storage.db import Database
from bot.storage.ledger import Entry

LEADERBOARD_SIZE = 10


class Period(enum.StrEnum):
    ALL = "all"
    MONTH = "month"
    WEEK = "week"


@dataclass(frozen=True)
class Movement:
    entry: Entry
    balance: int
    replayed: bool


@dataclass(frozen=True)
class Standing:
    balance: int
    earned: int
    rank: int | None


@dataclass(frozen=True)
class Ranked:
    rank: int
    member_id: int
    name: str | None
    points: int


class LedgerService:
    def __init__(self, db: Database, notifier: Notifier, clock: Callable[[], datetime],
                 default_tz: ZoneInfo, audit: Audit | None = None):
        self.db = db
        self.notifier = notifier
        self.audit = audit
        self.clock = clock
        self.default_tz = default_tz

    async def credit(self, member_id: int, amount: int, **how: Any) -> Movement:
        """Add points once per `key`, in a transaction of its own (see `credit_in`)."""
        async with self.db.write() as conn:
            return await self.credit_in(conn, member_id, amount, **how)

    async def debit(self, member_id: int, amount: int, **how: Any) -> Movement:
        """Take points once per `key`, in a transaction of its own (see `debit_in`)."""
        async with self.db.write() as conn:
            return await self.debit_in(conn, member_id, amount, **how)

    async def credit_in(self, conn: AsyncConnection, member_id: int, amount: int, *, kind: str,
                        reason: str | None, key: str, actor_member_id: int | None = None,
                        ref: str | None = None, notice: NoticeKind | None = None,
                        audit: str | None = None, platform: str | None = None) -> Movement:
        """Add points inside the caller's transaction, once per `key`.

        A feature's change and its points commit together ("approve S12 + credit", "cancel O9
        + refund"). The key names the object, not the invocation (`bounty:S12`), so a second
        press, a second organiser or a redelivered update credits nothing more: a replayed key
        returns the first movement with `replayed=True`. `audit` names the organiser action to
        record with it (`points.award`); `platform` is where the member should read the notice
        (see Notifier.to_member)."""
        _check_amount(amount)
        return await self._move(conn, member_id, amount, kind=kind, reason=reason, key=key,
                                actor_member_id=actor_member_id, ref=ref, notice=notice,
                                audit=audit, platform=platform)

    async def debit_in(self, conn: AsyncConnection, member_id: int, amount: int, *, kind: str,
                       reason: str | None, key: str, actor_member_id: int | None = None,
                       ref: str | None = None, notice: NoticeKind | None = None,
                       audit: str | None = None, platform: str | None = None) -> Movement:
        """Take points inside the caller's transaction, once per `key`; InsufficientPoints
        beyond the balance, which rolls back the caller's whole transaction ("stock − 1 +
        order + debit" never half-happens)."""
        _check_amount(amount)
        return await self._move(conn, member_id, -amount, kind=kind, reason=reason, key=key,
                                actor_member_id=actor_member_id, ref=ref, notice=notice,
                                audit=audit, platform=platform)

    async def _move(self, conn: AsyncConnection, member_id: int, amount: int, *, kind: str,
                    reason: str | None, key: str, actor_member_id: int | None,
                    ref: str | None, notice: NoticeKind | None,
                    audit: str | None, platform: str | None) -> Movement:
        now = self.clock()
        entry_id = await repo.insert_entry(
            conn, self.db.insert_ignore, member_id=member_id, amount=amount, kind=kind,
            reason=reason, ref=ref, actor_member_id=actor_member_id, idem_key=key, now=now)
        if entry_id is None:
            entry = await repo.by_key(conn, key)
            member = await member_repo.get_member(conn, entry.member_id)
            return Movement(entry, member.balance, replayed=True)
        balance = await repo.apply_to_balance(conn, member_id, amount,
                                              repo.counts_as_earned(kind))
        if balance is None:
            member = await member_repo.get_member(conn, member_id)
            # Raising rolls back the entry written above: nothing half-done remains.
            raise errors.InsufficientPoints(balance=member.balance if member else 0,
                                            amount=-amount)
        if notice:
            params = {"amount": abs(amount), "reason": reason or "", "balance": balance}
            await self.notifier.to_member(conn, member_id, notice, params,
                                          dedupe_key=f"{key}:notice", now=now,
                                          platform=platform)
        if audit and self.audit is not None:
            await self.audit.record(conn, actor_member_id=actor_member_id, action=audit,
                                    target_member_id=member_id, target_ref=ref,
                                    amount=amount, reason=reason, entry=entry_id)
        entry = Entry(entry_id, member_id, amount, kind, reason, ref, actor_member_id, key, now)
        return Movement(entry, balance, replayed=False)

    async def standing(self, member_id: int) -> Standing:
        async with self.db.read() as conn:
            row = await repo.standing(conn, member_id)
        if row is None:
            raise errors.NotFound(what="member")
        return Standing(*row)

    async def history(self, member_id: int, page: int,
                      size: int) -> tuple[list[Entry], int, int]:
        """One page of entries (newest first), the page number shown, and how many pages."""
        async with self.db.scan() as conn:
            total = await repo.count_for(conn, member_id)
            pages = max(1, -(-total // size))
            page = min(max(page, 1), pages)
            entries = await repo.page(conn, member_id, (page - 1) * size, size)
        return entries, page, pages

    async def leaderboard(self, period: Period) -> list[Ranked]:
        """Top members by points earned in the period; spends don't lower a rank."""
        if period == Period.ALL:
            async with self.db.read() as conn:  # the top of an index
                rows = await repo.top_all_time(conn, LEADERBOARD_SIZE)
        else:
            async with self.db.scan() as conn:  # sums the period's ledger
                rows = await repo.top_since(conn, self.period_start(period), LEADERBOARD_SIZE)
        return _ranked(rows)

    def period_start(self, period: Period) -> datetime:
        """Calendar month or ISO week, in the campus's default time zone."""
        local = self.clock().astimezone(self.default_tz)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        if period == Period.MONTH:
            start = midnight.replace(day=1)
        else:
            start = midnight - timedelta(days=local.isoweekday() - 1)
        # Rebuild in the zone so a DST change between the start and today is honoured.
        return datetime(start.year, start.month, start.day, tzinfo=self.default_tz)

    async def check_invariants(self) -> list[str]:
        """Balances equal their ledger sums and none is negative; returns what is broken."""
        async with self.db.scan() as conn:
            sums = await repo.sums_by_member(conn)
            problems = []
            for member in await member_repo.all_members(conn):
                if member.balance != sums.get(member.id, 0):
                    problems.append(f"member {member.id}: balance {member.balance} "
                                    f"!= ledger {sums.get(member.id, 0)}")
                if member.balance < 0:
                    problems.append(f"member {member.id}: negative balance {member.balance}")
        return problems


def _check_amount(amount: int) -> None:
    if not 1 <= amount <= MAX_POINTS:
        raise errors.UsageError(option="amount")


def _ranked(rows: list[tuple[int, str | None, int]]) -> list[Ranked]:
    ranked: list[Ranked] = []
    for index, (member_id, name, points) in enumerate(rows):
        tied = ranked and ranked[-1].points == points
        rank = ranked[-1].rank if tied else index + 1
        ranked.append(Ranked(rank, member_id, name, points))
    return ranked
