"""Prepared reads answer exactly what SQLAlchemy would, on both backends, and never stale."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from bot.model import Actor, Platform
from bot.storage.prepared import Prepared
from bot.storage.schema import members

_SINCE = (sa.select(members.c.id, members.c.created_at, members.c.notify, members.c.locale)
          .where(members.c.created_at >= sa.bindparam("since", type_=members.c.created_at.type),
                 members.c.balance >= 0)
          .order_by(members.c.id))
SINCE = Prepared(_SINCE)
BALANCE = Prepared(sa.select(members.c.balance).where(members.c.id == sa.bindparam("mid")))


async def new_member(app, name: str) -> int:
    return (await app.services.members.resolve(Actor(Platform.CONSOLE, name))).member_id


async def test_rows_and_types_match_sqlalchemy(app, clock):
    await new_member(app, "ann")
    clock.advance(hours=1)
    later = await new_member(app, "ben")
    async with app.db.read() as conn:
        since = clock.now - timedelta(minutes=30)
        prepared = await SINCE.all(conn, since=since)
        expected = [tuple(row) for row in await conn.execute(_SINCE, {"since": since})]
    # Bound and result values go through the column types: aware UTC datetimes, booleans.
    assert prepared == expected == [(later, clock.now, True, None)]
    assert prepared[0][1].tzinfo == UTC and prepared[0][2] is True


async def test_a_read_sees_every_commit_and_nothing_uncommitted(app):
    ann = await new_member(app, "ann")
    async with app.db.read() as conn:
        assert await BALANCE.first(conn, mid=ann) == (0,)
    await app.services.ledger.credit(ann, 7, kind="award", reason=None, key="k1")
    async with app.db.read() as conn:
        assert await BALANCE.first(conn, mid=ann) == (7,)
        assert await BALANCE.first(conn, mid=ann + 1000) is None
    async with app.db.write() as writer:
        await writer.execute(members.update().where(members.c.id == ann).values(balance=9))
        async with app.db.read() as conn:
            assert await BALANCE.first(conn, mid=ann) == (7,)  # not committed yet
    async with app.db.read() as conn:
        assert await BALANCE.first(conn, mid=ann) == (9,)


async def test_expanding_parameters_are_refused(app):
    ids = Prepared(sa.select(members.c.id).where(
        members.c.id.in_(sa.bindparam("ids", expanding=True))))
    async with app.db.read() as conn:
        if app.db.is_sqlite:
            with pytest.raises(ValueError, match="expanding"):
                await ids.all(conn, ids=[1])
        else:  # PostgreSQL runs every statement through SQLAlchemy, which expands it
            assert await ids.all(conn, ids=[1]) == []


def test_a_naive_datetime_is_refused_as_sqlalchemy_would():
    from sqlalchemy.dialects import sqlite

    plan = SINCE.plan(sqlite.dialect(paramstyle="qmark"))
    with pytest.raises(ValueError, match="naive"):
        plan.values({"since": datetime(2026, 1, 1)})
