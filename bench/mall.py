"""Points mall benchmark: 200 members redeeming a 20-unit reward at once, 50 rounds.

Each round adds a reward with 20 units and a limit of one per member; all 200 members redeem
it at the same moment through `MallService.redeem`, and some of them twice: 5% replay their
request with the same key (a redelivered update) and 5% send a second request with a new key
(their other linked account). After the rounds a sample of orders is cancelled, each by two
organisers at once. Then it checks, from the database:

- zero oversells: no reward has more non-cancelled orders than its 20 units, and every
  reward's stock left is 20 minus them (each round sells exactly 20: enough members can pay);
- the per-member limit: nobody holds two of one reward;
- zero negative balances, and every balance equals the sum of its ledger entries
  (`LedgerService.check_invariants`); each balance is its seed minus what it paid, refunds
  added back; each cancellation refunded once;
- a replayed key returned the first order and made no second one.

It prints redemptions per second (requests answered: an order or a refusal) and orders per
second, p50/p99 latency, and ends with one `RESULT key=value …` line. The exit status is
non-zero on any violation, or when SQLite answers fewer than 500 redemptions per second.

    . .venv/bin/activate && python bench/mall.py                   # SQLite, a temporary file
    . .venv/bin/activate && python bench/mall.py --postgres postgresql+asyncpg://postgres@127.0.0.1:5432/campusbot_bench

`--postgres URL` drops and recreates that database's `public` schema: never point it at a
database whose data you want.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import bench_database, percentile
from bot import errors
from bot.app import App
from bot.config import DatabaseSettings, Settings
from bot.model import Actor, Platform, Role
from bot.services.mall import LimitReached, SoldOut, Unaffordable
from bot.storage import members as member_repo
from bot.storage.schema import ledger, members, orders
from bot.views.mall import CANCELLED_NOTICE

MEMBERS = 200
ROUNDS = 50
STOCK = 20
COST = 10
POOR_SHARE = 0.1      # these members start with less than one reward's cost
REPLAY_SHARE = 0.05   # a second request with the same key
SECOND_SHARE = 0.05   # a second request with another key (limit one per member)
CANCELS = 100         # orders cancelled afterwards, each by two organisers at once
TARGET_SQLITE = 500.0


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    outcomes: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)
    first_orders: dict[str, int] = field(default_factory=dict)  # key -> order id

    def pct(self, q: float) -> float:
        return percentile(self.latencies, q) * 1000


async def seed(app: App, rng: random.Random) -> dict[int, int]:
    """MEMBERS members with a console account each, and their starting points."""
    now = app.services.clock()
    ids: list[int] = []
    async with app.db.write() as conn:
        for n in range(MEMBERS):
            account, _ = await member_repo.get_or_create_account(
                conn, platform="console", user_id=f"mall{n}", username=f"mall{n}",
                display_name=f"mall {n}", now=now)
            ids.append(account.member_id)
    poor = set(rng.sample(ids, int(MEMBERS * POOR_SHARE)))
    start = {m: (rng.randint(1, COST - 1) if m in poor else COST * ROUNDS) for m in ids}
    for member_id, points in start.items():
        await app.services.ledger.credit(member_id, points, kind="award", reason="seed",
                                         key=f"mallbench:seed:{member_id}")
    return start


async def one_round(app: App, n: int, boss: int, ids: list[int], rng: random.Random,
                    tally: Tally) -> int:
    reward, _ = await app.services.mall.create_reward(
        boss, Role.ORGANISER, name=f"round {n}", description="", cost=COST, stock=STOCK,
        per_member=1, key=f"mallbench:reward:{n}")
    requests = [(m, f"mallbench:{n}:{m}") for m in ids]
    requests += [(m, f"mallbench:{n}:{m}") for m in rng.sample(ids, int(MEMBERS * REPLAY_SHARE))]
    requests += [(m, f"mallbench:{n}:{m}:b")
                 for m in rng.sample(ids, int(MEMBERS * SECOND_SHARE))]
    rng.shuffle(requests)

    async def redeem(member_id: int, key: str) -> None:
        started = time.perf_counter()
        try:
            done = await app.services.mall.redeem(member_id, reward.id, key=key,
                                                  platform="console")
            outcome = "replayed" if done.replayed else "ordered"
            if done.replayed:
                if tally.first_orders.get(key, done.order.id) != done.order.id:
                    tally.problems.append(f"{key}: replay returned another order")
            else:
                if key in tally.first_orders:
                    tally.problems.append(f"{key}: a second order for one key")
                tally.first_orders[key] = done.order.id
        except SoldOut:
            outcome = "sold out"
        except LimitReached:
            outcome = "limit"
        except Unaffordable:
            outcome = "unaffordable"
        tally.latencies.append(time.perf_counter() - started)
        tally.outcomes[outcome] += 1

    started = time.perf_counter()
    await asyncio.gather(*(redeem(m, key) for m, key in requests))
    tally.seconds += time.perf_counter() - started
    return reward.id


async def cancel_some(app: App, boss: int, rng: random.Random) -> tuple[list[int], Counter]:
    async with app.db.scan() as conn:
        open_ids = [r[0] for r in await conn.execute(
            sa.select(orders.c.id).where(orders.c.state == "open"))]
    chosen = rng.sample(open_ids, min(CANCELS, len(open_ids)))
    results: Counter = Counter()

    async def cancel(order_id: int) -> None:
        try:
            await app.services.mall.cancel(boss, Role.ORGANISER, order_id, reason="bench",
                                           notice=CANCELLED_NOTICE)
            results["cancelled"] += 1
        except errors.DomainError as exc:
            results[type(exc).__name__] += 1

    await asyncio.gather(*(cancel(o) for o in chosen for _ in range(2)))
    return chosen, results


async def check(app: App, start: dict[int, int], reward_ids: list[int], cancelled: list[int],
                cancel_results: Counter, tally: Tally) -> dict[str, int]:
    problems = tally.problems
    found = {"oversold": 0, "undersold": 0, "negative": 0, "limit_broken": 0,
             "invariant_problems": 0, "refund_problems": 0}
    tallies = {rid: (left, held) for rid, left, held in await app.services.mall.tallies()}
    for rid in reward_ids:
        left, held = tallies[rid]  # held: its orders that are not cancelled
        if held > STOCK or left is None or left != STOCK - held:
            found["oversold"] += 1
            problems.append(f"R{rid}: {held} orders held, stock left {left} (of {STOCK})")
    async with app.db.scan() as conn:
        per_reward_all = dict((await conn.execute(
            sa.select(orders.c.reward_id, sa.func.count()).group_by(orders.c.reward_id))).all())
        doubles = (await conn.execute(sa.select(sa.func.count()).select_from(
            sa.select(orders.c.member_id, orders.c.reward_id)
            .where(orders.c.state != "cancelled")
            .group_by(orders.c.member_id, orders.c.reward_id)
            .having(sa.func.count() > 1).subquery()))).scalar_one()
        negative = (await conn.execute(sa.select(sa.func.count()).select_from(members)
                                       .where(members.c.balance < 0))).scalar_one()
        balances = dict((await conn.execute(sa.select(members.c.id, members.c.balance))).all())
        paid = dict((await conn.execute(
            sa.select(orders.c.member_id, sa.func.sum(orders.c.cost))
            .where(orders.c.state != "cancelled").group_by(orders.c.member_id))).all())
        refunds = dict((await conn.execute(
            sa.select(ledger.c.ref, sa.func.count()).where(ledger.c.kind == "refund")
            .group_by(ledger.c.ref))).all())
    for rid in reward_ids:
        if per_reward_all.get(rid, 0) != STOCK:
            found["undersold"] += 1
            problems.append(f"R{rid}: {per_reward_all.get(rid, 0)} orders, expected {STOCK}")
    found["limit_broken"] = doubles
    found["negative"] = negative
    for member_id, seeded in start.items():
        expected = seeded - int(paid.get(member_id, 0))
        if balances.get(member_id) != expected:
            problems.append(f"member {member_id}: balance {balances.get(member_id)}, "
                            f"expected {expected}")
    invariants = await app.services.ledger.check_invariants()
    found["invariant_problems"] = len(invariants)
    problems += invariants[:10]
    wrong_refunds = [o for o in cancelled if refunds.get(f"O{o}") != 1]
    if wrong_refunds or len(refunds) != len(cancelled) or \
            cancel_results["cancelled"] != len(cancelled):
        found["refund_problems"] = max(1, len(wrong_refunds))
        problems.append(f"refunds: {len(refunds)} refunded orders for {len(cancelled)} "
                        f"cancelled; {cancel_results}")
    if found["limit_broken"]:
        problems.append(f"{doubles} members hold two of one reward")
    if negative:
        problems.append(f"{negative} negative balances")
    return found


async def run(postgres: str | None) -> int:
    rng = random.Random(20261125)
    async with bench_database(postgres, "mall") as (backend, url):
        app = App(Settings(database=DatabaseSettings(url=url)))
        tally = Tally()
        try:
            await app.start()
            started = time.perf_counter()
            start = await seed(app, rng)
            boss = (await app.services.members.resolve(
                Actor(Platform.CONSOLE, "mallboss"))).member_id
            start[boss] = 0
            ids = [m for m in start if m != boss]
            print(f"[{backend}] seeded {MEMBERS} members in {time.perf_counter() - started:.1f}s; "
                  f"{ROUNDS} rounds of {MEMBERS} members redeeming {STOCK} units")
            reward_ids = [await one_round(app, n, boss, ids, rng, tally) for n in range(ROUNDS)]
            cancelled, cancel_results = await cancel_some(app, boss, rng)
            found = await check(app, start, reward_ids, cancelled, cancel_results, tally)
        finally:
            await app.close()

    answered = len(tally.latencies)
    per_s = answered / tally.seconds if tally.seconds else 0.0
    ordered = tally.outcomes["ordered"]
    orders_s = ordered / tally.seconds if tally.seconds else 0.0
    out = tally.outcomes
    print(f"  {answered} redemptions in {tally.seconds:.2f}s = {per_s:,.0f}/s "
          f"({orders_s:,.0f} orders/s)  p50 {tally.pct(0.5):.2f} ms  p99 {tally.pct(0.99):.2f} ms")
    print(f"  ordered {ordered}, sold out {out['sold out']}, limit {out['limit']}, "
          f"unaffordable {out['unaffordable']}, replayed {out['replayed']}; "
          f"cancelled {len(cancelled)} ({dict(cancel_results)})")
    target_missed = backend == "sqlite" and per_s < TARGET_SQLITE
    for problem in tally.problems[:20]:
        print(f"  PROBLEM: {problem}")
    if target_missed:
        print(f"  MISSED: {per_s:,.0f} redemptions/s < {TARGET_SQLITE:,.0f}")
    ok = not tally.problems and not any(found.values()) and not target_missed
    print(f"RESULT backend={backend} members={MEMBERS} rounds={ROUNDS} stock={STOCK} "
          f"redemptions={answered} orders={ordered} redemptions_s={per_s:.0f} "
          f"orders_s={orders_s:.0f} p50_ms={tally.pct(0.5):.2f} p99_ms={tally.pct(0.99):.2f} "
          f"oversold={found['oversold']} undersold={found['undersold']} "
          f"negative_balances={found['negative']} limit_broken={found['limit_broken']} "
          f"invariant_problems={found['invariant_problems']} "
          f"refund_problems={found['refund_problems']} problems={len(tally.problems)} "
          f"target={TARGET_SQLITE if backend == 'sqlite' else 'none'} ok={str(ok).lower()}")
    return 0 if ok else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", metavar="URL",
                        help="run on this PostgreSQL database (its public schema is dropped!)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    sys.exit(asyncio.run(run(args.postgres)))


if __name__ == "__main__":
    main()
