"""The points mall's rewards and orders (the only SQL for them).

Stock is what is left (NULL: unlimited). A unit is taken by one conditional UPDATE
(`stock = stock - 1 WHERE … AND (stock IS NULL OR stock > 0)`), never by reading the stock and
writing it back, so two redemptions of the last unit can never both succeed, on PostgreSQL's
READ COMMITTED (the second waits for the first's row lock, then re-checks the condition) as on
SQLite. Orders are closed the same way: `WHERE state = 'open'`, so a second organiser or a
second press changes nothing.

`get_reward`, `held_by`, `get_order`, `order_by_key` and `order_key_owner` are indexed point
lookups, for `Database.read()` or a write; the lists and their counts grow with the data and
run on `Database.scan()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.prepared import Prepared
from bot.storage.schema import members, orders, rewards

OPEN = "open"
FULFILLED = "fulfilled"
CANCELLED = "cancelled"
STATES = (OPEN, FULFILLED, CANCELLED)


@dataclass(frozen=True)
class RewardRow:
    id: int
    name: str
    description: str
    cost: int
    stock: int | None
    per_member: int | None
    active: bool
    created_by: int | None
    created_at: datetime


@dataclass(frozen=True)
class OrderRow:
    id: int
    reward_id: int
    member_id: int
    cost: int
    state: str
    platform: str | None
    reason: str | None
    idem_key: str
    created_at: datetime
    closed_at: datetime | None
    closed_by: int | None
    reward_name: str = ""
    member_name: str | None = None


_REWARD_COLS = [rewards.c[name] for name in RewardRow.__dataclass_fields__]
_ORDER_COLS = [orders.c[name] for name in OrderRow.__dataclass_fields__
               if name not in ("reward_name", "member_name")]
_ORDER_SELECT = (
    sa.select(*_ORDER_COLS, rewards.c.name.label("reward_name"),
              members.c.display_name.label("member_name"))
    .join(rewards, rewards.c.id == orders.c.reward_id)
    .join(members, members.c.id == orders.c.member_id)
)


def _reward(row) -> RewardRow:
    return RewardRow(**row._mapping)


def _order(row) -> OrderRow:
    return OrderRow(**row._mapping)


# -- rewards ----------------------------------------------------------------------------------

async def insert_reward(conn: AsyncConnection, *, name: str, description: str, cost: int,
                        stock: int | None, per_member: int | None, created_by: int | None,
                        now: datetime) -> int:
    result = await conn.execute(rewards.insert().values(
        name=name, description=description, cost=cost, stock=stock, per_member=per_member,
        active=True, created_by=created_by, created_at=now).returning(rewards.c.id))
    return result.scalar_one()


# A redemption's statements are built once, with bound parameters (as bot.storage.ledger's
# are): hundreds of members redeem the same reward at once, and rebuilding a statement costs
# more than SQLite running it.
_GET_REWARD = Prepared(sa.select(*_REWARD_COLS).where(rewards.c.id == sa.bindparam("rid")))
_HELD_BY = Prepared(sa.select(sa.func.count()).select_from(orders).where(
    orders.c.member_id == sa.bindparam("mid"), orders.c.reward_id == sa.bindparam("rid"),
    orders.c.state != CANCELLED))
_ORDER_BY_KEY = Prepared(sa.select(orders.c.id, orders.c.member_id)
                         .where(orders.c.idem_key == sa.bindparam("key")))
_TAKE_UNIT = (rewards.update()
              .where(rewards.c.id == sa.bindparam("rid"), rewards.c.active.is_(True),
                     sa.or_(rewards.c.stock.is_(None), rewards.c.stock > 0))
              .values(stock=rewards.c.stock - 1)
              .returning(rewards.c.cost, rewards.c.per_member))
_INSERTS: dict[str, sa.Insert] = {}


async def get_reward(conn: AsyncConnection, reward_id: int) -> RewardRow | None:
    row = await _GET_REWARD.first(conn, rid=reward_id)
    return RewardRow(*row) if row else None


async def update_reward(conn: AsyncConnection, reward_id: int, **values) -> RewardRow | None:
    """Set the given columns; the row as it is now, or None when there is no such reward."""
    row = (await conn.execute(rewards.update().where(rewards.c.id == reward_id)
                              .values(**values).returning(*_REWARD_COLS))).first()
    return _reward(row) if row else None


async def take_unit(conn: AsyncConnection, reward_id: int) -> tuple[int, int | None] | None:
    """One unit out of stock, if the reward is active and has one left (unlimited: NULL stays
    NULL). The whole check is the UPDATE's WHERE clause: no read-then-write. Returns the cost
    and per-member limit as they are at that moment, or None when no unit was taken."""
    row = (await conn.execute(_TAKE_UNIT, {"rid": reward_id})).first()
    return (row[0], row[1]) if row else None


async def return_unit(conn: AsyncConnection, reward_id: int) -> None:
    """A cancelled order's unit back into stock (nothing to do for an unlimited reward)."""
    await conn.execute(rewards.update()
                       .where(rewards.c.id == reward_id, rewards.c.stock.is_not(None))
                       .values(stock=rewards.c.stock + 1))


def _shown(query, hidden: bool):
    """Members see active rewards; organisers (`hidden`) also the hidden ones, to edit them."""
    return query if hidden else query.where(rewards.c.active.is_(True))


async def count_shown(conn: AsyncConnection, hidden: bool = False) -> int:
    query = _shown(sa.select(sa.func.count()).select_from(rewards), hidden)
    return (await conn.execute(query)).scalar_one()


async def shown_page(conn: AsyncConnection, offset: int, limit: int,
                     hidden: bool = False) -> list[RewardRow]:
    query = (_shown(sa.select(*_REWARD_COLS), hidden)
             .order_by(rewards.c.id).offset(offset).limit(limit))
    return [_reward(r) for r in await conn.execute(query)]


# -- orders -----------------------------------------------------------------------------------

async def held_by(conn: AsyncConnection, member_id: int, reward_id: int) -> int:
    """How many of this reward the member holds: their orders that are not cancelled (on
    ix_orders_member_id_reward_id). Run after locking the member row, so it is exact."""
    row = await _HELD_BY.first(conn, mid=member_id, rid=reward_id)
    return int(row[0]) if row else 0


async def order_key_owner(conn: AsyncConnection, idem_key: str) -> tuple[int, int] | None:
    """(order id, member id) of the order written with this key, if any."""
    row = await _ORDER_BY_KEY.first(conn, key=idem_key)
    return (row[0], row[1]) if row else None


async def insert_order(conn: AsyncConnection, insert_ignore, *, reward_id: int, member_id: int,
                       cost: int, platform: str | None, idem_key: str,
                       now: datetime) -> int | None:
    """Insert once per idempotency key; None when the key was used before."""
    dialect = conn.dialect.name
    if dialect not in _INSERTS:
        _INSERTS[dialect] = (insert_ignore(orders)
                             .on_conflict_do_nothing(index_elements=["idem_key"])
                             .returning(orders.c.id))
    values = dict(reward_id=reward_id, member_id=member_id, cost=cost, state=OPEN,
                  platform=platform, idem_key=idem_key, created_at=now)
    return (await conn.execute(_INSERTS[dialect], values)).scalar()


async def order_by_key(conn: AsyncConnection, idem_key: str) -> OrderRow | None:
    row = (await conn.execute(_ORDER_SELECT.where(orders.c.idem_key == idem_key))).first()
    return _order(row) if row else None


async def get_order(conn: AsyncConnection, order_id: int) -> OrderRow | None:
    row = (await conn.execute(_ORDER_SELECT.where(orders.c.id == order_id))).first()
    return _order(row) if row else None


async def close_order(conn: AsyncConnection, order_id: int, *, state: str, by: int | None,
                      reason: str | None, now: datetime) -> bool:
    """Fulfil or cancel an open order; False when it is not open (any more)."""
    values = dict(state=state, closed_by=by, closed_at=now)
    if reason is not None:
        values["reason"] = reason
    result = await conn.execute(orders.update()
                                .where(orders.c.id == order_id, orders.c.state == OPEN)
                                .values(**values))
    return bool(result.rowcount)


def _state_filter(state: str | None) -> list[sa.ColumnElement]:
    return [orders.c.state == state] if state else []


async def count_orders(conn: AsyncConnection, state: str | None) -> int:
    query = sa.select(sa.func.count()).select_from(orders).where(*_state_filter(state))
    return (await conn.execute(query)).scalar_one()


async def orders_page(conn: AsyncConnection, state: str | None, offset: int,
                      limit: int) -> list[OrderRow]:
    """Open orders oldest first (the queue to work through); with every state, the open ones
    first and then the closed ones, most recently created first."""
    query = _ORDER_SELECT.where(*_state_filter(state)).order_by(
        sa.case((orders.c.state == OPEN, 0), else_=1),
        sa.case((orders.c.state == OPEN, orders.c.id), else_=-orders.c.id),
    ).offset(offset).limit(limit)
    return [_order(r) for r in await conn.execute(query)]


async def count_of_member(conn: AsyncConnection, member_id: int) -> int:
    query = sa.select(sa.func.count()).select_from(orders).where(orders.c.member_id == member_id)
    return (await conn.execute(query)).scalar_one()


async def member_page(conn: AsyncConnection, member_id: int, offset: int,
                      limit: int) -> list[OrderRow]:
    query = (_ORDER_SELECT.where(orders.c.member_id == member_id)
             .order_by(orders.c.id.desc()).offset(offset).limit(limit))
    return [_order(r) for r in await conn.execute(query)]


async def reward_tallies(conn: AsyncConnection) -> list[tuple[int, int | None, int]]:
    """(reward id, stock left, orders not cancelled) for every reward: what the benchmark and
    the tests check (a scan)."""
    held = (sa.select(orders.c.reward_id, sa.func.count().label("held"))
            .where(orders.c.state != CANCELLED).group_by(orders.c.reward_id).subquery())
    query = (sa.select(rewards.c.id, rewards.c.stock, sa.func.coalesce(held.c.held, 0))
             .outerjoin(held, held.c.reward_id == rewards.c.id).order_by(rewards.c.id))
    return [(r[0], r[1], int(r[2])) for r in await conn.execute(query)]
