"""The points ledger: append-only entries, and the cached balance they add up to.

`members.balance` and `members.earned` are caches of the ledger kept in the same transaction as
each entry; the conditional `UPDATE … WHERE balance >= :n` is what stops two concurrent spends
from overspending on PostgreSQL's READ COMMITTED as on SQLite, with no read-then-write.

`by_key`, `standing` and `top_all_time` are indexed point lookups, for `Database.read()`; the
rest grow with the ledger and run on `Database.scan()` (bot.storage.db says why).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.prepared import Prepared
from bot.storage.schema import ledger, members

# Kinds that move points without counting as "earned" for ranks: spending and its refunds.
SPEND_KINDS = ("redemption", "refund")


@dataclass(frozen=True)
class Entry:
    id: int
    member_id: int
    amount: int
    kind: str
    reason: str | None
    ref: str | None
    actor_member_id: int | None
    idem_key: str
    created_at: datetime


_COLS = [ledger.c[name] for name in Entry.__dataclass_fields__]


def counts_as_earned(kind: str) -> bool:
    return kind not in SPEND_KINDS


# Point movements are the hot path: their statements are built once, with bound parameters,
# so SQLAlchemy reuses one cache key instead of rebuilding the statement on every call.
_INSERTS: dict[str, sa.Insert] = {}
_AMOUNT = sa.bindparam("amount", type_=sa.BigInteger())
_BALANCE_UPDATES = {
    (earned, spend): members.update()
    .where(members.c.id == sa.bindparam("mid"),
           *([members.c.balance >= -_AMOUNT] if spend else []))
    .values(balance=members.c.balance + _AMOUNT,
            **({"earned": members.c.earned + _AMOUNT} if earned else {}))
    .returning(members.c.balance)
    for earned in (True, False) for spend in (True, False)
}


def _insert_statement(insert_ignore) -> sa.Insert:
    key = insert_ignore.__self__.dialect  # one statement per backend
    if key not in _INSERTS:
        _INSERTS[key] = (insert_ignore(ledger)
                         .on_conflict_do_nothing(index_elements=["idem_key"])
                         .returning(ledger.c.id))
    return _INSERTS[key]


async def insert_entry(conn: AsyncConnection, insert_ignore, *, member_id: int, amount: int,
                       kind: str, reason: str | None, ref: str | None,
                       actor_member_id: int | None, idem_key: str, now: datetime) -> int | None:
    """Insert once per idempotency key; None means this key was written before (a replay)."""
    values = dict(member_id=member_id, amount=amount, kind=kind, reason=reason, ref=ref,
                  actor_member_id=actor_member_id, idem_key=idem_key, created_at=now)
    return (await conn.execute(_insert_statement(insert_ignore), values)).scalar()


async def apply_to_balance(conn: AsyncConnection, member_id: int, amount: int,
                           earned: bool) -> int | None:
    """Add `amount` (negative to spend) unless the balance would go below zero.

    Returns the new balance, or None when the member has too few points.
    """
    query = _BALANCE_UPDATES[(earned, amount < 0)]
    return (await conn.execute(query, {"mid": member_id, "amount": amount})).scalar()


async def by_key(conn: AsyncConnection, idem_key: str) -> Entry | None:
    row = (await conn.execute(sa.select(*_COLS).where(ledger.c.idem_key == idem_key))).first()
    return Entry(**row._mapping) if row else None


async def page(conn: AsyncConnection, member_id: int, offset: int, limit: int) -> list[Entry]:
    """A scan: OFFSET walks every newer entry of the member."""
    query = (sa.select(*_COLS).where(ledger.c.member_id == member_id)
             .order_by(ledger.c.id.desc()).offset(offset).limit(limit))
    return [Entry(**r._mapping) for r in await conn.execute(query)]


async def count_for(conn: AsyncConnection, member_id: int) -> int:
    """A scan: counts all of the member's entries on ix_ledger_member_id_id."""
    query = sa.select(sa.func.count()).select_from(ledger).where(ledger.c.member_id == member_id)
    return (await conn.execute(query)).scalar_one()


_others = members.alias("others")
_STANDING = Prepared(sa.select(
    members.c.balance, members.c.earned,
    sa.case((members.c.earned > 0,
             sa.select(sa.func.count()).select_from(_others)
             .where(_others.c.earned > members.c.earned).scalar_subquery() + 1),
            else_=None).label("rank"),
).where(members.c.id == sa.bindparam("member_id")))


async def standing(conn: AsyncConnection, member_id: int) -> tuple[int, int, int | None] | None:
    """Balance, earned and all-time rank (none before the first point) in one indexed query,
    because `/points` is the command members send most."""
    return await _STANDING.first(conn, member_id=member_id)  # type: ignore[return-value]


_TOP_ALL_TIME = Prepared(sa.select(members.c.id, members.c.display_name, members.c.earned)
                         .where(members.c.earned > 0)
                         .order_by(members.c.earned.desc(), members.c.id)
                         .limit(sa.bindparam("limit", type_=sa.Integer)))


async def top_all_time(conn: AsyncConnection, limit: int) -> list[tuple[int, str | None, int]]:
    return await _TOP_ALL_TIME.all(conn, limit=limit)  # type: ignore[return-value]


async def top_since(conn: AsyncConnection, since: datetime,
                    limit: int) -> list[tuple[int, str | None, int]]:
    """A scan: sums every entry since `since` (SQLite walks the whole ledger to group it)."""
    total = sa.func.sum(ledger.c.amount).label("total")
    sub = (sa.select(ledger.c.member_id, total)
           .where(ledger.c.created_at >= since, ledger.c.kind.not_in(SPEND_KINDS))
           .group_by(ledger.c.member_id).having(total > 0).subquery())
    query = (sa.select(sub.c.member_id, members.c.display_name, sub.c.total)
             .join(members, members.c.id == sub.c.member_id)
             .order_by(sub.c.total.desc(), sub.c.member_id).limit(limit))
    return [(r.member_id, r.display_name, int(r.total)) for r in await conn.execute(query)]


async def sums_by_member(conn: AsyncConnection) -> dict[int, int]:
    """Every member's ledger total (a scan): the invariant check compares it with the cached
    balance."""
    total = sa.func.sum(ledger.c.amount)
    query = sa.select(ledger.c.member_id, total).group_by(ledger.c.member_id)
    return {member_id: int(total) for member_id, total in await conn.execute(query)}


async def entries_since(conn: AsyncConnection, since: datetime | None) -> list[Entry]:
    """A scan, for exports."""
    query = sa.select(*_COLS).order_by(ledger.c.id)
    if since is not None:
        query = query.where(ledger.c.created_at >= since)
    return [Entry(**r._mapping) for r in await conn.execute(query)]
