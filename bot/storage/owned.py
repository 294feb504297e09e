"""Which tables belong to a member: the one registry that merging (and later export and erasure)
walks.

`/link` folds one member into another (`bot.storage.members.merge_members`). Every row that
points at the member that goes away must then point at the member that stays, or it is lost
(or, with a foreign key, the merge fails). So every column that refers to a member is declared
here, once, in `OWNED`, with the rule that says what happens to it:

- `Rule.MOVE` (the default): the column is set from the gone member to the kept one. Rows never
  conflict, or a conflict is allowed to stand. The rule for data that has no per-member unique
  key, e.g. (later) two submissions of the two accounts to a once-only bounty: both stay, and
  per-member limits (one reward per bounty, a weekly cap) count both from then on; nothing is
  taken back.
- `Rule.MOVE_KEEP_ONE`: the table has a per-member unique key (`unique`: the other columns of
  that key), so only one of the two members' rows for the same key may survive, e.g. (later) one
  RSVP per member and event. `prefer` orders the conflicting rows, the first one survives and the
  others are deleted (the kept member's row wins a tie); then the rest move as with `MOVE`.
- `Rule.NOT_OWNED`: the column names a member in a row that is not theirs (none today). A merge
  still repoints it, since the gone member stops existing and the person is now the kept
  member; but export leaves such rows out and erasure keeps the row and clears the reference.

How to add a table: a feature that adds a table with a member column (in `schema.py` and a
migration) adds its `OwnedTable` to the `OWNED` tuple below, one entry each, in this module.
There is deliberately no `register()` called by feature modules at import time: whether a
table is covered must not depend on which modules happen to be imported, and one tuple can be
read in one place. `tests/storage/test_owned_tables.py` fails for any column with a foreign key
to `members.id`, or named `*member_id`, that is neither in `OWNED` nor in `EXEMPT` below.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.schema import (
    accounts,
    approvals,
    attendance,
    audit,
    bounties,
    events,
    invite_uses,
    invites,
    ledger,
    link_codes,
    orders,
    outbox,
    rewards,
    rsvps,
    submissions,
)

# RSVP states, the better first (what survives when both merged members answered one event).
RSVP_RANK = {"going": 0, "offered": 1, "waitlist": 2, "maybe": 3, "no": 4}


class Rule(enum.Enum):
    MOVE = "move"
    MOVE_KEEP_ONE = "move_keep_one"
    NOT_OWNED = "not_owned"


# Orders the rows in conflict on `unique` (both members' rows for one key): the first survives.
Prefer = Callable[[sa.Table], Sequence[sa.ColumnElement]]


@dataclass(frozen=True)
class OwnedTable:
    """A table's member column(s) and what a merge does with them (see the module docstring).

    A table may appear in more than one entry, when its member columns follow different rules;
    a column appears in one entry only."""

    table: sa.Table
    columns: tuple[str, ...] = ("member_id",)
    rule: Rule = Rule.MOVE
    why: str = ""
    unique: tuple[str, ...] = ()  # MOVE_KEEP_ONE: the other columns of the per-member key
    prefer: Prefer | None = None  # MOVE_KEEP_ONE: None = the kept member's row survives

    def __post_init__(self):
        missing = [c for c in (*self.columns, *self.unique) if c not in self.table.c]
        if missing:
            raise ValueError(f"{self.table.name} has no column {', '.join(missing)}")
        if not self.columns:
            raise ValueError(f"{self.table.name}: name at least one member column")
        if (self.rule is Rule.MOVE_KEEP_ONE) != bool(self.unique):
            raise ValueError(f"{self.table.name}: `unique` is for MOVE_KEEP_ONE, and required")


OWNED: tuple[OwnedTable, ...] = (
    OwnedTable(accounts, why="a member's platform accounts: the point of linking"),
    OwnedTable(ledger, ("member_id",),
               why="points history; balances are the sum of it, added in merge_members"),
    OwnedTable(ledger, ("actor_member_id",),
               why="who awarded or spent: the entry still names the same person"),
    OwnedTable(outbox, why="pending notices are delivered to the kept member's accounts"),
    OwnedTable(link_codes,
               why="an open code of the gone member links to the member it now belongs to"),
    OwnedTable(audit, ("actor_member_id", "target_member_id"),
               why="the record must keep naming the person who acted or was acted on"),
    OwnedTable(bounties, ("created_by",), why="the organiser who posted it stays named"),
    OwnedTable(submissions, ("member_id",),
               why="a member's work: both members' submissions stay, even two to a once-only "
                   "bounty (nothing is lost); later once-only checks count both"),
    OwnedTable(submissions, ("reviewer_member_id",), why="the reviewer stays named"),
    OwnedTable(approvals, ("organiser_member_id",), rule=Rule.MOVE_KEEP_ONE,
               unique=("submission_id",),
               why="one organiser's approval of a submission: two accounts of one organiser "
                   "count as one approver"),
    OwnedTable(rewards, ("created_by",), why="the organiser who added it stays named"),
    OwnedTable(orders, ("member_id",),
               why="a member's redemptions: all stay, and per-member limits count them all"),
    OwnedTable(orders, ("closed_by",), why="who fulfilled or cancelled it stays named"),
    OwnedTable(events, ("created_by",), why="the organiser who created it stays named"),
    OwnedTable(rsvps, ("member_id",), rule=Rule.MOVE_KEEP_ONE, unique=("event_id", "session_id"),
               prefer=lambda t: (sa.case(RSVP_RANK, value=t.c.state, else_=len(RSVP_RANK)),
                                 t.c.queued_at),
               why="one RSVP per event (and session) survives: the better state (going, then "
                   "a waitlist place, the earlier first, then maybe, then no)"),
    OwnedTable(invites, ("created_by",), why="the organiser who issued the code stays named"),
    OwnedTable(invite_uses, ("member_id",), rule=Rule.MOVE_KEEP_ONE, unique=("event_id",),
               why="one use of an invitation per member and event: the other is let go"),
    OwnedTable(attendance, ("member_id",), rule=Rule.MOVE_KEEP_ONE, unique=("event_id",),
               why="attended once per event (its points were credited once per account, in "
                   "the ledger, which moves too)"),
)

# Columns that look like member references but are not rows a merge moves, each with why.
EXEMPT: dict[tuple[str, str], str] = {
    ("members", "id"): "the member row itself: merge_members adds the balances and deletes it",
}


def references(owned: Sequence[OwnedTable] = OWNED) -> Iterator[tuple[OwnedTable, sa.Column]]:
    """Every declared (entry, member column): what export and erasure walk."""
    for entry in owned:
        for name in entry.columns:
            yield entry, entry.table.c[name]


async def merge_rows(conn: AsyncConnection, keep_id: int, gone_id: int,
                     owned: Sequence[OwnedTable] = OWNED) -> None:
    """Repoint every declared column from `gone_id` to `keep_id`, by each entry's rule.

    Runs inside the caller's write transaction (merge_members), before the gone member is
    deleted."""
    for entry, column in references(owned):
        if entry.rule is Rule.MOVE_KEEP_ONE:
            await _drop_conflicts(conn, entry, column, keep_id, gone_id)
        await conn.execute(
            entry.table.update().where(column == gone_id).values({column.name: keep_id})
        )


async def _drop_conflicts(conn: AsyncConnection, entry: OwnedTable, column: sa.Column,
                          keep_id: int, gone_id: int) -> None:
    """Of the rows of both members that share a `unique` key, delete all but the preferred."""
    table = entry.table
    pk = list(table.primary_key.columns)
    if not pk:
        raise ValueError(f"{table.name}: MOVE_KEEP_ONE needs a primary key to delete by")
    order = [*(entry.prefer(table) if entry.prefer else ()),
             sa.case((column == keep_id, 0), else_=1), *pk]
    ranked = (
        sa.select(*pk, sa.func.row_number().over(
            partition_by=[table.c[name] for name in entry.unique], order_by=order,
        ).label("place"))
        .where(column.in_([keep_id, gone_id]))
        .subquery()
    )
    losers = sa.select(*[ranked.c[c.name] for c in pk]).where(ranked.c.place > 1)
    target = pk[0] if len(pk) == 1 else sa.tuple_(*pk)
    await conn.execute(table.delete().where(target.in_(losers)))
