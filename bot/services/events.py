"""Events and RSVPs: seats, the waitlist in arrival order, promotion when a seat frees.

Every RSVP is one transaction that locks the event's row first, so RSVPs to one event queue up
behind each other: the seat count each one reads is exact, and hundreds of members pressing
Going at once fill the capacity exactly, on SQLite and PostgreSQL. Maybe takes no seat. When a
Going member withdraws, the head of the waitlist takes the seat in that same transaction and is
told (the notice is an outbox row, sent after the commit).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.errors import DomainError, PermissionDenied
from bot.i18n import N_
from bot.ids import IdKind, format_id
from bot.model import Role
from bot.services.audit import Audit
from bot.services.notices import Notifier
from bot.spec import NoticeKind
from bot.storage import events as repo
from bot.storage.db import Database
from bot.storage.events import GOING, MAYBE, NO, WAITLIST, EventRow, RsvpRow

KINDS = ("ama", "meetup", "workshop", "conference")
ANSWERS = (GOING, MAYBE, NO)
TITLE_MAX, DESCRIPTION_MAX, VENUE_MAX, SPEAKERS_MAX = 120, 2000, 300, 300
CAPACITY_MAX = 100_000


def event_ref(event_id: int) -> str:
    return format_id(IdKind.EVENT, event_id)


class UnknownEvent(DomainError):
    message = N_("There is no event {id}. Send /events to see the upcoming ones.")
    log_level = logging.INFO


class EventCancelled(DomainError):
    message = N_("Event {id} was cancelled, so it takes no RSVPs.")


class EventOver(DomainError):
    message = N_("Event {id} is over, so it takes no RSVPs. Send /events to see the upcoming "
                 "ones.")


@dataclass(frozen=True)
class Rsvp:
    """What an RSVP did: the member's state before and now, their waitlist place (1 = next),
    and who took a seat it freed."""

    event: EventRow
    state: str
    before: str | None
    place: int | None = None
    promoted: int | None = None

    @property
    def changed(self) -> bool:
        return self.state != self.before


class EventService:
    def __init__(self, db: Database, clock: Callable[[], datetime], notifier: Notifier,
                 audit: Audit):
        self.db = db
        self.clock = clock
        self.notifier = notifier
        self.audit = audit

    async def create(self, actor: int, actor_role: Role, *, kind: str, title: str,
                     start_at: datetime, timezone: str, end_at: datetime | None = None,
                     venue: str | None = None, capacity: int | None = None,
                     invite_only: bool = False, speakers: str | None = None,
                     reminders: str = "24h,1h", description: str = "") -> EventRow:
        if actor_role < Role.ORGANISER:
            raise PermissionDenied(role=Role.ORGANISER.code, command="newevent")
        if kind not in KINDS:
            raise ValueError(f"unknown event kind {kind!r}")
        now = self.clock()
        async with self.db.write() as conn:
            event_id = await repo.insert_event(
                conn, kind=kind, title=title, description=description, start_at=start_at,
                end_at=end_at, timezone=timezone, venue=venue, capacity=capacity,
                invite_only=invite_only, speakers=speakers, reminders=reminders,
                created_by=actor, created_at=now)
            await self.audit.record(conn, actor_member_id=actor, action="event.create",
                                    target_ref=event_ref(event_id), title=title, kind=kind,
                                    start=start_at.isoformat(), capacity=capacity)
            event = await repo.get_event(conn, event_id)
        assert event is not None
        return event

    async def rsvp(self, member_id: int, event_id: int, answer: str, *, session_id: int = 0,
                   platform: str | None = None,
                   promoted_notice: NoticeKind | None = None) -> Rsvp:
        """Going takes a seat or, when the event is full, a place at the end of the waitlist;
        Maybe and No take none. Saying Going again keeps one's seat or place."""
        if answer not in ANSWERS:
            raise ValueError(f"unknown RSVP answer {answer!r}")
        async with self.db.write() as conn:
            event = await self._open_event(conn, event_id)
            # The time is read under the event's lock: the waitlist's order (queued_at) is
            # then the order in which RSVPs took the lock, on every backend.
            now = self.clock()
            seen = await repo.tally(conn, event_id, session_id, member_id)
            before = seen.my_state
            if answer == GOING and before in (GOING, WAITLIST):
                mine = await repo.get_rsvp(conn, event_id, session_id, member_id)
                return Rsvp(event, before, before, await self._place(conn, event, mine))
            state, queued, place = answer, None, None
            if answer == GOING:
                queued = now
                if event.capacity is not None and seen.counts.get(GOING, 0) >= event.capacity:
                    # Read under the lock at the latest time: the end of the line.
                    state, place = WAITLIST, seen.counts.get(WAITLIST, 0) + 1
            await repo.save_rsvp(conn, seen.mine, event_id=event_id, session_id=session_id,
                                 member_id=member_id, state=state, queued_at=queued,
                                 platform=platform, now=now)
            promoted = None
            if before == GOING and state != GOING:
                promoted = await self._promote(conn, event, session_id, now, promoted_notice)
            return Rsvp(event, state, before, place, promoted)

    async def _open_event(self, conn: AsyncConnection, event_id: int) -> EventRow:
        """The event, locked (the RSVPs to it queue here), if it still takes RSVPs."""
        event = await repo.get_event(conn, event_id, lock=True)
        if event is None:
            raise UnknownEvent(id=event_ref(event_id))
        if event.status == "cancelled":
            raise EventCancelled(id=event_ref(event_id))
        if (event.end_at or event.start_at) <= self.clock():
            raise EventOver(id=event_ref(event_id))
        return event

    @staticmethod
    async def _has_seat(conn: AsyncConnection, event: EventRow, session_id: int) -> bool:
        if event.capacity is None:
            return True
        return await repo.count_state(conn, event.id, session_id, GOING) < event.capacity

    async def _promote(self, conn: AsyncConnection, event: EventRow, session_id: int,
                       now: datetime, notice: NoticeKind | None) -> int | None:
        """A seat was freed: the head of the waitlist takes it, and is told."""
        head = await repo.first_waiting(conn, event.id, session_id)
        if head is None or not await self._has_seat(conn, event, session_id):
            return None
        await repo.save_rsvp(conn, head.id, event_id=event.id, session_id=session_id,
                             member_id=head.member_id, state=GOING, queued_at=head.queued_at,
                             platform=None, now=now)
        if notice is not None:
            await self.notifier.to_member(
                conn, head.member_id, notice,
                {"event": event_ref(event.id), "title": event.title,
                 "start": event.start_at.isoformat(), "timezone": event.timezone},
                dedupe_key=f"event:{event.id}:{session_id}:promoted:{head.id}:{now.isoformat()}",
                now=now, platform=head.platform)
        return head.member_id

    @staticmethod
    async def _place(conn: AsyncConnection, event: EventRow, mine: RsvpRow | None) -> int | None:
        if mine is None or mine.state != WAITLIST:
            return None
        return await repo.place(conn, mine)

    async def counts(self, event_id: int, session_id: int = 0) -> dict[str, int]:
        async with self.db.read() as conn:
            return await repo.counts(conn, event_id, session_id)

    async def waitlist(self, event_id: int, session_id: int = 0) -> list[int]:
        async with self.db.read() as conn:
            return await repo.waitlist(conn, event_id, session_id)


__all__ = ["ANSWERS", "GOING", "KINDS", "MAYBE", "NO", "WAITLIST", "EventService", "Rsvp"]
