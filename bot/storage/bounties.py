"""Bounties, their submissions, and organisers' approvals (tables of migration 0004).

Point lookups (`get_bounty`, `get_submission`, `has_live_submission`, `approvers`) are indexed
and bounded, for `Database.read()` or inside a write; the lists (`open_page`, `pending_page`,
`member_page`) and `export` grow with the data and run on `Database.scan()`.

State changes are guarded in SQL as well as read under a row lock: a submission leaves
`pending` with `UPDATE … WHERE state = 'pending'`, so two organisers' approvals on PostgreSQL's
READ COMMITTED can never both move it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.db import insert_for
from bot.storage.schema import approvals, bounties, members, submissions


@dataclass(frozen=True)
class BountyRow:
    id: int
    title: str
    description: str
    sponsor: str | None
    track: str
    reward: int
    deadline: datetime | None
    winners: int | None
    once: bool
    status: str
    approved: int
    created_by: int | None
    created_at: datetime
    closed_at: datetime | None

    @property
    def winners_left(self) -> int | None:
        return None if self.winners is None else max(self.winners - self.approved, 0)


@dataclass(frozen=True)
class SubmissionRow:
    id: int
    bounty_id: int
    member_id: int
    link: str
    link_key: str
    note: str | None
    state: str
    platform: str | None
    points: int | None
    reason: str | None
    reviewer_member_id: int | None
    created_at: datetime
    decided_at: datetime | None


@dataclass(frozen=True)
class SubmissionItem:
    """A submission with what a list shows of it: its bounty's title and the member's name."""

    submission: SubmissionRow
    bounty_title: str
    member_name: str | None


@dataclass(frozen=True)
class ExportRow:
    submission: SubmissionRow
    bounty: BountyRow
    member_name: str | None
    reviewers: tuple[str, ...]


_BOUNTY_COLS = [bounties.c[name] for name in BountyRow.__dataclass_fields__]
_SUBMISSION_COLS = [submissions.c[name] for name in SubmissionRow.__dataclass_fields__]


def _bounty(row) -> BountyRow:
    return BountyRow(*row[:len(_BOUNTY_COLS)])


def _submission(row) -> SubmissionRow:
    return SubmissionRow(*row[:len(_SUBMISSION_COLS)])


# -- bounties --------------------------------------------------------------------------------

async def insert_bounty(conn: AsyncConnection, **values) -> int:
    result = await conn.execute(bounties.insert().values(**values).returning(bounties.c.id))
    return int(result.scalar_one())


async def get_bounty(conn: AsyncConnection, bounty_id: int, *,
                     lock: bool = False) -> BountyRow | None:
    """One bounty; `lock` reads it for update (PostgreSQL locks the row; SQLite's write
    transaction already holds the database)."""
    query = sa.select(*_BOUNTY_COLS).where(bounties.c.id == bounty_id)
    if lock:
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    return _bounty(row) if row else None


async def update_bounty(conn: AsyncConnection, bounty_id: int, **values) -> None:
    await conn.execute(bounties.update().where(bounties.c.id == bounty_id).values(**values))


async def count_approved(conn: AsyncConnection, bounty_id: int) -> int:
    """One more winner: the new count (the caller holds the bounty's row lock)."""
    result = await conn.execute(
        bounties.update().where(bounties.c.id == bounty_id)
        .values(approved=bounties.c.approved + 1).returning(bounties.c.approved))
    return int(result.scalar_one())


def _open_where(now: datetime, track: str | None, sponsor: str | None) -> list:
    where = [bounties.c.status == "open",
             sa.or_(bounties.c.deadline.is_(None), bounties.c.deadline >= now),
             sa.or_(bounties.c.winners.is_(None), bounties.c.approved < bounties.c.winners)]
    if track:
        where.append(bounties.c.track == track)
    if sponsor:
        where.append(sa.func.lower(bounties.c.sponsor) == sponsor.lower())
    return where


async def count_open(conn: AsyncConnection, now: datetime, track: str | None,
                     sponsor: str | None) -> int:
    query = sa.select(sa.func.count()).select_from(bounties).where(
        *_open_where(now, track, sponsor))
    return int((await conn.execute(query)).scalar_one())


async def open_page(conn: AsyncConnection, now: datetime, track: str | None,
                    sponsor: str | None, start: int, size: int) -> list[BountyRow]:
    """Open bounties (not past their deadline nor their winner limit), newest first."""
    query = (sa.select(*_BOUNTY_COLS).where(*_open_where(now, track, sponsor))
             .order_by(bounties.c.id.desc()).offset(start).limit(size))
    return [_bounty(row) for row in await conn.execute(query)]


# -- submissions -----------------------------------------------------------------------------

async def insert_submission(conn: AsyncConnection, **values) -> int | None:
    """The new submission's id, or None when its link was already submitted to the bounty
    (the unique (bounty_id, link_key) decides, also between two at once)."""
    stmt = (insert_for(conn, submissions).values(**values)
            .on_conflict_do_nothing(index_elements=["bounty_id", "link_key"])
            .returning(submissions.c.id))
    found = (await conn.execute(stmt)).scalar_one_or_none()
    return None if found is None else int(found)


async def get_submission(conn: AsyncConnection, submission_id: int, *,
                         lock: bool = False) -> SubmissionRow | None:
    query = sa.select(*_SUBMISSION_COLS).where(submissions.c.id == submission_id)
    if lock:
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    return _submission(row) if row else None


async def has_live_submission(conn: AsyncConnection, bounty_id: int, member_id: int, *,
                              states: tuple[str, ...] = ("pending", "approved"),
                              other_than: int | None = None) -> bool:
    """Whether the member has a submission in `states` to the bounty (once-only bounties)."""
    query = sa.select(submissions.c.id).where(
        submissions.c.member_id == member_id, submissions.c.bounty_id == bounty_id,
        submissions.c.state.in_(states))
    if other_than is not None:
        query = query.where(submissions.c.id != other_than)
    return (await conn.execute(query.limit(1))).first() is not None


async def decide(conn: AsyncConnection, submission_id: int, *, state: str, reviewer: int,
                 now: datetime, points: int | None = None, reason: str | None = None) -> bool:
    """Move a pending submission to `state`; False when it was no longer pending."""
    result = await conn.execute(
        submissions.update()
        .where(submissions.c.id == submission_id, submissions.c.state == "pending")
        .values(state=state, reviewer_member_id=reviewer, decided_at=now, points=points,
                reason=reason))
    return result.rowcount == 1


def _listed(where: list, order, start: int, size: int):
    return (sa.select(*_SUBMISSION_COLS, bounties.c.title, members.c.display_name)
            .join(bounties, bounties.c.id == submissions.c.bounty_id)
            .join(members, members.c.id == submissions.c.member_id)
            .where(*where).order_by(order).offset(start).limit(size))


def _item(row) -> SubmissionItem:
    n = len(_SUBMISSION_COLS)
    return SubmissionItem(_submission(row), row[n], row[n + 1])


async def count_pending(conn: AsyncConnection) -> int:
    query = sa.select(sa.func.count()).select_from(submissions).where(
        submissions.c.state == "pending")
    return int((await conn.execute(query)).scalar_one())


async def pending_page(conn: AsyncConnection, start: int, size: int) -> list[SubmissionItem]:
    """Pending submissions, oldest first (the longest waiting at the top)."""
    query = _listed([submissions.c.state == "pending"], submissions.c.id.asc(), start, size)
    return [_item(row) for row in await conn.execute(query)]


async def waiting_since(conn: AsyncConnection, before: datetime,
                        size: int) -> tuple[int, list[SubmissionItem]]:
    """Pending submissions made before `before`: how many, and the oldest `size` of them."""
    where = [submissions.c.state == "pending", submissions.c.created_at < before]
    count = sa.select(sa.func.count()).select_from(submissions).where(*where)
    total = int((await conn.execute(count)).scalar_one())
    rows = await conn.execute(_listed(where, submissions.c.id.asc(), 0, size))
    return total, [_item(row) for row in rows]


async def count_member(conn: AsyncConnection, member_id: int) -> int:
    query = sa.select(sa.func.count()).select_from(submissions).where(
        submissions.c.member_id == member_id)
    return int((await conn.execute(query)).scalar_one())


async def member_page(conn: AsyncConnection, member_id: int, start: int,
                      size: int) -> list[SubmissionItem]:
    query = _listed([submissions.c.member_id == member_id], submissions.c.id.desc(), start,
                    size)
    return [_item(row) for row in await conn.execute(query)]


# -- approvals -------------------------------------------------------------------------------

async def add_approval(conn: AsyncConnection, submission_id: int, organiser: int,
                       now: datetime) -> bool:
    """Record one organiser's approval; False when they had approved it already."""
    stmt = (insert_for(conn, approvals)
            .values(submission_id=submission_id, organiser_member_id=organiser, created_at=now)
            .on_conflict_do_nothing(index_elements=["submission_id", "organiser_member_id"])
            .returning(approvals.c.submission_id))
    return (await conn.execute(stmt)).first() is not None


async def approvers(conn: AsyncConnection, submission_id: int) -> list[int]:
    query = (sa.select(approvals.c.organiser_member_id)
             .where(approvals.c.submission_id == submission_id)
             .order_by(approvals.c.created_at, approvals.c.organiser_member_id))
    return [int(row[0]) for row in await conn.execute(query)]


# -- export ----------------------------------------------------------------------------------

async def export(conn: AsyncConnection, sponsor: str | None,
                 since: datetime | None) -> list[ExportRow]:
    """Every submission (of one sponsor's bounties, from `since`), oldest first, with the
    names of those who approved or decided it."""
    where = []
    if sponsor:
        where.append(sa.func.lower(bounties.c.sponsor) == sponsor.lower())
    if since is not None:
        where.append(submissions.c.created_at >= since)
    query = (sa.select(*_SUBMISSION_COLS, *_BOUNTY_COLS, members.c.display_name)
             .join(bounties, bounties.c.id == submissions.c.bounty_id)
             .join(members, members.c.id == submissions.c.member_id)
             .where(*where).order_by(submissions.c.id))
    rows = list(await conn.execute(query))
    chosen = (sa.select(submissions.c.id)
              .join(bounties, bounties.c.id == submissions.c.bounty_id).where(*where))
    reviewer = members.alias("reviewer")
    names: dict[int, list[str]] = {}
    approved = (sa.select(approvals.c.submission_id, reviewer.c.id, reviewer.c.display_name)
                .join(reviewer, reviewer.c.id == approvals.c.organiser_member_id)
                .where(approvals.c.submission_id.in_(chosen))
                .order_by(approvals.c.created_at, reviewer.c.id))
    for submission_id, member_id, name in await conn.execute(approved):
        names.setdefault(submission_id, []).append(name or f"member {member_id}")
    # A rejection has no approvals row: its reviewer is the submission's own.
    deciders = (sa.select(submissions.c.id, reviewer.c.id, reviewer.c.display_name)
                .join(reviewer, reviewer.c.id == submissions.c.reviewer_member_id)
                .where(submissions.c.id.in_(chosen)))
    for submission_id, member_id, name in await conn.execute(deciders):
        shown = name or f"member {member_id}"
        if shown not in names.setdefault(submission_id, []):
            names[submission_id].append(shown)
    n = len(_SUBMISSION_COLS)
    return [ExportRow(_submission(row), _bounty(row[n:n + len(_BOUNTY_COLS)]),
                      row[n + len(_BOUNTY_COLS)], tuple(names.get(row[0], ())))
            for row in rows]
