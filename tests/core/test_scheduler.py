"""The scheduler: jobs in the database, fired once by a conditional claim, missed past the
grace period (organisers told), recurring across DST; driven by the injected clock."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from bot.app import App
from bot.commands import FEATURES
from bot.i18n import Translator
from bot.model import Actor, Platform, Role
from bot.reply import Text
from bot.scheduler import BadRule, next_occurrence, parse_rule
from bot.spec import NoticeKind, Registry, Router
from bot.storage import jobs as jobs_repo
from bot.storage import members as member_repo
from tests.conftest import make_settings

# A test feature: a job that queues one notice per occurrence, and can be made to crash
# after writing it (the write must then vanish with the claim).
notes = Router("notes")
NOTE = NoticeKind("test.note", lambda t, params: Text().add(f"note {params['n']}").reply())
notes.notice(NOTE)
CRASH = {"on": False}


@notes.job("test.note", "a test note")
async def send_note(services, conn, job) -> None:
    await services.notifier.to_member(conn, int(job.params["member"]), NOTE,
                                      {"n": job.ref}, now=services.clock(),
                                      dedupe_key=f"note:{job.id}:{job.due_at.isoformat()}")
    if CRASH["on"]:
        raise RuntimeError("the process died mid-fire")


@pytest.fixture(autouse=True)
def _no_crash():
    CRASH["on"] = False
    yield
    CRASH["on"] = False


async def make_app(url: str, clock) -> App:
    app = App(make_settings(url), clock=clock, registry=Registry.build([*FEATURES, notes]))
    await app.start()
    return app


@pytest.fixture
async def napp(db_url, clock):
    app = await make_app(db_url, clock)
    yield app
    await app.close()


async def member(app, name: str, **actor) -> int:
    return (await app.services.members.resolve(
        Actor(Platform.CONSOLE, name, username=name, **actor))).member_id


async def schedule(app, kind: str, ref: str, due: datetime, **params) -> None:
    async with app.db.write() as conn:
        await app.scheduler.schedule_in(conn, kind, ref, due, params=params)


async def outbox(app, kind: str) -> list[dict]:
    async with app.db.read() as conn:
        rows = await conn.execute(sa.text("SELECT member_id, params FROM outbox WHERE kind = :k "
                                          "ORDER BY id"), {"k": kind})
        return [{"member": r.member_id, **json.loads(r.params)} for r in rows]


async def job(app, kind: str, ref: str):
    async with app.db.read() as conn:
        return await jobs_repo.get(conn, kind, ref)


# -- recurrence ------------------------------------------------------------------------------

def test_rules_are_written_one_way_and_bad_ones_refused():
    assert parse_rule("Friday 20:00") == "fri 20:00" and parse_rule("daily 9:05") == "daily 09:05"
    for bad in ("weekly", "fri 25:00", "someday 10:00", "daily 10"):
        with pytest.raises(BadRule):
            parse_rule(bad)


def test_daily_rule_keeps_local_time_across_dst():
    # Lisbon moves from UTC+0 to UTC+1 on 2026-03-29: 09:00 local is 09:00, then 08:00 UTC.
    first = next_occurrence("daily 09:00", "Europe/Lisbon",
                            datetime(2026, 3, 28, 0, 0, tzinfo=UTC))
    second = next_occurrence("daily 09:00", "Europe/Lisbon", first)
    assert (first, second) == (datetime(2026, 3, 28, 9, 0, tzinfo=UTC),
                               datetime(2026, 3, 29, 8, 0, tzinfo=UTC))


def test_weekly_rule_fires_once_when_fall_back_repeats_its_time():
    # 01:30 happens twice in Lisbon on 2026-10-25; a weekly job fires at the first, then a
    # week later, never twice in one night.
    after = datetime(2026, 10, 24, 0, 0, tzinfo=UTC)
    first = next_occurrence("sun 01:30", "Europe/Lisbon", after)
    assert first == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert next_occurrence("sun 01:30", "Europe/Lisbon", first) == datetime(
        2026, 11, 1, 1, 30, tzinfo=UTC)


def test_weekly_rule_in_new_york_after_the_clocks_change():
    friday = next_occurrence("fri 20:00", "America/New_York",
                             datetime(2026, 11, 1, 12, 0, tzinfo=UTC))
    assert friday == datetime(2026, 11, 7, 1, 0, tzinfo=UTC)  # 20:00 EST


# -- firing ----------------------------------------------------------------------------------

async def test_a_job_fires_once_at_its_time_not_before(napp, clock):
    ann = await member(napp, "ann")
    await schedule(napp, "test.note", "N1", clock.now + timedelta(minutes=5), member=ann)
    assert (await napp.scheduler.tick()).fired == 0
    clock.advance(minutes=5)
    assert (await napp.scheduler.tick()).fired == 1
    assert (await napp.scheduler.tick()).fired == 0
    assert [n["n"] for n in await outbox(napp, "test.note")] == ["N1"]
    assert (await job(napp, "test.note", "N1")).state == "done"


async def test_a_crash_mid_fire_leaves_the_job_pending_and_nothing_written(napp, clock):
    ann = await member(napp, "ann")
    await schedule(napp, "test.note", "N2", clock.now, member=ann)
    CRASH["on"] = True
    assert (await napp.scheduler.tick()).fired == 0
    assert await outbox(napp, "test.note") == []
    assert (await job(napp, "test.note", "N2")).state == "pending"
    CRASH["on"] = False
    clock.advance(minutes=1)  # the next tick, after a restart say
    assert (await napp.scheduler.tick()).fired == 1
    assert len(await outbox(napp, "test.note")) == 1


async def test_moving_and_cancelling_a_job(napp, clock):
    ann = await member(napp, "ann")
    await schedule(napp, "test.note", "N3", clock.now + timedelta(minutes=1), member=ann)
    await schedule(napp, "test.note", "N3", clock.now + timedelta(hours=1), member=ann)
    clock.advance(minutes=2)
    assert (await napp.scheduler.tick()).fired == 0  # moved: one row, at the new time
    async with napp.db.write() as conn:
        assert await napp.scheduler.cancel_in(conn, "test.note", "N3")
    clock.advance(hours=2)
    assert (await napp.scheduler.tick()).fired == 0
    assert (await job(napp, "test.note", "N3")).state == "cancelled"


async def test_two_processes_fire_each_job_once(db_url, clock):
    first, second = await make_app(db_url, clock), await make_app(db_url, clock)
    try:
        ann = await member(first, "ann")
        for n in range(30):
            await schedule(first, "test.note", f"R{n}", clock.now, member=ann)
        one, two = await asyncio.gather(first.scheduler.tick(), second.scheduler.tick())
        assert one.fired + two.fired == 30
        assert sorted(n["n"] for n in await outbox(first, "test.note")) == sorted(
            f"R{n}" for n in range(30))
    finally:
        await first.close()
        await second.close()


async def test_late_within_grace_fires_beyond_it_is_missed_and_organisers_told(napp, clock):
    ann = await member(napp, "ann")
    boss = await member(napp, "boss")  # an organiser by config (console:boss)
    await schedule(napp, "test.note", "SOON", clock.now, member=ann)
    await schedule(napp, "test.note", "LATE", clock.now - timedelta(minutes=16), member=ann)
    result = await napp.scheduler.start()  # start-up after a downtime
    napp.scheduler.stop()
    assert (result.fired, result.missed) == (1, 1)
    assert [n["n"] for n in await outbox(napp, "test.note")] == ["SOON"]
    assert (await job(napp, "test.note", "LATE")).state == "missed"
    [told] = await outbox(napp, "scheduler.missed")
    assert told["member"] == boss and told["ref"] == "LATE" and told["what"] == "a test note"
    text = napp.services.notifier.render(
        Translator("en"), "scheduler.missed",
        {k: v for k, v in told.items() if k != "member"}).plain_text
    assert "Missed: a test note (LATE) was due at" in text and "15 minutes late" in text


async def test_platform_organisers_are_listed_for_notices(napp):
    await member(napp, "ann")
    boss = await member(napp, "boss")
    deb = (await napp.services.members.resolve(Actor(
        Platform.DISCORD, "900", username="deb", platform_role=Role.ORGANISER))).member_id
    async with napp.db.read() as conn:
        assert await member_repo.organiser_ids(conn, ("console:boss",)) == sorted([boss, deb])
    # The Discord role taken away: she is no longer listed once she is seen without it.
    await napp.services.members.resolve(Actor(Platform.DISCORD, "900", username="deb"))
    async with napp.db.read() as conn:
        assert await member_repo.organiser_ids(conn, ("console:boss",)) == [boss]


# -- the bounties' jobs ----------------------------------------------------------------------

async def test_a_bounty_closes_at_its_deadline_and_follows_edits(napp, clock):
    boss = await member(napp, "boss")
    bounties = napp.services.bounties
    made = await bounties.create(boss, Role.ORGANISER, title="Poster", reward=5,
                                 deadline=clock.now + timedelta(hours=1))
    assert (await job(napp, "bounty.close", f"B{made.id}")).due_at == made.deadline
    later = clock.now + timedelta(hours=3)
    await bounties.edit(boss, Role.ORGANISER, made.id, {"deadline": later})
    clock.advance(hours=2)
    await napp.scheduler.tick()
    assert (await bounties.get(made.id)).status == "open"
    clock.advance(hours=1)
    assert (await napp.scheduler.tick()).fired == 1
    closed = await bounties.get(made.id)
    assert closed.status == "closed" and closed.closed_at == later
    other = await bounties.create(boss, Role.ORGANISER, title="Song", reward=5,
                                  deadline=clock.now + timedelta(hours=1))
    await bounties.close(boss, Role.ORGANISER, other.id)
    assert (await job(napp, "bounty.close", f"B{other.id}")).state == "cancelled"


async def test_the_daily_digest_lists_long_waiting_submissions(napp, clock):
    boss = await member(napp, "boss")
    ann = await member(napp, "ann")
    await napp.scheduler.ensure_recurring()
    digest = await job(napp, "bounty.digest", "daily")
    assert digest.rule == "daily 09:00" and digest.due_at == datetime(2026, 11, 26, 9, 0,
                                                                      tzinfo=UTC)
    bounty = await napp.services.bounties.create(boss, Role.ORGANISER, title="Logo", reward=5)
    old, _ = await napp.services.bounties.submit(ann, bounty.id, "https://a.example/1", None,
                                                 "console")
    clock.advance(hours=12)  # the 26th, 00:00: not yet due
    await napp.scheduler.tick()
    clock.advance(hours=9)  # 09:00: the submission has waited 21 hours, under 48
    assert (await napp.scheduler.tick()).fired == 1
    assert await outbox(napp, "bounty.digest") == []
    clock.now = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)  # 45 hours: still none
    await napp.scheduler.tick()
    assert await outbox(napp, "bounty.digest") == []
    clock.now = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)  # 69 hours
    await napp.scheduler.tick()
    [sent] = await outbox(napp, "bounty.digest")
    assert sent["member"] == boss and sent["count"] == 1 and sent["oldest"][0][0] == f"S{old.id}"
    assert (await job(napp, "bounty.digest", "daily")).due_at == datetime(2026, 11, 29, 9, 0,
                                                                          tzinfo=UTC)


async def test_the_alarm_fires_a_job_written_while_serving(sqlite_url):
    """On the real clock: a job scheduled for a moment from now fires by itself (APScheduler's
    alarm calls tick), with no poll in between."""
    app = App(make_settings(sqlite_url), registry=Registry.build([*FEATURES, notes]))
    await app.start()
    await app.start_scheduler()
    try:
        ann = await member(app, "ann")
        await schedule(app, "test.note", "ALARM", datetime.now(UTC) + timedelta(seconds=0.3),
                       member=ann)
        for _ in range(500):  # a wait for progress, not a measurement (bench/ measures)
            if await outbox(app, "test.note"):
                break
            await asyncio.sleep(0.01)
        assert [n["n"] for n in await outbox(app, "test.note")] == ["ALARM"]
    finally:
        await app.close()


async def test_the_mall_forgets_old_newreward_keys_but_keeps_the_rewards(napp, clock):
    boss = await member(napp, "boss")
    mall = napp.services.mall
    old, _ = await mall.create_reward(boss, Role.ORGANISER, name="Mug", description="",
                                      cost=5, stock=None, per_member=None, key="upd:1")
    clock.advance(days=6)
    await mall.create_reward(boss, Role.ORGANISER, name="Cap", description="", cost=5,
                             stock=None, per_member=None, key="upd:2")
    await napp.scheduler.ensure_recurring()
    clock.now = (await job(napp, "mall.forget_keys", "daily")).due_at  # 6 days 16 hours on
    assert (await napp.scheduler.tick()).fired == 1
    async with napp.db.read() as conn:
        assert (await conn.execute(sa.text("SELECT count(*) FROM kv WHERE key LIKE "
                                           "'mall:newreward:%'"))).scalar() == 2
    clock.advance(days=1)  # the next run: the first key is now over 7 days old
    assert (await napp.scheduler.tick()).fired == 1
    async with napp.db.read() as conn:
        keys = [r.key for r in await conn.execute(sa.text("SELECT key FROM kv ORDER BY key"))]
    assert "mall:newreward:upd:1" not in keys and "mall:newreward:upd:2" in keys
    assert (await mall.reward(old.id)).name == "Mug"
