"""The shared kit: points inside a feature's transaction, the audit record, translations."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from bot import errors
from bot.i18n import translator
from bot.model import Actor, Platform
from bot.reply import Reply
from bot.storage.schema import audit, kv, ledger
from bot.views.content import localized
from tests.commands.conftest import Terminal


async def member(app, name: str) -> int:
    caller = await app.services.members.resolve(Actor(Platform.CONSOLE, name, username=name))
    return caller.member_id


async def count(app, table, *where) -> int:
    async with app.db.read() as conn:
        query = sa.select(sa.func.count()).select_from(table)
        return (await conn.execute(query.where(*where) if where else query)).scalar_one()


async def test_a_feature_write_and_its_credit_commit_together(app):
    ann = await member(app, "ann")
    async with app.db.write() as conn:
        await conn.execute(kv.insert().values(key="approved:S1", value="yes",
                                              updated_at=app.services.clock()))
        await app.services.ledger.credit_in(conn, ann, 30, kind="bounty", reason="B1",
                                            key="bounty:S1")
    assert (await app.services.ledger.standing(ann)).balance == 30
    with pytest.raises(RuntimeError):
        async with app.db.write() as conn:
            await app.services.ledger.credit_in(conn, ann, 5, kind="bounty", reason="B2",
                                                key="bounty:S2")
            raise RuntimeError("the feature's own write failed")
    assert (await app.services.ledger.standing(ann)).balance == 30  # nothing half-done
    assert await count(app, ledger, ledger.c.idem_key == "bounty:S2") == 0


async def test_a_refused_debit_rolls_back_the_features_writes(app):
    ben = await member(app, "ben")
    await app.services.ledger.credit(ben, 10, kind="award", reason=None, key="seed")
    with pytest.raises(errors.InsufficientPoints):
        async with app.db.write() as conn:
            await conn.execute(kv.insert().values(key="order:O1", value="taken",
                                                  updated_at=app.services.clock()))
            await app.services.ledger.debit_in(conn, ben, 25, kind="redemption",
                                               reason="R1", key="order:O1")
    assert await count(app, kv, kv.c.key == "order:O1") == 0
    assert (await app.services.ledger.standing(ben)).balance == 10


async def test_the_same_object_key_credits_once_however_often_and_by_whom(app):
    cat = await member(app, "cat")

    async def approve(organiser: int) -> bool:
        async with app.db.write() as conn:
            move = await app.services.ledger.credit_in(
                conn, cat, 40, kind="bounty", reason="B3", key="bounty:S3",
                actor_member_id=organiser)
            return move.replayed

    org1, org2 = await member(app, "org1"), await member(app, "org2")
    replays = await asyncio.gather(approve(org1), approve(org2), approve(org1))
    assert sorted(replays) == [False, True, True]
    assert (await app.services.ledger.standing(cat)).balance == 40
    assert await app.services.ledger.check_invariants() == []


async def test_organiser_actions_leave_one_audit_record_each(app):
    term = Terminal(app)
    await term.say("boss", "/award @dan 7 demo")
    await term.say("boss", "/deduct @dan 2 typo")
    await term.say("boss", "/grant @dan ambassador")
    records = await app.services.audit.recent()
    actions = [(r.action, r.detail.get("amount"), r.detail.get("role")) for r in records]
    assert actions == [("roles.grant", None, "ambassador"), ("points.deduct", -2, None),
                       ("points.award", 7, None)]
    dan = await member(app, "dan")
    boss = await member(app, "boss")
    assert {(r.actor_member_id, r.target_member_id) for r in records} == {(boss, dan)}
    assert [r.detail["reason"] for r in records[1:]] == ["typo", "demo"]


async def test_a_replayed_award_is_not_audited_twice(app):
    eve = await member(app, "eve")
    for _ in range(2):
        await app.services.ledger.credit(eve, 3, kind="award", reason="x", key="k:eve",
                                         actor_member_id=eve, audit="points.award")
    assert await count(app, audit, audit.c.action == "points.award") == 1


async def test_translations_for_each_reader(app):
    translations = app.services.translations
    async with app.db.write() as conn:
        await translations.set_in(conn, "bounty", 1, "zh_Hans", {"title": "视频赏金"})
        await translations.set_in(conn, "bounty", 1, "zh_Hans", {"title": "短视频赏金"})
    zh, en = translator("zh_Hans"), translator("en")
    texts = await translations.for_reader("bounty", [1, 2], "zh_Hans")
    assert texts == {(1, "title"): "短视频赏金"}

    def shown(t, object_id, texts):
        spans = localized(t, texts, object_id, "title", "Video bounty", "en")
        return Reply(spans=tuple(spans)).plain_text

    assert shown(zh, 1, texts) == "短视频赏金"
    assert shown(zh, 2, texts) == "Video bounty（尚未翻译成中文（简体））"
    assert shown(en, 2, await translations.for_reader("bounty", [2], "en")) == "Video bounty"
