"""The scheduler: jobs live in the `jobs` table; APScheduler is only the alarm clock.

Every feature that needs something done at a time (a bounty's deadline, a daily digest, an
event's reminders, a scheduled post) writes a job row with `schedule_in` inside its own
transaction, and declares the kind's handler with `Router.job`. Firing a job is one
transaction: a conditional claim of this occurrence (bot.storage.jobs.claim), the handler
(whose outbox rows carry dedupe keys), and the job's next state — done, or for a recurring job
its next occurrence. So a crash mid-fire fires it again at start-up (nothing was committed),
and two processes on one database never fire one occurrence twice (the second claim finds the
row moved on). After the commit the deliverers are woken, so a due message goes out at once.

The alarm: one APScheduler date job per distinct due time, plus a poll every POLL_SECONDS for
rows other processes wrote. An alarm only calls `tick()`, which decides from the services'
clock what is due; tests call `tick()` themselves with a fake clock and never sleep.

A job found more than `grace` late (the bot was down) is not run: it is marked missed — a
recurring one moves on to its next occurrence — and every organiser is told.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.spec import JobSpec, Recurring
from bot.storage import jobs as repo
from bot.storage import members as member_repo
from bot.storage.db import Database
from bot.storage.jobs import JobRow
from bot.views.scheduler import MISSED

log = logging.getLogger(__name__)
POLL_SECONDS = 30  # rows written by another process are seen within this
BATCH = 100

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RULE = re.compile(r"^\s*(daily|mon|tue|wed|thu|fri|sat|sun)\w*\s+(\d{1,2}):(\d{2})\s*$",
                   re.IGNORECASE)


class BadRule(ValueError):
    """Not "daily HH:MM" or "<weekday> HH:MM"."""


def parse_rule(text: str) -> str:
    """The canonical form of a recurrence rule: "daily 09:00" or "fri 20:00" (a weekday's
    first three letters; "friday 20:00" is accepted too)."""
    match = _RULE.match(text or "")
    if not match:
        raise BadRule(text)
    day, hour, minute = match.group(1).lower(), int(match.group(2)), int(match.group(3))
    if hour > 23 or minute > 59:
        raise BadRule(text)
    return f"{day} {hour:02d}:{minute:02d}"


def next_occurrence(rule: str, timezone: str, after: datetime) -> datetime:
    """The first time strictly after `after` at which `rule` fires in `timezone`, in UTC.

    APScheduler's CronTrigger does the calendar work, DST included: a wall-clock time that a
    spring-forward change skips fires an hour later that day, and one that a fall-back change
    repeats fires once (at its first, summer-time instant)."""
    day, _, clock = parse_rule(rule).partition(" ")
    hour, minute = (int(part) for part in clock.split(":"))
    zone = ZoneInfo(timezone)
    trigger = CronTrigger(day_of_week=None if day == "daily" else day, hour=hour,
                          minute=minute, timezone=zone)
    start = after.astimezone(UTC) + timedelta(seconds=1)
    before = _wall(after, zone)
    while True:
        fire = trigger.get_next_fire_time(None, start)
        assert fire is not None  # a daily or weekly cron always fires again
        # A time the fall-back change repeats (01:30 twice) is one occurrence, not two.
        if _wall(fire, zone) != before:
            return fire.astimezone(UTC)
        start = fire.astimezone(UTC) + timedelta(seconds=1)


def _wall(moment: datetime, zone: ZoneInfo) -> datetime:
    """The local wall-clock time to the minute, without its offset."""
    return moment.astimezone(zone).replace(tzinfo=None, second=0, microsecond=0)


@dataclass
class Tick:
    fired: int = 0
    missed: int = 0
    skipped: int = 0  # taken by another process first, or failed (and left pending)


def worker_name() -> str:
    return f"scheduler@{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Scheduler:
    def __init__(self, db: Database, clock: Callable[[], datetime], grace: timedelta,
                 organiser_accounts: Iterable[str] = ()):
        self.db = db
        self.clock = clock
        self.grace = grace
        self.worker = worker_name()
        self.organiser_accounts = tuple(organiser_accounts)
        self.kinds: dict[str, JobSpec] = {}
        self.recurring: list[Recurring] = []
        self.services: Any = None
        self.notifier: Any = None
        self._alarm: AsyncIOScheduler | None = None
        self._ticking = False
        self._again = False

    def bind(self, services: Any, kinds: dict[str, JobSpec],
             recurring: list[Recurring]) -> None:
        """The handlers and what they reach (the App builds the services with this scheduler
        in them, then binds them here)."""
        self.services, self.notifier = services, services.notifier
        self.kinds, self.recurring = kinds, recurring

    # -- what features call, inside their own transaction ---------------------------------

    async def schedule_in(self, conn: AsyncConnection, kind: str, ref: str, due: datetime, *,
                          rule: str | None = None, timezone: str | None = None,
                          params: dict[str, Any] | None = None) -> None:
        """Set (or move) the one job of (kind, ref) to `due`; a recurring job gives its rule
        and zone too. The alarm is set once the transaction commits."""
        await repo.put(conn, kind=kind, ref=ref, due_at=due.astimezone(UTC), rule=rule,
                       timezone=timezone, params=params or {}, now=self.clock())
        self.db.after_commit(conn, lambda: self._arm(due))

    async def every_in(self, conn: AsyncConnection, kind: str, ref: str, rule: str,
                       timezone: str, params: dict[str, Any] | None = None) -> datetime:
        """A recurring job from its next occurrence on; returns that time."""
        rule = parse_rule(rule)
        due = next_occurrence(rule, timezone, self.clock())
        await self.schedule_in(conn, kind, ref, due, rule=rule, timezone=timezone,
                               params=params)
        return due

    @staticmethod
    async def cancel_in(conn: AsyncConnection, kind: str, ref: str) -> bool:
        return await repo.cancel(conn, kind, ref)

    # -- serving ---------------------------------------------------------------------------

    async def start(self) -> Tick:
        """At start-up of a serving process: make sure the standing recurring jobs exist, fire
        (or mark missed) what came due while the bot was down, and set the alarm for every
        pending job. The table is the whole truth; nothing is carried over in memory."""
        await self.ensure_recurring()
        result = await self.tick()
        self._alarm = AsyncIOScheduler(timezone=UTC, job_defaults={
            "misfire_grace_time": None, "coalesce": True, "max_instances": 1})
        self._alarm.start()
        self._alarm.add_job(self._ring, "interval", seconds=POLL_SECONDS, id="poll")
        async with self.db.read() as conn:
            for _job_id, due in await repo.pending(conn):
                self._arm(due)
        return result

    def stop(self) -> None:
        if self._alarm is not None and self._alarm.running:
            self._alarm.shutdown(wait=False)
        self._alarm = None

    @property
    def running(self) -> bool:
        return self._alarm is not None and self._alarm.running

    async def ensure_recurring(self) -> None:
        """Each declared standing job exists, following the rule the settings give today."""
        settings = self.services.settings
        for standing in self.recurring:
            rule = parse_rule(standing.rule(settings))
            zone = standing.timezone(settings)
            async with self.db.write() as conn:
                found = await repo.get(conn, standing.kind, standing.ref)
                if (found is not None and found.state == repo.PENDING and found.rule == rule
                        and found.timezone == zone):
                    continue
                await self.every_in(conn, standing.kind, standing.ref, rule, zone)

    def _arm(self, due: datetime) -> None:
        """Ring at `due` (at once when it is past); one alarm per distinct time."""
        if self._alarm is None or not self._alarm.running:
            return
        when = max(due.astimezone(UTC), datetime.now(UTC))
        self._alarm.add_job(self._ring, DateTrigger(run_date=when), replace_existing=True,
                            id=f"at-{due.astimezone(UTC).isoformat()}")

    async def _ring(self) -> None:
        try:
            await self.tick()
        except Exception:  # the alarm must keep ringing; the rows stay pending for the next
            log.exception("the scheduler's tick failed")

    async def tick(self) -> Tick:
        """Fire, or mark missed, every job due by the clock's now.

        One tick at a time in a process: an alarm that rings while a tick runs only asks it to
        look once more when it is done. (Overlapping ticks would each try every due job, and
        each try is a write transaction that fails its claim: with 200 jobs due within a
        second they piled up and fired seconds late.)"""
        if self._ticking:
            self._again = True
            return Tick()
        self._ticking = True
        result = Tick()
        try:
            while True:
                self._again = False
                await self._fire_due(result)
                if not self._again:
                    return result
        finally:
            self._ticking = False

    async def _fire_due(self, result: Tick) -> None:
        """Repeat while a full batch was due (a recurring job fired late may be due again)."""
        while True:
            async with self.db.read() as conn:
                due = await repo.due(conn, self.clock(), BATCH)
            progressed = 0
            for job in due:
                outcome = await self._handle(job, self.clock())
                setattr(result, outcome, getattr(result, outcome) + 1)
                progressed += outcome != "skipped"
            if len(due) < BATCH or not progressed:  # a batch of failing jobs waits for later
                return

    async def _handle(self, job: JobRow, now: datetime) -> str:
        late = now - job.due_at
        spec = self.kinds.get(job.kind)
        try:
            async with self.db.write() as conn:
                if not await repo.claim(conn, job, self.worker):
                    return "skipped"
                next_due = (next_occurrence(job.rule, job.timezone or "UTC", now)
                            if job.rule else None)
                if spec is None or late > self.grace:
                    await self._miss(conn, job, spec, now)
                    await repo.finish(conn, job.id, state=repo.MISSED, now=now,
                                      next_due=next_due)
                    outcome = "missed"
                else:
                    await spec.handler(self.services, conn, job)
                    await repo.finish(conn, job.id, state=repo.DONE, now=now,
                                      next_due=next_due)
                    outcome = "fired"
            if next_due is not None:
                self._arm(next_due)
            log.info("job %s %s:%s due %s: %s", job.id, job.kind, job.ref,
                     job.due_at.isoformat(), outcome)
            return outcome
        except Exception:
            # Rolled back: the job is still pending and runs at the next tick; past the grace
            # period it is marked missed and the organisers are told.
            log.exception("job %s %s:%s failed; it stays pending", job.id, job.kind, job.ref)
            return "skipped"

    async def _miss(self, conn: AsyncConnection, job: JobRow, spec: JobSpec | None,
                    now: datetime) -> None:
        if spec is None:
            log.warning("job %s has kind %r, which no feature declares: marked missed",
                        job.id, job.kind)
        else:
            log.warning("job %s %s:%s was due %s, more than %s ago: marked missed", job.id,
                        job.kind, job.ref, job.due_at.isoformat(), self.grace)
        params = {"what": spec.label if spec else "", "ref": job.ref,
                  "due": job.due_at.isoformat(),
                  "minutes": int(self.grace.total_seconds() // 60)}
        for member_id in await self.organisers(conn):
            await self.notifier.to_member(
                conn, member_id, MISSED, params, now=now,
                dedupe_key=f"job:{job.id}:{job.due_at.isoformat()}:missed:{member_id}")

    async def organisers(self, conn: AsyncConnection) -> list[int]:
        """The members to tell: organisers by grant, by config account, or by Discord role."""
        return await member_repo.organiser_ids(conn, self.organiser_accounts)

