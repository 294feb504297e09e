"""The points mall: rewards organisers offer, and the orders members redeem them with.

Points stay a loyalty score: the mall never pays out money or tokens, and nothing here moves
points between members. A redemption is one write transaction: lock the member's row (so one
member's concurrent redemptions, from one account or two linked ones, run one after the other),
take one unit of stock by a conditional UPDATE, write the order and debit the points; any
refusal rolls all of it back. Each redemption is written once per invocation key
(`orders.idem_key`), so a redelivered update or a double-pressed button makes one order.

Fulfilling or cancelling is conditional on the order being open; a cancellation refunds the
points with a reversing ledger entry (once: key `refund:O<id>`) and returns the unit to stock.
Both tell the member, and every organiser action writes its audit record in the same
transaction. The organiser's role is checked here again, whatever the caller checked before.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import ClassVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot import errors
from bot.errors import Message, Plural
from bot.i18n import N_
from bot.ids import IdKind, format_id
from bot.model import MAX_POINTS, Role
from bot.services.audit import Audit
from bot.services.ledger import LedgerService, Movement
from bot.services.notices import Notifier
from bot.spec import NoticeKind
from bot.storage import kv as kv_repo
from bot.storage import mall as repo
from bot.storage import members as member_repo
from bot.storage.db import Database, insert_for
from bot.storage.mall import OrderRow, RewardRow
from bot.storage.schema import kv, translations

NAME_MAX = 120
DESCRIPTION_MAX = 2_000
STOCK_MAX = 1_000_000
LIMIT_MAX = 1_000
REWARD_KIND = "reward"  # the translations' kind for a reward's name and description


# -- errors: each refusal says what to do instead -------------------------------------------

class RewardUnknown(errors.DomainError):
    message = N_("There is no reward {reward}. Send /mall to see the rewards you can redeem.")
    log_level = logging.INFO


class RewardInactive(errors.DomainError):
    message = N_("{reward} ({name}) is no longer offered. Send /mall to see the rewards you "
                 "can redeem.")
    log_level = logging.INFO


class SoldOut(errors.DomainError):
    message = N_("{reward} ({name}) is sold out. Send /mall to choose another reward, or ask an "
                 "organiser whether more are coming.")
    log_level = logging.INFO


class Unaffordable(errors.DomainError):
    message = Plural(
        "{reward} ({name}) costs {cost} point, but your balance is only {balance}. Earn more "
        "points first (/points shows your balance), or send /mall to choose a cheaper reward.",
        "{reward} ({name}) costs {cost} points, but your balance is only {balance}. Earn more "
        "points first (/points shows your balance), or send /mall to choose a cheaper reward.",
        "cost")
    log_level = logging.INFO


class LimitReached(errors.DomainError):
    message = Plural(
        "You already have {limit} order of {reward} ({name}), the most one member may have. "
        "Send /myorders to see your orders, or /mall to choose another reward.",
        "You already have {limit} orders of {reward} ({name}), the most one member may have. "
        "Send /myorders to see your orders, or /mall to choose another reward.",
        "limit")
    log_level = logging.INFO


class OrderUnknown(errors.DomainError):
    message = N_("There is no order {order}. Send /orders to see the open orders.")
    log_level = logging.INFO


class OrderClosed(errors.DomainError):
    """Fulfil or cancel of an order that is no longer open (a second press, a second
    organiser): nothing changes."""

    message = N_("{order} is already cancelled: nothing changed.")
    log_level = logging.INFO

    def template(self) -> Message:
        if self.params.get("state") == repo.FULFILLED:
            return N_("{order} is already fulfilled: nothing changed.")
        return self.message


class StockInvalid(errors.UsageError):
    """`stock=` that is neither a whole number in range nor `unlimited`."""

    def template(self) -> Message:
        return N_("Write the {option} as a whole number from 0 to {max}, or “unlimited” (you "
                  "wrote “{value}”).")


class LimitInvalid(errors.UsageError):
    """`limit=` that is neither a whole number in range nor `none`."""

    def template(self) -> Message:
        return N_("Write the {option} as a whole number from 1 to {max}, or “none” for no "
                  "limit (you wrote “{value}”).")


class NothingToEdit(errors.DomainError):
    message = N_("Tell me what to change, such as cost=400, stock=unlimited or active=no.")
    show_usage = True


# -- results ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Redemption:
    order: OrderRow
    reward: RewardRow
    balance: int
    replayed: bool


@dataclass(frozen=True)
class Cancellation:
    order: OrderRow
    refund: Movement


UNSET: object = object()  # an edit leaves a field alone unless it names it


@dataclass(frozen=True)
class RewardEdit:
    """The fields `/editreward` changes; UNSET ones stay as they are."""

    name: object = UNSET
    description: object = UNSET
    cost: object = UNSET
    stock: object = UNSET       # int, or None for unlimited
    per_member: object = UNSET  # int, or None for no limit
    active: object = UNSET

    FIELDS: ClassVar[tuple[str, ...]] = ("name", "description", "cost", "stock", "per_member",
                                         "active")

    def values(self) -> dict[str, object]:
        return {f: getattr(self, f) for f in self.FIELDS if getattr(self, f) is not UNSET}


def parse_stock(text: str | None, *, command: str) -> int | None:
    """`12` or `unlimited` (None); StockInvalid otherwise."""
    return _parse_count(text, StockInvalid, "stock", ("unlimited",), 0, STOCK_MAX, command)


def parse_limit(text: str | None, *, command: str) -> int | None:
    """`1` or `none` (None: no per-member limit); LimitInvalid otherwise."""
    return _parse_count(text, LimitInvalid, "limit", ("none", "unlimited"), 1, LIMIT_MAX,
                        command)


def _parse_count(text, error, option: str, words: tuple[str, ...], low: int, high: int,
                 command: str) -> int | None:
    if text is None:
        return None
    value = text.strip().replace(",", "").replace("_", "")
    if value.lower() in words:
        return None
    if value.isascii() and value.isdigit() and low <= int(value) <= high:
        return int(value)
    raise error(command=command, option=option, problem="custom", value=text[:40], max=high)


def reward_ref(reward_id: int) -> str:
    return format_id(IdKind.REWARD, reward_id)


def order_ref(order_id: int) -> str:
    return format_id(IdKind.ORDER, order_id)


NEWREWARD_KEYS = "mall:newreward:"  # kv rows: a /newreward invocation -> the reward it made
KEY_DAYS = 7
FORGET_JOB = "mall.forget_keys"


class MallService:
    def __init__(self, db: Database, ledger: LedgerService, notifier: Notifier, audit: Audit,
                 clock: Callable[[], datetime]):
        self.db = db
        self.ledger = ledger
        self.notifier = notifier
        self.audit = audit
        self.clock = clock
        self._queues: dict[int, list] = {}  # reward id -> [lock, waiters] (SQLite, see _queue)

    # -- organisers: rewards -----------------------------------------------------------------

    async def create_reward(self, actor_member_id: int, actor_role: Role, *, name: str,
                            description: str, cost: int, stock: int | None,
                            per_member: int | None, key: str) -> tuple[RewardRow, bool]:
        """A new active reward, once per invocation key: a redelivered /newreward returns the
        reward the first made (True when this call made it)."""
        _organiser(actor_role, "newreward")
        _check_reward(name, description, cost, stock, per_member)
        now = self.clock()
        async with self.db.write() as conn:
            # Claim the key first: a concurrent replay waits here for the first to commit.
            claimed = (await conn.execute(
                insert_for(conn, kv).values(key=f"{NEWREWARD_KEYS}{key}"[:200], value="",
                                            updated_at=now)
                .on_conflict_do_nothing(index_elements=["key"]).returning(kv.c.key))).scalar()
            if claimed is None:
                value = (await conn.execute(sa.select(kv.c.value).where(
                    kv.c.key == f"{NEWREWARD_KEYS}{key}"[:200]))).scalar()
                reward = await repo.get_reward(conn, int(value)) if value else None
                if reward is not None:
                    return reward, False
                raise errors.NotFound(what="reward")
            reward_id = await repo.insert_reward(
                conn, name=name, description=description, cost=cost, stock=stock,
                per_member=per_member, created_by=actor_member_id, now=now)
            await conn.execute(kv.update().where(kv.c.key == claimed)
                               .values(value=str(reward_id)))
            reward = await repo.get_reward(conn, reward_id)
            await self.audit.record(conn, actor_member_id=actor_member_id,
                                    action="mall.reward_create", target_ref=reward_ref(reward_id),
                                    name=name, cost=cost, stock=stock, per_member=per_member)
        assert reward is not None
        return reward, True

    async def forget_keys_in(self, conn: AsyncConnection) -> int:
        """The housekeeping job: a /newreward's invocation key only has to outlive a
        redelivery of its update (Telegram and Discord redeliver within a day), so keys older
        than KEY_DAYS go; the reward itself stays."""
        return await kv_repo.forget(conn, NEWREWARD_KEYS, self.clock() - timedelta(days=KEY_DAYS))

    async def edit_reward(self, actor_member_id: int, actor_role: Role, reward_id: int,
                          edit: RewardEdit) -> tuple[RewardRow, RewardRow]:
        """(before, after). Setting `stock` sets the units left; `active=False` hides the
        reward from /mall and refuses new redemptions (open orders stay open)."""
        _organiser(actor_role, "editreward")
        values = edit.values()
        if not values:
            raise NothingToEdit(command="editreward")
        async with self.db.write() as conn:
            before = await repo.get_reward(conn, reward_id)
            if before is None:
                raise RewardUnknown(reward=reward_ref(reward_id))
            merged = {f: values.get(f, getattr(before, f)) for f in RewardEdit.FIELDS}
            _check_reward(merged["name"], merged["description"], merged["cost"],
                          merged["stock"], merged["per_member"])
            after = await repo.update_reward(conn, reward_id, **values)
            assert after is not None
            await self.audit.record(
                conn, actor_member_id=actor_member_id, action="mall.reward_edit",
                target_ref=reward_ref(reward_id),
                changes={f: [getattr(before, f), getattr(after, f)] for f in values})
        return before, after

    async def reward(self, reward_id: int) -> RewardRow:
        async with self.db.read() as conn:
            found = await repo.get_reward(conn, reward_id)
        if found is None:
            raise RewardUnknown(reward=reward_ref(reward_id))
        return found

    async def shown_rewards(self, page: int, size: int,
                            hidden: bool = False) -> tuple[list[RewardRow], int, int]:
        """A page of the active rewards (with the hidden ones too when `hidden`)."""
        async with self.db.scan() as conn:
            total = await repo.count_shown(conn, hidden)
            number, pages = _clamp(page, total, size)
            rows = await repo.shown_page(conn, (number - 1) * size, size, hidden)
        return rows, number, pages

    # -- members: redeeming ------------------------------------------------------------------

    async def redeem(self, member_id: int, reward_id: int, *, key: str,
                     platform: str | None = None) -> Redemption:
        """Spend the reward's cost, take one unit and open an order, in one transaction, once
        per `key`. Refusals (RewardUnknown, RewardInactive, SoldOut, Unaffordable,
        LimitReached) leave nothing behind."""
        async with self._queue(reward_id):
            return await self._redeem(member_id, reward_id, key, platform)

    @contextlib.asynccontextmanager
    async def _queue(self, reward_id: int) -> AsyncIterator[None]:
        """On SQLite, one redemption of a reward at a time in this process.

        SQLite runs one write transaction at a time anyway (bot.storage.db queues them), so
        this costs no concurrency; what it buys: when a rush sells a reward out, the members
        still queued find that out by an indexed read of microseconds, not each by a write
        transaction of their own. Correctness never depends on it: the conditional UPDATE
        decides, across processes too. PostgreSQL serialises on the reward's row instead."""
        if not self.db.is_sqlite:
            yield
            return
        entry = self._queues.setdefault(reward_id, [asyncio.Lock(), 0])
        entry[1] += 1
        try:
            async with entry[0]:
                yield
        finally:
            entry[1] -= 1
            if entry[1] == 0:
                del self._queues[reward_id]

    async def _redeem(self, member_id: int, reward_id: int, key: str,
                      platform: str | None) -> Redemption:
        async with self.db.read() as conn:  # indexed looks first: most refusals end here
            owner = await repo.order_key_owner(conn, key)
            if owner is not None and owner[1] == member_id:
                return await self._replayed(owner[0], conn)
            reward = await repo.get_reward(conn, reward_id)
            _check_offered(reward, reward_id)
            assert reward is not None
            if reward.per_member is not None:
                _check_limit(reward, await repo.held_by(conn, member_id, reward_id))
            _check_in_stock(reward)
        now = self.clock()
        async with self.db.write() as conn:
            # Exact on SQLite, which holds the write lock: a sold-out rush ends here cheaply.
            # On PostgreSQL a fresh look; the conditional UPDATE below is what decides.
            reward = await repo.get_reward(conn, reward_id)
            _check_offered(reward, reward_id)
            assert reward is not None
            _check_in_stock(reward)
            member = await member_repo.lock_member(conn, member_id)  # serialises this member
            if member is None:
                raise errors.NotFound(what="member")
            owner = await repo.order_key_owner(conn, key)  # a replay that raced the first
            if owner is not None:
                if owner[1] != member_id:  # another member's key: a forged replay
                    raise errors.StaleAction()
                return await self._replayed(owner[0], conn)
            taken = await repo.take_unit(conn, reward_id)
            if taken is None:
                # Sold out (or deactivated) since the look above: say which.
                _check_offered(await repo.get_reward(conn, reward_id), reward_id)
                raise SoldOut(reward=reward_ref(reward_id), name=reward.name)
            cost, per_member = taken  # as they are now, whatever an edit changed meanwhile
            reward = replace(reward, cost=cost, per_member=per_member,
                             stock=None if reward.stock is None else reward.stock - 1)
            # Exact: this member's row is locked, so none of their orders is in flight.
            # A refusal from here on rolls the unit taken above back too.
            if per_member is not None:
                _check_limit(reward, await repo.held_by(conn, member_id, reward_id))
            if member.balance < cost:
                raise _unaffordable(reward, member.balance)
            order_id = await repo.insert_order(
                conn, self.db.insert_ignore, reward_id=reward_id, member_id=member_id,
                cost=cost, platform=platform, idem_key=key, now=now)
            if order_id is None:  # cannot happen under the member's lock; never half-done
                raise errors.StaleAction()
            ref = order_ref(order_id)
            try:
                movement = await self.ledger.debit_in(
                    conn, member_id, cost, kind="redemption", reason=reward.name,
                    key=f"order:{ref}", ref=ref)
            except errors.InsufficientPoints as exc:  # rolls the stock and the order back
                raise _unaffordable(reward, exc.params.get("balance", 0)) from None
        order = OrderRow(order_id, reward_id, member_id, cost, repo.OPEN, platform, None, key,
                         now, None, None, reward.name, member.display_name)
        return Redemption(order, reward, movement.balance, replayed=False)

    @staticmethod
    async def _replayed(order_id: int, conn: AsyncConnection) -> Redemption:
        """What the first redemption with this key answered (the balance as it is now)."""
        order = await repo.get_order(conn, order_id)
        assert order is not None
        reward = await repo.get_reward(conn, order.reward_id)
        member = await member_repo.get_member(conn, order.member_id)
        assert reward is not None and member is not None
        return Redemption(order, reward, member.balance, replayed=True)

    async def member_orders(self, member_id: int, page: int,
                            size: int) -> tuple[list[OrderRow], int, int]:
        async with self.db.scan() as conn:
            total = await repo.count_of_member(conn, member_id)
            number, pages = _clamp(page, total, size)
            rows = await repo.member_page(conn, member_id, (number - 1) * size, size)
        return rows, number, pages

    # -- organisers: orders ------------------------------------------------------------------

    async def orders(self, state: str | None, page: int,
                     size: int) -> tuple[list[OrderRow], int, int, int]:
        """A page of orders (all states when `state` is None), its number, the pages, and
        how many orders in all."""
        async with self.db.scan() as conn:
            total = await repo.count_orders(conn, state)
            number, pages = _clamp(page, total, size)
            rows = await repo.orders_page(conn, state, (number - 1) * size, size)
        return rows, number, pages, total

    async def fulfil(self, actor_member_id: int, actor_role: Role, order_id: int, *,
                     notice: NoticeKind) -> OrderRow:
        _organiser(actor_role, "fulfil")
        now = self.clock()
        async with self.db.write() as conn:
            order = await self._close(conn, order_id, repo.FULFILLED, actor_member_id, None,
                                      now)
            await self.audit.record(conn, actor_member_id=actor_member_id, action="mall.fulfil",
                                    target_member_id=order.member_id,
                                    target_ref=order_ref(order_id),
                                    reward=reward_ref(order.reward_id), cost=order.cost)
            params = await self._notice_params(conn, order)
            await self.notifier.to_member(conn, order.member_id, notice, params,
                                          dedupe_key=f"mall:fulfilled:{order_ref(order_id)}",
                                          now=now, platform=order.platform)
            closed = await repo.get_order(conn, order_id)
        assert closed is not None
        return closed

    async def cancel(self, actor_member_id: int, actor_role: Role, order_id: int, *,
                     reason: str | None, notice: NoticeKind) -> Cancellation:
        """Cancel an open order: refund its points (a reversing `refund` entry, once per
        order), return its unit to stock, tell the member, record it."""
        _organiser(actor_role, "cancelorder")
        now = self.clock()
        async with self.db.write() as conn:
            order = await self._close(conn, order_id, repo.CANCELLED, actor_member_id, reason,
                                      now)
            await repo.return_unit(conn, order.reward_id)
            ref = order_ref(order_id)
            refund = await self.ledger.credit_in(
                conn, order.member_id, order.cost, kind="refund", reason=reason or ref,
                key=f"refund:{ref}", ref=ref, actor_member_id=actor_member_id)
            await self.audit.record(conn, actor_member_id=actor_member_id, action="mall.cancel",
                                    target_member_id=order.member_id, target_ref=ref,
                                    reward=reward_ref(order.reward_id), refund=order.cost,
                                    reason=reason, entry=refund.entry.id)
            params = await self._notice_params(conn, order)
            params.update(amount=order.cost, balance=refund.balance, reason=reason or "")
            await self.notifier.to_member(conn, order.member_id, notice, params,
                                          dedupe_key=f"mall:cancelled:{ref}", now=now,
                                          platform=order.platform)
            closed = await repo.get_order(conn, order_id)
        assert closed is not None
        return Cancellation(closed, refund)

    async def _close(self, conn: AsyncConnection, order_id: int, state: str, actor: int,
                     reason: str | None, now: datetime) -> OrderRow:
        """Close an open order (fulfilled or cancelled) once, whoever presses first wins.

        The member's row is locked before anything else, as a redemption locks it before the
        reward's: the notice's outbox row references the member, so locking it later would
        deadlock with a concurrent cancel or redemption on PostgreSQL."""
        order = await self._open_order(conn, order_id)
        await member_repo.lock_member(conn, order.member_id)
        if not await repo.close_order(conn, order_id, state=state, by=actor, reason=reason,
                                      now=now):
            raise await self._closed(conn, order_id)
        return order

    async def _open_order(self, conn: AsyncConnection, order_id: int) -> OrderRow:
        order = await repo.get_order(conn, order_id)
        if order is None:
            raise OrderUnknown(order=order_ref(order_id))
        if order.state != repo.OPEN:
            raise OrderClosed(order=order_ref(order_id), state=order.state)
        return order

    async def _closed(self, conn: AsyncConnection, order_id: int) -> OrderClosed:
        order = await repo.get_order(conn, order_id)
        return OrderClosed(order=order_ref(order_id), state=order.state if order else "")

    async def _notice_params(self, conn: AsyncConnection, order: OrderRow) -> dict:
        """The order and its reward's name, with the name's translations: the notice is
        written in each reader's language when it is sent, and so is the name."""
        rows = await conn.execute(sa.select(translations.c.locale, translations.c.text).where(
            translations.c.kind == REWARD_KIND, translations.c.object_id == order.reward_id,
            translations.c.field == "name"))
        return {"order": order_ref(order.id), "reward": reward_ref(order.reward_id),
                "name": order.reward_name, "names": {r.locale: r.text for r in rows}}

    async def tallies(self) -> list[tuple[int, int | None, int]]:
        async with self.db.scan() as conn:
            return await repo.reward_tallies(conn)


def _organiser(role: Role, command: str) -> None:
    if role < Role.ORGANISER:
        raise errors.PermissionDenied(role=Role.ORGANISER.code, command=command)


def _check_reward(name, description, cost, stock, per_member) -> None:
    """What the commands' options already enforce, enforced once more for every caller."""
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= NAME_MAX:
        raise errors.UsageError(option="name", problem="too_long", max=NAME_MAX)
    if not isinstance(description, str) or len(description) > DESCRIPTION_MAX:
        raise errors.UsageError(option="description", problem="too_long", max=DESCRIPTION_MAX)
    if not isinstance(cost, int) or not 1 <= cost <= MAX_POINTS:
        raise errors.UsageError(option="cost", problem="out_of_range", min=1, max=MAX_POINTS)
    if stock is not None and not 0 <= stock <= STOCK_MAX:
        raise StockInvalid(option="stock", value=str(stock), max=STOCK_MAX)
    if per_member is not None and not 1 <= per_member <= LIMIT_MAX:
        raise LimitInvalid(option="limit", value=str(per_member), max=LIMIT_MAX)


def _check_offered(reward: RewardRow | None, reward_id: int) -> None:
    if reward is None:
        raise RewardUnknown(reward=reward_ref(reward_id))
    if not reward.active:
        raise RewardInactive(reward=reward_ref(reward_id), name=reward.name)


def _check_limit(reward: RewardRow, held: int) -> None:
    if reward.per_member is not None and held >= reward.per_member:
        raise LimitReached(limit=reward.per_member, reward=reward_ref(reward.id),
                           name=reward.name)


def _check_in_stock(reward: RewardRow) -> None:
    if reward.stock is not None and reward.stock <= 0:
        raise SoldOut(reward=reward_ref(reward.id), name=reward.name)


def _unaffordable(reward: RewardRow, balance: int) -> Unaffordable:
    return Unaffordable(reward=reward_ref(reward.id), name=reward.name, cost=reward.cost,
                        balance=balance)


def _clamp(requested: int, total: int, size: int) -> tuple[int, int]:
    pages = max(1, -(-max(total, 0) // size))
    return min(max(requested, 1), pages), pages
