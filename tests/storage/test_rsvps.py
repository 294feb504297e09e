"""RSVPs: seats never exceed capacity even when everyone presses Going at once, the waitlist
keeps arrival order, a freed seat goes to the head of the line in the same transaction, and
a merge of two members keeps one RSVP per event, the better one."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import sqlalchemy as sa

from bot.model import Actor, Platform, Role
from bot.services.events import EventCancelled, EventOver, UnknownEvent
from bot.storage import members as member_repo


async def member(app, name: str) -> int:
    return (await app.services.members.resolve(
        Actor(Platform.CONSOLE, name, username=name))).member_id


async def event(app, clock, capacity: int | None = 3, **fields):
    boss = await member(app, "boss")
    return await app.services.events.create(
        boss, Role.ORGANISER, kind="meetup", title="Open studio", timezone="Asia/Makassar",
        start_at=clock.now + timedelta(days=7), capacity=capacity, **fields)


async def test_going_fills_seats_then_the_waitlist_and_maybe_takes_none(app, clock):
    ev = await event(app, clock, capacity=2)
    events = app.services.events
    names = ["ann", "bo", "cy", "di"]
    ids = [await member(app, n) for n in names]
    assert (await events.rsvp(ids[0], ev.id, "maybe")).state == "maybe"
    results = [await events.rsvp(i, ev.id, "going") for i in ids]
    assert [(r.state, r.place) for r in results] == [
        ("going", None), ("going", None), ("waitlist", 1), ("waitlist", 2)]
    again = await events.rsvp(ids[2], ev.id, "going")  # pressed twice: same place
    assert (again.state, again.place, again.changed) == ("waitlist", 1, False)
    assert await events.counts(ev.id) == {"going": 2, "waitlist": 2}


async def test_a_withdrawal_promotes_the_head_of_the_waitlist(app, clock):
    ev = await event(app, clock, capacity=1)
    events = app.services.events
    ann, bo, cy = [await member(app, n) for n in ("ann", "bo", "cy")]
    for who in (ann, bo, cy):
        await events.rsvp(who, ev.id, "going")
    freed = await events.rsvp(ann, ev.id, "no")
    assert (freed.state, freed.promoted) == ("no", bo)
    assert await events.counts(ev.id) == {"going": 1, "no": 1, "waitlist": 1}
    assert await events.waitlist(ev.id) == [cy]
    assert (await events.rsvp(bo, ev.id, "maybe")).promoted == cy


async def test_no_rsvp_to_an_unknown_cancelled_or_past_event(app, clock):
    ann = await member(app, "ann")
    with pytest.raises(UnknownEvent):
        await app.services.events.rsvp(ann, 999, "going")
    ev = await event(app, clock)
    async with app.db.write() as conn:
        await conn.execute(sa.text("UPDATE events SET status = 'cancelled' WHERE id = :i"),
                           {"i": ev.id})
    with pytest.raises(EventCancelled):
        await app.services.events.rsvp(ann, ev.id, "going")
    later = await event(app, clock)
    clock.advance(days=8)
    with pytest.raises(EventOver):
        await app.services.events.rsvp(ann, later.id, "going")


async def test_many_pressing_going_at_once_never_oversell(app, clock):
    ev = await event(app, clock, capacity=10)
    ids = [await member(app, f"m{n}") for n in range(40)]
    results = await asyncio.gather(*(app.services.events.rsvp(i, ev.id, "going")
                                     for i in ids))
    going = [r for r in results if r.state == "going"]
    assert len(going) == 10 and await app.services.events.counts(ev.id) == {
        "going": 10, "waitlist": 30}
    # Places are 1…30 with no gaps or repeats: arrival order, as the lock let them in.
    assert sorted(r.place for r in results if r.state == "waitlist") == list(range(1, 31))


async def test_merging_two_members_keeps_the_better_rsvp(app, clock):
    ev = await event(app, clock, capacity=1)
    events = app.services.events
    keep, gone, other = [await member(app, n) for n in ("ann", "ann2", "bo")]
    await events.rsvp(other, ev.id, "going")
    await events.rsvp(keep, ev.id, "maybe")
    await events.rsvp(gone, ev.id, "going")  # waitlisted: the better of the two
    async with app.db.write() as conn:
        kept, gone_row = (await member_repo.get_member(conn, keep),
                          await member_repo.get_member(conn, gone))
        await member_repo.merge_members(conn, kept, gone_row, "member")
    assert await events.waitlist(ev.id) == [keep]
    assert await events.counts(ev.id) == {"going": 1, "waitlist": 1}
