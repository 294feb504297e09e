"""Redemptions racing, on SQLite and PostgreSQL: never oversold, never past a member's limit,
never a negative balance, once per key; a cancellation refunds once however often pressed."""

from __future__ import annotations

import asyncio
import re

import sqlalchemy as sa

from bot import errors
from bot.model import Actor, ChatRef, Invocation, Platform, Role
from bot.services.mall import LimitReached, SoldOut, Unaffordable
from bot.storage.schema import ledger, orders, rewards
from bot.views.mall import CANCELLED_NOTICE, FULFILLED_NOTICE
from tests.commands.conftest import Terminal

ORG = Role.ORGANISER
BOSS = 0  # the actor id organisers' service calls name; any member id works for the audit


async def member(app, name: str, platform: Platform = Platform.CONSOLE) -> int:
    caller = await app.services.members.resolve(Actor(platform, name, username=name))
    return caller.member_id


async def funded(app, name: str, points: int) -> int:
    member_id = await member(app, name)
    await app.services.ledger.credit(member_id, points, kind="award", reason=None,
                                     key=f"seed:{name}")
    return member_id


async def reward(app, boss: int, *, cost: int = 10, stock: int | None = None,
                 per_member: int | None = None, name: str = "Hoodie") -> int:
    row, _ = await app.services.mall.create_reward(
        boss, ORG, name=name, description="", cost=cost, stock=stock, per_member=per_member,
        key=f"new:{name}:{cost}:{stock}:{per_member}")
    return row.id


async def count(app, table, *where) -> int:
    async with app.db.read() as conn:
        query = sa.select(sa.func.count()).select_from(table)
        return (await conn.execute(query.where(*where) if where else query)).scalar_one()


async def stock_of(app, reward_id: int) -> int | None:
    async with app.db.read() as conn:
        return (await conn.execute(sa.select(rewards.c.stock)
                                   .where(rewards.c.id == reward_id))).scalar_one()


async def attempt(app, member_id: int, reward_id: int, key: str) -> str:
    try:
        done = await app.services.mall.redeem(member_id, reward_id, key=key)
    except SoldOut:
        return "sold out"
    except LimitReached:
        return "limit"
    except Unaffordable:
        return "unaffordable"
    return "replayed" if done.replayed else "ok"


async def assert_consistent(app) -> None:
    assert await app.services.ledger.check_invariants() == []
    async with app.db.read() as conn:
        negative = (await conn.execute(sa.text("SELECT count(*) FROM members WHERE balance < 0")))
        assert negative.scalar_one() == 0


async def test_ten_members_racing_for_the_last_unit_make_one_order(app):
    boss = await member(app, "boss")
    hoodie = await reward(app, boss, stock=1)
    racers = [await funded(app, f"m{i}", 50) for i in range(10)]
    results = await asyncio.gather(*(attempt(app, m, hoodie, f"k{m}") for m in racers))
    assert sorted(results) == ["ok"] + ["sold out"] * 9
    assert await count(app, orders) == 1 and await stock_of(app, hoodie) == 0
    assert await count(app, ledger, ledger.c.kind == "redemption") == 1
    await assert_consistent(app)


async def test_many_members_racing_for_a_few_units_never_oversell(app):
    boss = await member(app, "boss")
    hoodie = await reward(app, boss, stock=5, per_member=1)
    racers = [await funded(app, f"m{i}", 50) for i in range(30)]
    keys = [(m, f"k{m}:{n}") for m in racers for n in range(2)]  # each member asks twice
    results = await asyncio.gather(*(attempt(app, m, hoodie, key) for m, key in keys))
    assert results.count("ok") == 5
    assert set(results) <= {"ok", "sold out", "limit"}
    async with app.db.read() as conn:
        per_member = (await conn.execute(
            sa.select(orders.c.member_id, sa.func.count()).group_by(orders.c.member_id))).all()
    assert len(per_member) == 5 and all(n == 1 for _m, n in per_member)
    assert await stock_of(app, hoodie) == 0
    assert await app.services.mall.tallies() == [(hoodie, 0, 5)]
    await assert_consistent(app)


async def test_one_member_on_two_linked_accounts_gets_one_of_a_limit_of_one(app):
    """The real /link flow joins a Telegram and a Discord account; both redeem at once."""
    term = Terminal(app)
    tg = Actor(Platform.TELEGRAM, "501", username="ann_tg")
    dc = Actor(Platform.DISCORD, "502", username="ann_dc")
    out = await app.dispatcher.handle(Invocation(tg, ChatRef(Platform.TELEGRAM, "501"), "t:1",
                                                 command="link"))
    code = re.search(r"Your link code is ([A-Z0-9]{8})\.", out.plain_text).group(1)
    preview = await app.dispatcher.handle(Invocation(dc, ChatRef(Platform.DISCORD, "502"),
                                                     "d:1", command="link", text=code))
    confirm = preview.buttons[0][0].action
    linked = await app.dispatcher.handle(Invocation(dc, ChatRef(Platform.DISCORD, "502"),
                                                    "d:2", action=confirm))
    assert "Linked!" in linked.plain_text
    ann = await member(app, "501", Platform.TELEGRAM)
    assert ann == await member(app, "502", Platform.DISCORD)
    await app.services.ledger.credit(ann, 100, kind="award", reason=None, key="seed")
    await term.say("boss", "/newreward Hoodie 10 limit=1", role=ORG)

    def redeem(actor: Actor, n: int) -> Invocation:
        chat = ChatRef(actor.platform, actor.user_id)
        return Invocation(actor, chat, f"{actor.account_id}:redeem:{n}", command="redeem",
                          text="R1")

    replies = await asyncio.gather(*(app.dispatcher.handle(redeem(actor, n))
                                     for n in range(5) for actor in (tg, dc)))
    texts = [r.plain_text for r in replies]
    assert sum("Your order is O1." in t for t in texts) == 1, texts
    assert sum("You already have 1 order of R1" in t for t in texts) == 9, texts
    assert await count(app, orders) == 1
    assert (await app.services.ledger.standing(ann)).balance == 90
    await assert_consistent(app)


async def test_one_member_racing_many_rewards_never_overspends(app):
    boss = await member(app, "boss")
    ann = await funded(app, "ann", 100)
    prizes = [await reward(app, boss, cost=30, name=f"prize {i}") for i in range(6)]
    results = await asyncio.gather(*(attempt(app, ann, r, f"k{r}") for r in prizes))
    assert sorted(results) == ["ok"] * 3 + ["unaffordable"] * 3
    assert (await app.services.ledger.standing(ann)).balance == 10
    assert await count(app, orders) == 3
    stocks = [await stock_of(app, r) for r in prizes]
    assert stocks == [None] * 6  # unlimited stays unlimited
    await assert_consistent(app)


async def test_the_same_key_racing_makes_one_order(app):
    boss = await member(app, "boss")
    hoodie = await reward(app, boss, stock=10)
    ann = await funded(app, "ann", 100)
    results = await asyncio.gather(*(attempt(app, ann, hoodie, "one-update")
                                     for _ in range(12)))
    assert results.count("ok") == 1 and results.count("replayed") == 11
    assert await count(app, orders) == 1 and await stock_of(app, hoodie) == 9
    assert (await app.services.ledger.standing(ann)).balance == 90


async def test_an_unaffordable_redemption_leaves_nothing_behind(app):
    boss = await member(app, "boss")
    hoodie = await reward(app, boss, cost=60, stock=3)
    ann = await funded(app, "ann", 59)
    assert await attempt(app, ann, hoodie, "k") == "unaffordable"
    assert await stock_of(app, hoodie) == 3
    assert await count(app, orders) == 0
    assert (await app.services.ledger.standing(ann)).balance == 59


async def test_a_cancel_pressed_twice_at_once_refunds_once(app):
    boss = await member(app, "boss")
    hoodie = await reward(app, boss, cost=40, stock=1)
    ann = await funded(app, "ann", 100)
    done = await app.services.mall.redeem(ann, hoodie, key="k")
    order_id = done.order.id

    async def cancel() -> str:
        try:
            await app.services.mall.cancel(boss, ORG, order_id, reason="twice",
                                           notice=CANCELLED_NOTICE)
            return "cancelled"
        except errors.DomainError as exc:
            return type(exc).__name__

    results = await asyncio.gather(*(cancel() for _ in range(6)))
    assert sorted(results) == ["OrderClosed"] * 5 + ["cancelled"]
    assert (await app.services.ledger.standing(ann)).balance == 100
    assert await count(app, ledger, ledger.c.kind == "refund") == 1
    assert await stock_of(app, hoodie) == 1
    await assert_consistent(app)


async def test_fulfil_and_cancel_racing_one_wins(app):
    boss = await member(app, "boss")
    hoodie = await reward(app, boss, cost=40, stock=2)
    ann = await funded(app, "ann", 100)
    order_id = (await app.services.mall.redeem(ann, hoodie, key="k")).order.id

    async def run(coro) -> str:
        try:
            await coro
            return "done"
        except errors.DomainError as exc:
            return type(exc).__name__

    results = await asyncio.gather(
        run(app.services.mall.fulfil(boss, ORG, order_id, notice=FULFILLED_NOTICE)),
        run(app.services.mall.cancel(boss, ORG, order_id, reason=None,
                                     notice=CANCELLED_NOTICE)))
    assert sorted(results) == ["OrderClosed", "done"]
    async with app.db.read() as conn:
        state = (await conn.execute(sa.select(orders.c.state))).scalar_one()
    refunds = await count(app, ledger, ledger.c.kind == "refund")
    assert (state, refunds, await stock_of(app, hoodie)) in (("fulfilled", 0, 1),
                                                             ("cancelled", 1, 2))
    await assert_consistent(app)


async def test_redeems_and_cancels_of_one_member_interleaving_stay_consistent(app):
    """A redemption locks the member, then the reward; a cancellation does the same, so the
    two never deadlock on PostgreSQL."""
    boss = await member(app, "boss")
    hoodie = await reward(app, boss, cost=5, stock=20)
    ann = await funded(app, "ann", 500)
    first = [(await app.services.mall.redeem(ann, hoodie, key=f"a{n}")).order.id
             for n in range(10)]
    cancels = [app.services.mall.cancel(boss, ORG, o, reason=None, notice=CANCELLED_NOTICE)
               for o in first]
    redeems = [app.services.mall.redeem(ann, hoodie, key=f"b{n}") for n in range(10)]
    await asyncio.gather(*cancels, *redeems)
    assert await app.services.mall.tallies() == [(hoodie, 10, 10)]
    assert (await app.services.ledger.standing(ann)).balance == 450
    await assert_consistent(app)


async def test_members_cannot_reach_organiser_actions_through_the_service(app):
    ann = await funded(app, "ann", 100)
    for call in (app.services.mall.fulfil(ann, Role.MEMBER, 1, notice=FULFILLED_NOTICE),
                 app.services.mall.cancel(ann, Role.AMBASSADOR, 1, reason=None,
                                          notice=CANCELLED_NOTICE),
                 app.services.mall.create_reward(ann, Role.MEMBER, name="x", description="",
                                                 cost=1, stock=None, per_member=None,
                                                 key="k")):
        try:
            await call
        except errors.PermissionDenied:
            continue
        raise AssertionError("a member reached an organiser action")
    assert await count(app, rewards) == 0


async def test_two_processes_racing_for_the_last_units_never_oversell(app, db_url, clock):
    """Two Apps on one database (two bot processes): the in-process queue of one does not
    see the other's redemptions; the conditional UPDATE alone keeps the count."""
    from tests.conftest import started_app

    boss = await member(app, "boss")
    hoodie = await reward(app, boss, stock=3)
    racers = [await funded(app, f"m{i}", 50) for i in range(12)]
    async for other in started_app(db_url, clock):
        results = await asyncio.gather(*(
            attempt(app if i % 2 else other, m, hoodie, f"k{m}")
            for i, m in enumerate(racers)))
    assert sorted(results) == ["ok"] * 3 + ["sold out"] * 9
    assert await app.services.mall.tallies() == [(hoodie, 0, 3)]
    await assert_consistent(app)


async def test_without_the_queue_the_last_unit_still_sells_once(app, monkeypatch):
    import contextlib

    monkeypatch.setattr(app.services.mall, "_queue", lambda _rid: contextlib.nullcontext())
    boss = await member(app, "boss")
    hoodie = await reward(app, boss, stock=1, per_member=1)
    racers = [await funded(app, f"m{i}", 50) for i in range(10)]
    results = await asyncio.gather(*(attempt(app, m, hoodie, f"k{m}:{n}")
                                     for m in racers for n in range(2)))
    assert results.count("ok") == 1 and set(results) <= {"ok", "sold out", "limit"}
    assert await count(app, orders) == 1 and await stock_of(app, hoodie) == 0
    await assert_consistent(app)
