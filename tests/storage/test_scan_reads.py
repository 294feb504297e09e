"""Reads that scan run off the event loop's thread: a long one holds up no other update.

`Database.read()` runs on SQLite in the loop's thread (InlineReads) and is for point lookups;
`Database.scan()` is for queries whose cost grows with the data (bot.storage.db).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa

from bot.model import Actor, Platform
from bot.services.ledger import LEADERBOARD_SIZE, Period
from bot.storage import ledger as repo
from bot.storage.schema import ledger

MEMBERS = 5_000
BATCH = 200_000  # ledger rows per seeding round; one round is ~0.3 s of `/leaderboard month`
MAX_ROUNDS = 3
SLOW_ENOUGH = 0.3  # seconds the month leaderboard must take for the test to mean anything


async def member(app, name: str) -> int:
    return (await app.services.members.resolve(Actor(Platform.CONSOLE, name))).member_id


async def seed_round(app, totals: Counter, rng: random.Random, round_no: int) -> None:
    """BATCH award entries this month on random members, in one write transaction; members'
    cached balances follow, so the ledger stays consistent."""
    stamp = (app.services.clock() - timedelta(days=1)).replace(tzinfo=None)
    stamp_text = stamp.isoformat(" ", "microseconds")
    picks = rng.choices(range(1, MEMBERS + 1), k=BATCH)
    rows = [(m, 1 + i % 7, "award", f"seed:{round_no}:{i:07d}", stamp_text)
            for i, m in enumerate(picks)]
    added: Counter = Counter()
    for m, amount, *_ in rows:
        added[m] += amount
    async with app.db.write() as conn:
        if round_no == 0:
            await conn.exec_driver_sql(
                "INSERT INTO members (id, balance, earned, display_name, created_at) "
                "VALUES (?, 0, 0, ?, ?)",
                [(m, f"m{m}", stamp_text) for m in range(1, MEMBERS + 1)])
        await conn.exec_driver_sql(
            "INSERT INTO ledger (member_id, amount, kind, idem_key, created_at) "
            "VALUES (?, ?, ?, ?, ?)", rows)
        await conn.exec_driver_sql(
            "UPDATE members SET balance = balance + ?, earned = earned + ? WHERE id = ?",
            [(n, n, m) for m, n in added.items()])
    totals.update(added)
    async with app.db.scan() as conn:  # fold the big WAL into the database before timing
        await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def expected_top(totals: Counter) -> list[tuple[int, int]]:
    ordered = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
    return ordered[:LEADERBOARD_SIZE]


@pytest.fixture
async def big_ledger(sqlite_app):
    """A ledger on which the month leaderboard takes at least SLOW_ENOUGH seconds."""
    rng = random.Random(2026)
    totals: Counter = Counter()
    for round_no in range(MAX_ROUNDS):
        await seed_round(sqlite_app, totals, rng, round_no)
        start = time.perf_counter()
        board = await sqlite_app.services.ledger.leaderboard(Period.MONTH)
        took = time.perf_counter() - start
        if took >= SLOW_ENOUGH:
            break
    assert took >= SLOW_ENOUGH / 2, f"the month leaderboard took only {took:.3f}s"
    assert [(r.member_id, r.points) for r in board] == expected_top(totals)
    return sqlite_app, totals


async def test_points_is_answered_while_a_month_leaderboard_scans(big_ledger):
    app, totals = big_ledger
    ledger = app.services.ledger
    newcomer = await member(app, "newcomer")
    asker = max(totals, key=lambda m: (totals[m], -m))  # rank 1
    finished: list[str] = []

    def track(task: asyncio.Task, name: str) -> asyncio.Task:
        task.add_done_callback(lambda _task: finished.append(name))
        return task

    board = track(asyncio.create_task(ledger.leaderboard(Period.MONTH)), "leaderboard")
    await asyncio.sleep(0.05)  # the scan is under way on aiosqlite's thread
    points = track(asyncio.create_task(ledger.standing(asker)), "points")
    award = track(asyncio.create_task(
        ledger.credit(newcomer, 3, kind="award", reason=None, key="during-scan")), "award")
    await asyncio.gather(board, points, award)

    # Neither the /points read nor a write waited for the scan.
    assert finished.index("points") < finished.index("leaderboard"), finished
    assert finished.index("award") < finished.index("leaderboard"), finished
    assert points.result().balance == totals[asker] and points.result().rank == 1
    top = board.result()
    assert [(r.member_id, r.points) for r in top] == expected_top(totals)
    assert [r.name for r in top] == [f"m{m}" for m, _ in expected_top(totals)]
    assert award.result().balance == 3


async def test_scans_and_writes_do_not_wait_for_each_other(app):
    """WAL on SQLite (a reader's snapshot never takes the write lock), MVCC on PostgreSQL."""
    ann = await member(app, "ann")
    await app.services.ledger.credit(ann, 5, kind="award", reason=None, key="k1")
    count = sa.select(sa.func.count()).select_from(ledger)
    async with app.db.write() as writer:  # holds the write lock until the block ends
        await repo.insert_entry(writer, app.db.insert_ignore, member_id=ann, amount=1,
                                kind="award", reason=None, ref=None, actor_member_id=None,
                                idem_key="open", now=app.services.clock())
        await repo.apply_to_balance(writer, ann, 1, earned=True)
        async with app.db.scan() as conn:  # answered at once, without the uncommitted entry
            assert (await asyncio.wait_for(conn.execute(count), 5)).scalar_one() == 1
    async with app.db.scan() as conn:
        assert (await conn.execute(count)).scalar_one() == 2
        # A write commits while the scan's transaction is open.
        await asyncio.wait_for(app.services.ledger.credit(ann, 2, kind="award", reason=None,
                                                          key="k2"), 5)
    assert (await app.services.ledger.standing(ann)).balance == 8
    assert await app.services.ledger.check_invariants() == []
