"""Member-owned tables: every member reference is declared in bot.storage.owned, and a merge
moves all of them (SQLite, storage level)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from bot.storage import members as repo
from bot.storage.owned import EXEMPT, OWNED, OwnedTable, Rule, merge_rows, references
from bot.storage.schema import audit, ledger, link_codes, members, metadata, outbox


def _member_refs() -> set[tuple[str, str]]:
    """Every column of the schema that points at a member: by foreign key or by its name."""
    found = set()
    for table in metadata.tables.values():
        for column in table.columns:
            to_members = any(fk.column.table is members for fk in column.foreign_keys)
            if to_members or column.name.endswith("member_id"):
                found.add((table.name, column.name))
    return found


def _declared() -> list[tuple[str, str]]:
    return [(entry.table.name, column.name) for entry, column in references()]


def test_every_member_reference_is_owned_or_exempt():
    uncovered = _member_refs() - set(_declared()) - set(EXEMPT)
    assert not uncovered, (
        f"{sorted(uncovered)} refer to members but are not in bot.storage.owned.OWNED: add an "
        "OwnedTable with its merge rule (or, with a reason, to EXEMPT)")


def test_declarations_are_not_stale_or_doubled():
    declared = _declared()
    assert len(declared) == len(set(declared)), "a column is declared in two OwnedTable entries"
    assert set(declared) <= _member_refs(), "OWNED names a column that is no member reference"
    for table_name, column_name in EXEMPT:
        assert column_name in metadata.tables[table_name].c, (table_name, column_name)
    assert all(entry.why for entry in OWNED), "every entry says why"
    assert all(entry.table is metadata.tables[entry.table.name] for entry in OWNED)


def test_declaration_checks_its_columns():
    with pytest.raises(ValueError, match="no column"):
        OwnedTable(outbox, ("owner_id",))
    with pytest.raises(ValueError, match="unique"):
        OwnedTable(outbox, rule=Rule.MOVE_KEEP_ONE)
    with pytest.raises(ValueError, match="unique"):
        OwnedTable(outbox, unique=("kind",))


async def _account(conn, now, name: str) -> repo.AccountRow:
    account, _ = await repo.get_or_create_account(
        conn, platform="console", user_id=name, username=name, display_name=name, now=now)
    return account


async def test_merge_moves_every_owned_row_and_leaves_no_reference_to_the_gone_member(
        sqlite_app, clock):
    app, now = sqlite_app, clock()
    async with app.db.write() as conn:
        keep_account = await _account(conn, now, "keeper")
        gone_account = await _account(conn, now, "goner")
        other_account = await _account(conn, now, "bystander")
        keep_id, gone_id = keep_account.member_id, gone_account.member_id
        other_id = other_account.member_id
        entries = [(keep_id, other_id, 30, "k1"), (gone_id, other_id, 12, "g1"),
                   (gone_id, gone_id, -2, "g2"), (other_id, gone_id, 5, "o1")]
        for who, actor, amount, key in entries:
            await conn.execute(ledger.insert().values(
                member_id=who, actor_member_id=actor, amount=amount, kind="award",
                idem_key=key, created_at=now))
        await conn.execute(members.update().where(members.c.id == keep_id)
                           .values(balance=30, earned=30))
        await conn.execute(members.update().where(members.c.id == gone_id)
                           .values(balance=10, earned=12))
        for who, key in [(keep_id, "n-keep"), (gone_id, "n-gone")]:
            await conn.execute(outbox.insert().values(
                member_id=who, platform="console", kind="points_awarded", params="{}",
                not_before=now, dedupe_key=key, created_at=now))
        await conn.execute(link_codes.insert().values(
            code="GONECODE", member_id=gone_id, issuer_account_id=gone_account.id,
            expires_at=now + timedelta(minutes=10)))
        for actor, target in [(gone_id, other_id), (other_id, gone_id), (gone_id, gone_id)]:
            await conn.execute(audit.insert().values(
                actor_member_id=actor, target_member_id=target, action="award",
                created_at=now))

    async with app.db.write() as conn:
        keep = await repo.get_member(conn, keep_id)
        gone = await repo.get_member(conn, gone_id)
        await repo.merge_members(conn, keep, gone, "member")

    async with app.db.read() as conn:
        refs = _member_refs()
        for table_name, column_name in sorted(refs):
            column = metadata.tables[table_name].c[column_name]
            left = (await conn.execute(
                sa.select(sa.func.count()).where(column == gone_id))).scalar_one()
            assert left == 0, f"{table_name}.{column_name} still names the gone member"
        assert await repo.get_member(conn, gone_id) is None
        merged = await repo.get_member(conn, keep_id)
        assert (merged.balance, merged.earned) == (40, 42)

        assert {a.platform_user_id for a in await repo.accounts_of(conn, keep_id)} == {
            "keeper", "goner"}
        rows = (await conn.execute(sa.select(ledger.c.idem_key, ledger.c.member_id,
                                             ledger.c.actor_member_id))).all()
        assert {tuple(r) for r in rows} == {("k1", keep_id, other_id), ("g1", keep_id, other_id),
                                            ("g2", keep_id, keep_id), ("o1", other_id, keep_id)}
        notices = (await conn.execute(sa.select(outbox.c.dedupe_key, outbox.c.member_id,
                                                outbox.c.status))).all()
        assert {tuple(r) for r in notices} == {("n-keep", keep_id, "pending"),
                                               ("n-gone", keep_id, "pending")}
        code = await repo.get_link_code(conn, "GONECODE")
        assert code.member_id == keep_id
        trail = (await conn.execute(sa.select(audit.c.actor_member_id,
                                              audit.c.target_member_id))).all()
        assert sorted(tuple(r) for r in trail) == sorted(
            [(keep_id, other_id), (other_id, keep_id), (keep_id, keep_id)])


# -- MOVE_KEEP_ONE, on a table made for the test ---------------------------------------------

_RANK = {"going": 0, "maybe": 1, "no": 2}

rsvps = sa.Table(
    "test_rsvps", sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("member_id", sa.BigInteger, nullable=False),
    sa.Column("event_id", sa.Integer, nullable=False),
    sa.Column("state", sa.String(8), nullable=False),
    sa.UniqueConstraint("member_id", "event_id"),
)


def _better_state(table: sa.Table) -> list[sa.ColumnElement]:
    return [sa.case(*((table.c.state == s, rank) for s, rank in _RANK.items()), else_=9)]


async def _rsvp_merge(app, entry: OwnedTable, rows: list[tuple[int, int, str]]):
    async with app.db.write() as conn:
        await conn.run_sync(rsvps.create)
        for member_id, event_id, state in rows:
            await conn.execute(rsvps.insert().values(member_id=member_id, event_id=event_id,
                                                     state=state))
        await merge_rows(conn, keep_id=1, gone_id=2, owned=[entry])
    async with app.db.read() as conn:
        found = await conn.execute(sa.select(rsvps.c.member_id, rsvps.c.event_id,
                                             rsvps.c.state))
        return {tuple(r) for r in found}


async def test_move_keep_one_keeps_the_preferred_row_of_each_conflict(sqlite_app):
    entry = OwnedTable(rsvps, rule=Rule.MOVE_KEEP_ONE, unique=("event_id",),
                       prefer=_better_state, why="one RSVP per member and event: the better")
    rows = await _rsvp_merge(sqlite_app, entry, [
        (1, 10, "maybe"), (2, 10, "going"),  # gone's is better: it survives, moved
        (1, 20, "going"), (2, 20, "no"),     # keep's is better: it survives
        (1, 30, "maybe"), (2, 30, "maybe"),  # a tie: the kept member's row survives
        (2, 40, "no"),                       # no conflict: it moves
        (3, 10, "no"),                       # another member's row is not touched
    ])
    assert rows == {(1, 10, "going"), (1, 20, "going"), (1, 30, "maybe"), (1, 40, "no"),
                    (3, 10, "no")}


async def test_move_keep_one_without_a_preference_keeps_the_kept_members_row(sqlite_app):
    entry = OwnedTable(rsvps, rule=Rule.MOVE_KEEP_ONE, unique=("event_id",), why="test")
    rows = await _rsvp_merge(sqlite_app, entry, [(1, 10, "no"), (2, 10, "going"),
                                                 (2, 20, "maybe")])
    assert rows == {(1, 10, "no"), (1, 20, "maybe")}
