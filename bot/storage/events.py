"""Events and RSVPs.

Seats are counted, not stored: an RSVP locks its event's row and counts the Going rows of the
event (or of one session, `session_id` > 0) in the same transaction, so the count it acts on is
exact on PostgreSQL (the lock) and on SQLite (one writer at a time), and a merge of two members
that deletes one of their RSVPs cannot leave a counter behind.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.prepared import Prepared
from bot.storage.schema import events, rsvps

GOING, MAYBE, NO, WAITLIST, OFFERED = "going", "maybe", "no", "waitlist", "offered"


@dataclass(frozen=True)
class EventRow:
    id: int
    kind: str
    title: str
    description: str
    start_at: datetime
    end_at: datetime | None
    timezone: str
    venue: str | None
    capacity: int | None
    invite_only: bool
    speakers: str | None
    reminders: str
    status: str
    created_by: int | None
    created_at: datetime


@dataclass(frozen=True)
class RsvpRow:
    id: int
    event_id: int
    session_id: int
    member_id: int
    state: str
    queued_at: datetime | None
    platform: str | None


_EVENT_COLS = [events.c[name] for name in EventRow.__dataclass_fields__]
_RSVP_COLS = [rsvps.c[name] for name in RsvpRow.__dataclass_fields__]

# The statements an RSVP runs, built once (an RSVP holds its event's lock for as long as they
# take, so their SQLAlchemy overhead is the ceiling on RSVPs per second).
_EVENT = sa.select(*_EVENT_COLS).where(events.c.id == sa.bindparam("eid"))
_LOCKED_EVENT = Prepared(_EVENT.with_for_update())
_GET_EVENT = Prepared(_EVENT)
_SAME = (rsvps.c.event_id == sa.bindparam("eid"), rsvps.c.session_id == sa.bindparam("sid"))
_GET_RSVP = Prepared(sa.select(*_RSVP_COLS).where(*_SAME,
                                                   rsvps.c.member_id == sa.bindparam("mid")))
_COUNT_STATE = Prepared(sa.select(sa.func.count()).select_from(rsvps).where(
    *_SAME, rsvps.c.state == sa.bindparam("state")))
_TALLY = Prepared(sa.select(rsvps.c.state, sa.func.count(),
                            sa.func.max(sa.case((rsvps.c.member_id == sa.bindparam("mid"),
                                                 rsvps.c.id), else_=None)))
                  .where(*_SAME).group_by(rsvps.c.state))
_FIRST_WAITING = Prepared(sa.select(*_RSVP_COLS).where(*_SAME, rsvps.c.state == "waitlist")
                          .order_by(rsvps.c.queued_at, rsvps.c.id).limit(1))
_PLACE = Prepared(sa.select(sa.func.count()).select_from(rsvps).where(
    *_SAME, rsvps.c.state == "waitlist",
    sa.or_(rsvps.c.queued_at < sa.bindparam("queued"),
           sa.and_(rsvps.c.queued_at == sa.bindparam("queued"),
                   rsvps.c.id <= sa.bindparam("rid")))))


async def insert_event(conn: AsyncConnection, **values) -> int:
    result = await conn.execute(events.insert().values(**values).returning(events.c.id))
    return int(result.scalar_one())


async def get_event(conn: AsyncConnection, event_id: int, *,
                    lock: bool = False) -> EventRow | None:
    """One event; `lock` reads it for update: every RSVP to it waits for the one before."""
    row = await (_LOCKED_EVENT if lock else _GET_EVENT).first(conn, eid=event_id)
    return EventRow(*row) if row else None


async def get_rsvp(conn: AsyncConnection, event_id: int, session_id: int,
                   member_id: int) -> RsvpRow | None:
    row = await _GET_RSVP.first(conn, eid=event_id, sid=session_id, mid=member_id)
    return RsvpRow(*row) if row else None


async def count_state(conn: AsyncConnection, event_id: int, session_id: int,
                      state: str) -> int:
    row = await _COUNT_STATE.first(conn, eid=event_id, sid=session_id, state=state)
    return int(row[0])


@dataclass(frozen=True)
class Tally:
    """An event's (or session's) RSVPs by state, and where one member stands, in one query."""

    counts: dict[str, int]
    mine: int | None  # the member's RSVP id
    my_state: str | None


async def tally(conn: AsyncConnection, event_id: int, session_id: int,
                member_id: int) -> Tally:
    counts: dict[str, int] = {}
    mine = my_state = None
    for state, n, own in await _TALLY.all(conn, eid=event_id, sid=session_id, mid=member_id):
        counts[state] = int(n)
        if own is not None:
            mine, my_state = int(own), state
    return Tally(counts, mine, my_state)


async def counts(conn: AsyncConnection, event_id: int, session_id: int = 0) -> dict[str, int]:
    """state -> how many, for an event's card."""
    query = (sa.select(rsvps.c.state, sa.func.count()).where(
        rsvps.c.event_id == event_id, rsvps.c.session_id == session_id)
        .group_by(rsvps.c.state))
    return {state: int(n) for state, n in await conn.execute(query)}


async def save_rsvp(conn: AsyncConnection, existing: int | None, *, event_id: int,
                    session_id: int, member_id: int, state: str, queued_at: datetime | None,
                    platform: str | None, now: datetime) -> RsvpRow:
    """Insert or change (`existing`: its id) the member's RSVP; the row as it now is, without
    reading it back (`platform` None keeps the stored one)."""
    values = {"state": state, "queued_at": queued_at, "updated_at": now}
    if platform:
        values["platform"] = platform
    if existing is None:
        result = await conn.execute(rsvps.insert().values(
            event_id=event_id, session_id=session_id, member_id=member_id, created_at=now,
            **values).returning(rsvps.c.id))
        return RsvpRow(int(result.scalar_one()), event_id, session_id, member_id, state,
                       queued_at, platform)
    await conn.execute(rsvps.update().where(rsvps.c.id == existing).values(**values))
    return RsvpRow(existing, event_id, session_id, member_id, state, queued_at, platform)


async def first_waiting(conn: AsyncConnection, event_id: int, session_id: int) -> RsvpRow | None:
    """The waitlist's head: the earliest to ask for a seat (on the state/queued_at index)."""
    row = await _FIRST_WAITING.first(conn, eid=event_id, sid=session_id)
    return RsvpRow(*row) if row else None


async def waitlist(conn: AsyncConnection, event_id: int, session_id: int = 0) -> list[int]:
    """Member ids on the waitlist, in order."""
    rows = await conn.execute(
        sa.select(rsvps.c.member_id).where(rsvps.c.event_id == event_id,
                                           rsvps.c.session_id == session_id,
                                           rsvps.c.state == WAITLIST)
        .order_by(rsvps.c.queued_at, rsvps.c.id))
    return [r.member_id for r in rows]


async def place(conn: AsyncConnection, mine: RsvpRow) -> int:
    """A waitlisted RSVP's place in the line, 1 being the next to get a seat."""
    row = await _PLACE.first(conn, eid=mine.event_id, sid=mine.session_id,
                             queued=mine.queued_at, rid=mine.id)
    return int(row[0])
