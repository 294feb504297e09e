"""Notices: queued with the change, delivered once, retried, re-routed, never lost."""

from __future__ import annotations

import asyncio

from bot.delivery import DEAD_AFTER, SENT, Deliverer, Outcome, Status
from bot.model import Actor, Platform
from bot.storage import outbox
from bot.views.points import AWARDED


async def award(app, member_id: int, amount: int, key: str, reason: str | None = None):
    """An award that notifies the member, as /award does."""
    return await app.services.ledger.credit(member_id, amount, kind="award", reason=reason,
                                            key=key, notice=AWARDED)

async def linked_member(app):
    """A member with a Telegram and a Discord account, who used Discord last."""
    members = app.services.members
    tg = await members.resolve(Actor(Platform.TELEGRAM, "111", username="ann"))
    code, _ = await members.issue_link_code(tg)
    dc = await members.resolve(Actor(Platform.DISCORD, "222", username="ann"))
    await members.link(dc, code)
    await members.resolve(Actor(Platform.DISCORD, "222", username="ann"))
    return tg.member_id


class Recorder:
    def __init__(self, outcome=SENT):
        self.sent = []
        self.outcome = outcome

    async def __call__(self, recipient, reply):
        self.sent.append((recipient.chat_id, reply.plain_text))
        return self.outcome


async def statuses(app):
    async with app.db.read() as conn:
        return await outbox.status_counts(conn)


async def test_award_notice_goes_to_the_platform_used_last(app):
    member_id = await linked_member(app)
    await award(app, member_id, 5, "k", reason="hi")
    telegram, discord = Recorder(), Recorder()
    await Deliverer(app.services, "telegram", telegram, "w1").run_once()
    await Deliverer(app.services, "discord", discord, "w2").run_once()
    assert telegram.sent == [] and len(discord.sent) == 1
    assert discord.sent[0][0] == "222" and "You received 5 points!" in discord.sent[0][1]
    # Running again sends nothing twice.
    await Deliverer(app.services, "discord", discord, "w2").run_once()
    assert len(discord.sent) == 1 and (await statuses(app)) == {"sent": 1}


async def arrives(recorder: Recorder, count: int, seconds: float = 3.0) -> bool:
    for _ in range(int(seconds / 0.02)):
        if len(recorder.sent) >= count:
            return True
        await asyncio.sleep(0.02)
    return False


async def test_running_deliverers_send_at_once_not_at_the_next_poll(app):
    """Both platforms' deliverers run side by side with a one-minute poll: each notice still
    goes out as soon as its transaction commits, whichever platform it is for."""
    member_id = await linked_member(app)
    telegram, discord = Recorder(), Recorder()
    running = [Deliverer(app.services, "telegram", telegram, "w1", poll_seconds=60),
               Deliverer(app.services, "discord", discord, "w2", poll_seconds=60)]
    for deliverer in running:
        deliverer.start()
    try:
        await asyncio.sleep(0.1)  # both are idle, waiting
        async with app.db.write() as conn:  # a command that still works after queueing
            params = {"amount": 5, "reason": "", "balance": 5}
            await app.services.notifier.to_member(conn, member_id, AWARDED, params,
                                                  dedupe_key="n1", now=app.services.clock())
            await asyncio.sleep(0.3)
            assert discord.sent == []  # not before the commit
        assert await arrives(discord, 1) and telegram.sent == []
        await app.services.members.resolve(Actor(Platform.TELEGRAM, "111", username="ann"))
        for n in range(2, 5):
            await app.services.ledger.credit(member_id, n, kind="award", reason=None,
                                             key=f"k{n}", notice=AWARDED)
        assert await arrives(telegram, 3) and len(discord.sent) == 1
    finally:
        for deliverer in running:
            await deliverer.stop()


async def test_stopping_mid_send_finishes_the_notice_in_hand(app):
    """A shutdown while a notice is on its way: it is sent once and recorded as sent, the
    loop ends, and the database takes writes afterwards (nothing was cut off mid-transaction)."""
    member_id = await linked_member(app)
    started = asyncio.Event()

    async def slow(recipient, reply):
        started.set()
        await asyncio.sleep(0.3)
        return SENT

    deliverer = Deliverer(app.services, "discord", slow, "w", poll_seconds=60)
    deliverer.start()
    await award(app, member_id, 5, "k1")
    await asyncio.wait_for(started.wait(), 3)
    await asyncio.wait_for(deliverer.stop(), 5)
    assert (await statuses(app)) == {"sent": 1}
    await award(app, member_id, 1, "k2")


async def test_closed_dms_reroute_to_the_other_platform(app):
    member_id = await linked_member(app)
    await award(app, member_id, 5, "k")
    closed = Recorder(Outcome(Status.UNREACHABLE, error="50007"))
    await Deliverer(app.services, "discord", closed, "w").run_once()
    telegram = Recorder()
    await Deliverer(app.services, "telegram", telegram, "w").run_once()
    assert len(closed.sent) == 1 and telegram.sent[0][0] == "111"
    # Later notices skip the unreachable Discord account straight away.
    await award(app, member_id, 1, "k2")
    await Deliverer(app.services, "telegram", telegram, "w").run_once()
    assert len(telegram.sent) == 2


async def test_temporary_failure_is_retried_after_the_wait(app, clock):
    member_id = await linked_member(app)
    await award(app, member_id, 5, "k")
    busy = Recorder(Outcome(Status.RETRY, retry_after=30, error="429"))
    deliverer = Deliverer(app.services, "discord", busy, "w")
    await deliverer.run_once()
    await deliverer.run_once()
    assert len(busy.sent) == 1  # not before retry_after
    clock.advance(seconds=31)
    ok = Recorder()
    await Deliverer(app.services, "discord", ok, "w").run_once()
    assert len(ok.sent) == 1 and (await statuses(app)) == {"sent": 1}


async def test_a_crash_mid_send_leaves_one_row_in_doubt_and_it_is_resent(app, clock):
    member_id = await linked_member(app)
    for i in range(3):
        await award(app, member_id, 1, f"k{i}")
    crashed = Deliverer(app.services, "discord", Recorder(), "crashed")
    await crashed.reclaim()  # it was alive: registered and beating
    async with app.db.write() as conn:
        first = (await outbox.due_ids(conn, "discord", clock(), 10))[0]
        await outbox.claim(conn, first, crashed.worker, clock())
    survivor = Recorder()
    await Deliverer(app.services, "discord", survivor, "w").run_once()
    assert len(survivor.sent) == 2  # the other two; the claimed one's owner still looks alive
    clock.advance(seconds=DEAD_AFTER.total_seconds() + 1)  # ... and then stopped beating
    late = Deliverer(app.services, "discord", survivor, "w2")
    assert [r.id for r in await late.reclaim()] == [first]
    await late.run_once()
    assert len(survivor.sent) == 3 and (await statuses(app)) == {"sent": 3}


async def test_a_notice_goes_to_the_platform_asked_for_else_the_last_used(app):
    member_id = await linked_member(app)  # linked on telegram and discord; discord used last
    params = {"amount": 1, "reason": "", "balance": 1}
    async with app.db.write() as conn:
        for key, platform in (("p1", "telegram"), ("p2", "console")):  # no console account
            await app.services.notifier.to_member(conn, member_id, AWARDED, params,
                                                  dedupe_key=key, now=app.services.clock(),
                                                  platform=platform)
    telegram, discord = Recorder(), Recorder()
    await Deliverer(app.services, "telegram", telegram, "t").run_once()
    await Deliverer(app.services, "discord", discord, "d").run_once()
    assert (len(telegram.sent), len(discord.sent)) == (1, 1)
