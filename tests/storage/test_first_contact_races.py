"""First contacts racing: Telegram runs updates concurrently, and several processes share one
PostgreSQL database, so "read, then insert if missing" must never reach the member as an error."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa

from bot.model import Actor, ChatRef, Invocation, Platform, Role, Target
from bot.storage import kv
from bot.storage.schema import accounts, members


def _start(user_id: str, n: int) -> Invocation:
    actor = Actor(Platform.TELEGRAM, user_id, username=f"new{user_id}", display_name="New")
    return Invocation(actor, ChatRef(Platform.TELEGRAM, user_id), f"telegram:{user_id}:{n}",
                      command="points")


async def test_twenty_concurrent_first_contacts_of_one_account_make_one_member(app):
    replies = await asyncio.gather(*(app.dispatcher.handle(_start("777", n)) for n in range(20)))
    texts = [r.plain_text for r in replies]
    assert all(t.startswith("Balance: 0 points") for t in texts), texts
    async with app.db.read() as conn:
        member_count = (await conn.execute(sa.select(sa.func.count()).select_from(members)))
        account_count = (await conn.execute(
            sa.select(sa.func.count()).select_from(accounts)
            .where(accounts.c.platform_user_id == "777")))
        assert (member_count.scalar_one(), account_count.scalar_one()) == (1, 1)


async def test_many_new_members_at_once_each_get_their_answer(app):
    invocations = [_start(str(1000 + u), n) for u in range(20) for n in range(3)]
    replies = await asyncio.gather(*(app.dispatcher.handle(inv) for inv in invocations))
    assert all(r.plain_text.startswith("Balance: 0 points") for r in replies)
    async with app.db.read() as conn:
        count = (await conn.execute(sa.select(sa.func.count()).select_from(members)))
        assert count.scalar_one() == 20  # no orphan member left by a lost race


async def test_members_named_for_the_first_time_at_once_are_created_once(app):
    """An organiser's /award names a console account nobody used yet, twenty times at once."""
    boss = Actor(Platform.CONSOLE, "boss", username="boss", trusted_role=Role.ORGANISER)
    chat = ChatRef(Platform.CONSOLE, "boss")
    awards = [Invocation(boss, chat, f"award:{n}", command="award", text=f"@fresh {n + 1} hi")
              for n in range(20)]
    replies = await asyncio.gather(*(app.dispatcher.handle(inv) for inv in awards))
    assert all(r.plain_text.startswith("Awarded") for r in replies), [r.plain_text
                                                                        for r in replies]
    fresh = await app.services.members.find(Target(Platform.CONSOLE, username="fresh"))
    assert fresh.balance == sum(range(1, 21))


async def test_key_value_writes_racing_both_succeed(app):
    now = app.services.clock()

    async def put(value: str) -> None:
        async with app.db.write() as conn:
            await kv.put(conn, "discord:schema", value, now)

    await asyncio.gather(*(put(str(n)) for n in range(10)))
    async with app.db.read() as conn:
        assert await kv.get(conn, "discord:schema") in {str(n) for n in range(10)}
