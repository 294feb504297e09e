"""The ledger on both backends: once per key, never below zero, balances equal ledger sums."""

from __future__ import annotations

import asyncio

import pytest

from bot import errors
from bot.model import Actor, Platform


async def member(app, name: str) -> int:
    caller = await app.services.members.resolve(Actor(Platform.CONSOLE, name, username=name))
    return caller.member_id


async def test_credit_is_written_once_per_key(app):
    alice = await member(app, "alice")
    first = await app.services.ledger.credit(alice, 10, kind="award", reason="x", key="k1")
    again = await app.services.ledger.credit(alice, 10, kind="award", reason="x", key="k1")
    assert not first.replayed and again.replayed and again.entry.id == first.entry.id
    assert (await app.services.ledger.standing(alice)).balance == 10


async def test_concurrent_spends_cannot_overspend(app):
    alice = await member(app, "alice")
    await app.services.ledger.credit(alice, 100, kind="award", reason=None, key="seed")

    async def spend(i: int):
        try:
            await app.services.ledger.debit(alice, 30, kind="redemption", reason=None,
                                            key=f"spend-{i}")
            return True
        except errors.InsufficientPoints:
            return False

    results = await asyncio.gather(*(spend(i) for i in range(10)))
    assert results.count(True) == 3
    assert (await app.services.ledger.standing(alice)).balance == 10
    assert await app.services.ledger.check_invariants() == []


async def test_concurrent_awards_with_the_same_key_count_once(app):
    bob = await member(app, "bob")
    await asyncio.gather(*(app.services.ledger.credit(bob, 5, kind="award", reason=None,
                                                      key="redelivered") for _ in range(8)))
    assert (await app.services.ledger.standing(bob)).balance == 5


async def test_refused_spend_leaves_nothing_behind(app):
    carol = await member(app, "carol")
    await app.services.ledger.credit(carol, 5, kind="award", reason=None, key="a")
    with pytest.raises(errors.InsufficientPoints) as info:
        await app.services.ledger.debit(carol, 6, kind="correction", reason=None, key="d")
    assert info.value.params == {"balance": 5, "amount": 6}
    entries, _page, _pages = await app.services.ledger.history(carol, 1, 10)
    assert [e.amount for e in entries] == [5]
    assert await app.services.ledger.check_invariants() == []


async def test_spends_do_not_lower_rank_but_corrections_do(app):
    ann, ben = await member(app, "ann"), await member(app, "ben")
    ledger = app.services.ledger
    await ledger.credit(ann, 50, kind="award", reason=None, key="1")
    await ledger.credit(ben, 40, kind="award", reason=None, key="2")
    await ledger.debit(ann, 45, kind="redemption", reason=None, key="3")
    assert (await ledger.standing(ann)).rank == 1
    await ledger.debit(ann, 5, kind="correction", reason=None, key="4")
    assert (await ledger.standing(ann)).rank == 1  # 45 earned still beats 40
    await ledger.credit(ben, 10, kind="award", reason=None, key="5")
    assert (await ledger.standing(ben)).rank == 1 and (await ledger.standing(ann)).rank == 2
