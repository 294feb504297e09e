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


async def insert_event(conn: AsyncConnection, **values) -> int:
    result = await conn.execute(events.insert().values(**values).returning(events.c.id))
    return int(result.scalar_one())


async def get_event(conn: AsyncConnection, event_id: int, *,
                    lock: bool = False) -> EventRow | None:
    """One event; `lock` reads it for update: every RSVP to it waits for the one before."""
    query = sa.select(*_EVENT_COLS).where(events.c.id == event_id)
    if lock:
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    return EventRow(**row._mapping) if row else None


async def get_rsvp(conn: AsyncConnection, event_id: int, session_id: int,
                   member_id: int) -> RsvpRow | None:
    row = (await conn.execute(sa.select(*_RSVP_COLS).where(
        rsvps.c.event_id == event_id, rsvps.c.session_id == session_id,
        rsvps.c.member_id == member_id))).first()
    return RsvpRow(**row._mapping) if row else None


async def count_state(conn: AsyncConnection, event_id: int, session_id: int,
                      state: str) -> int:
    query = sa.select(sa.func.count()).select_from(rsvps).where(
        rsvps.c.event_id == event_id, rsvps.c.session_id == session_id, rsvps.c.state == state)
    return int((await conn.execute(query)).scalar_one())


async def counts(conn: AsyncConnection, event_id: int, session_id: int = 0) -> dict[str, int]:
    """state -> how many, for an event's card."""
    query = (sa.select(rsvps.c.state, sa.func.count()).where(
        rsvps.c.event_id == event_id, rsvps.c.session_id == session_id)
        .group_by(rsvps.c.state))
    return {state: int(n) for state, n in await conn.execute(query)}


async def save_rsvp(conn: AsyncConnection, existing: RsvpRow | None, *, event_id: int,
                    session_id: int, member_id: int, state: str, queued_at: datetime | None,
                    platform: str | None, now: datetime) -> None:
    values = {"state": state, "queued_at": queued_at, "updated_at": now}
    if platform:
        values["platform"] = platform
    if existing is None:
        await conn.execute(rsvps.insert().values(event_id=event_id, session_id=session_id,
                                                 member_id=member_id, created_at=now, **values))
    else:
        await conn.execute(rsvps.update().where(rsvps.c.id == existing.id).values(**values))


async def first_waiting(conn: AsyncConnection, event_id: int, session_id: int) -> RsvpRow | None:
    """The waitlist's head: the earliest to ask for a seat (on the state/queued_at index)."""
    row = (await conn.execute(
        sa.select(*_RSVP_COLS).where(rsvps.c.event_id == event_id,
                                     rsvps.c.session_id == session_id,
                                     rsvps.c.state == WAITLIST)
        .order_by(rsvps.c.queued_at, rsvps.c.id).limit(1))).first()
    return RsvpRow(**row._mapping) if row else None


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
    ahead = sa.or_(rsvps.c.queued_at < mine.queued_at,
                   sa.and_(rsvps.c.queued_at == mine.queued_at, rsvps.c.id <= mine.id))
    query = sa.select(sa.func.count()).select_from(rsvps).where(
        rsvps.c.event_id == mine.event_id, rsvps.c.session_id == mine.session_id,
        rsvps.c.state == WAITLIST, ahead)
    return int((await conn.execute(query)).scalar_one())
