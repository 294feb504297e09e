"""Reminder delay benchmark: 200 scheduled jobs due within a minute, on the real clock.

The target (from the issue): with 200 reminders due within one minute, 99% of them reach the
platform less than one second after their due time. This measures that whole path as it runs
when the bot serves: the `jobs` row, the APScheduler alarm set when the transaction commits
(`App.start_scheduler`, bot.scheduler), the tick that claims the job and runs its handler in
one transaction, the outbox row the handler queues, the wake-up the notifier sends after that
commit, and a `bot.delivery.Deliverer` that claims, renders and "sends" the notice. The send
function only records the wall-clock time, so the figure is the bot's own lateness, with no
network in it.

A bench-only feature declares the job kind `bench.remind`, whose handler queues one notice to
one member (deduplicated per job occurrence, as real reminders are). The bench creates one
member per job (console accounts), writes every job in a transaction of its own (as a feature
would) with due times drawn at random (seeded) over `--seconds` starting one second ahead, so
some fall within milliseconds of each other, and waits until every notice was sent, or
`--seconds` + 30 s. Each notice names its job and due time in its text, which is what the
deliverer hands to `send`.

delay = the moment `send` was called − the job's due time. It also prints, per stage, how late
the tick that fired a job began (`jobs.fired_at`) and when its handler queued the notice
(`outbox.created_at`), to tell the alarm's lateness from the delivery's. Then it checks: one
send per job (none twice, none missing, to the job's own member, never before the due time),
every job `done` after one run, every outbox row `sent`, the stored due time equal to the one
scheduled. Ends with one `RESULT key=value …` line; the exit status is non-zero when p99 ≥ 1 s
or any check fails.

Packing the same 200 jobs into a shorter window (`--seconds 1`: still "200 due within a
minute") is the hard case: every distinct due time rings an alarm of its own. Ticks used to
overlap then, each trying every due job, and on 2026-12-02 `--seconds 2` gave a p99 of 17 s;
since the scheduler runs one tick at a time (an alarm during a tick asks it to look again),
`--seconds 1` gives about 0.75 s on SQLite.

    . .venv/bin/activate && python bench/reminders.py                 # SQLite, a temporary file
    . .venv/bin/activate && python bench/reminders.py --seconds 20 --jobs 500
    . .venv/bin/activate && python bench/reminders.py --postgres postgresql+asyncpg://postgres@127.0.0.1:5432/campusbot_bench2

`--postgres URL` drops and recreates that database's `public` schema: never point it at a
database whose data you want.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import bench_database, percentile
from bot.app import App
from bot.commands import FEATURES
from bot.config import DatabaseSettings, Settings
from bot.delivery import SENT, Deliverer, Outcome, Recipient
from bot.model import Actor, Platform
from bot.reply import Reply, Text
from bot.spec import NoticeKind, Registry, Router
from bot.storage.schema import jobs, outbox

JOBS = 200
SECONDS = 60.0
LEAD = 1.0            # seconds from the start of scheduling to the window's first moment
WAIT_AFTER = 30.0     # how long after the window to wait for stragglers
TARGET_P99_MS = 1000.0
KIND = "bench.remind"

# The bench-only feature: one job kind and the notice it queues.
bench = Router("bench")
NOTICE = NoticeKind(KIND, lambda t, params: Text().add(
    f"reminder {params['ref']} due {params['due']}").reply())
bench.notice(NOTICE)


@bench.job(KIND, "a benchmark reminder")
async def remind(services, conn, job) -> None:
    await services.notifier.to_member(
        conn, int(job.params["member"]), NOTICE,
        {"ref": job.ref, "due": job.due_at.isoformat()},
        dedupe_key=f"remind:{job.id}:{job.due_at.isoformat()}", now=services.clock())


@dataclass
class Job:
    ref: str
    member_id: int
    due: datetime


@dataclass
class Sends:
    """What `send` was handed: (ref, due as the notice says it, member, when)."""

    expected: int
    seen: list[tuple[str, str, int | None, datetime]] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)

    async def send(self, recipient: Recipient, reply: Reply) -> Outcome:
        at = datetime.now(UTC)
        _, ref, _, due = reply.plain_text.split(" ")  # "reminder R12 due 2026-…"
        self.seen.append((ref, due, recipient.member_id, at))
        if len({s[0] for s in self.seen}) >= self.expected:
            self.done.set()
        return SENT


def spread(values: list[float]) -> str:
    return (f"p50 {percentile(values, 0.5):.1f} ms  p99 {percentile(values, 0.99):.1f} ms  "
            f"max {max(values, default=0.0):.1f} ms")




async def make_members(app: App, count: int) -> list[int]:
    ids = []
    for n in range(count):
        name = f"remind{n}"
        ids.append((await app.services.members.resolve(
            Actor(Platform.CONSOLE, name, username=name))).member_id)
    return ids


async def schedule(app: App, member_ids: list[int], seconds: float,
                   rng: random.Random) -> tuple[list[Job], int]:
    """One job per member, each written in its own transaction, in due order; returns the
    jobs and how many were committed only after their due time (scheduling fell behind)."""
    start = datetime.now(UTC) + timedelta(seconds=LEAD)
    offsets = sorted(rng.uniform(0, seconds) for _ in member_ids)
    planned = [Job(f"R{n}", member_id, start + timedelta(seconds=offset))
               for n, (member_id, offset) in enumerate(zip(member_ids, offsets, strict=True))]
    late = 0
    for job in planned:
        async with app.db.write() as conn:
            await app.scheduler.schedule_in(conn, KIND, job.ref, job.due,
                                            params={"member": job.member_id})
        late += datetime.now(UTC) > job.due
    return planned, late


async def check(app: App, planned: list[Job], sends: Sends) -> tuple[dict[str, int],
                                                                       list[str], dict]:
    problems: list[str] = []
    by_ref = {job.ref: job for job in planned}
    counts = Counter(ref for ref, *_ in sends.seen)
    found = {"fired_twice": sum(1 for ref in by_ref if counts[ref] > 1),
             "missing": sum(1 for ref in by_ref if counts[ref] == 0),
             "early": 0, "wrong_member": 0, "due_mismatch": 0, "not_done": 0,
             "not_sent": 0}
    delays: dict[str, float] = {}
    for ref, due_text, member_id, at in sends.seen:
        job = by_ref.get(ref)
        if job is None:
            problems.append(f"a notice for an unknown job {ref}")
            continue
        if member_id != job.member_id:
            found["wrong_member"] += 1
            problems.append(f"{ref}: sent to member {member_id}, not {job.member_id}")
        if datetime.fromisoformat(due_text) != job.due:
            found["due_mismatch"] += 1
            problems.append(f"{ref}: stored due {due_text}, scheduled {job.due.isoformat()}")
        if at < job.due:
            found["early"] += 1
            problems.append(f"{ref}: sent {(job.due - at).total_seconds() * 1000:.1f} ms early")
        delays.setdefault(ref, (at - job.due).total_seconds() * 1000)  # the first send
    for ref in by_ref:
        if counts[ref] > 1:
            problems.append(f"{ref}: sent {counts[ref]} times")
        elif not counts[ref]:
            problems.append(f"{ref}: never sent")

    async with app.db.scan() as conn:
        rows = (await conn.execute(sa.select(jobs.c.ref, jobs.c.state, jobs.c.runs,
                                             jobs.c.fired_at).where(jobs.c.kind == KIND))).all()
        queued = (await conn.execute(sa.select(outbox.c.params, outbox.c.status,
                                               outbox.c.created_at)
                                     .where(outbox.c.kind == KIND))).all()
    states = {r.ref: r for r in rows}
    fired_lag: list[float] = []
    for ref, job in by_ref.items():
        row = states.get(ref)
        if row is None or row.state != "done" or row.runs != 1:
            found["not_done"] += 1
            problems.append(f"{ref}: job row {tuple(row) if row else None}, expected done "
                            "after one run")
        if row is not None and row.fired_at is not None:
            fired_lag.append((row.fired_at - job.due).total_seconds() * 1000)
    queued_lag: list[float] = []
    if len(queued) != len(planned):
        problems.append(f"{len(queued)} outbox rows for {len(planned)} jobs")
    for params, status, created_at in queued:
        ref = json.loads(params)["ref"]
        if status != "sent":
            found["not_sent"] += 1
            problems.append(f"{ref}: outbox row {status}")
        if ref in by_ref:
            queued_lag.append((created_at - by_ref[ref].due).total_seconds() * 1000)
    stages = {"fired": fired_lag, "queued": queued_lag, "sent": list(delays.values())}
    return found, problems, stages


async def run(postgres: str | None, count: int, seconds: float) -> int:
    rng = random.Random(20261126)
    async with bench_database(postgres, "reminders") as (backend, url):
        app = App(Settings(database=DatabaseSettings(url=url)),
                  registry=Registry.build([*FEATURES, bench]))
        sends = Sends(expected=count)
        deliverer = Deliverer(app.services, Platform.CONSOLE, sends.send, label="bench",
                              poll_seconds=2.0)
        try:
            await app.start()
            member_ids = await make_members(app, count)
            await app.start_scheduler()
            app.settle()  # as a serving process does once it is up (gc.freeze)
            deliverer.start()
            planned, late = await schedule(app, member_ids, seconds, rng)
            print(f"[{backend}] {count} members, {count} jobs due over {seconds:g} s "
                  f"({late} committed after their due time)")
            deadline = planned[0].due + timedelta(seconds=seconds + WAIT_AFTER)
            wait = max(0.0, (deadline - datetime.now(UTC)).total_seconds())
            timed_out = False
            try:
                async with asyncio.timeout(wait):
                    await sends.done.wait()
            except TimeoutError:
                timed_out = True
            await deliverer.stop()  # lets the notice in hand be marked sent
            found, problems, stages = await check(app, planned, sends)
        finally:
            await deliverer.stop()
            await app.close()

    delays = stages["sent"]
    p50, p99 = percentile(delays, 0.5), percentile(delays, 0.99)
    worst = max(delays, default=0.0)
    print(f"  tick began:     {spread(stages['fired'])}")
    print(f"  notice queued:  {spread(stages['queued'])}")
    print(f"  notice sent:    {spread(delays)}   ({len(delays)} of {count} sent"
          f"{', timed out' if timed_out else ''})")
    for problem in problems[:20]:
        print(f"  PROBLEM: {problem}")
    missed_target = p99 >= TARGET_P99_MS
    if missed_target:
        print(f"  MISSED: p99 {p99:.1f} ms >= {TARGET_P99_MS:.0f} ms")
    ok = not problems and not any(found.values()) and not missed_target and not timed_out
    print(f"RESULT backend={backend} jobs={count} seconds={seconds:g} sent={len(delays)} "
          f"p50_ms={p50:.1f} p99_ms={p99:.1f} max_ms={worst:.1f} "
          f"fired_twice={found['fired_twice']} missing={found['missing']} "
          f"target_p99_ms={TARGET_P99_MS:.0f} ok={str(ok).lower()}")
    return 0 if ok else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", metavar="URL",
                        help="run on this PostgreSQL database (its public schema is dropped!)")
    parser.add_argument("--jobs", type=int, default=JOBS,
                        help=f"jobs (and members), one notice each (default {JOBS})")
    parser.add_argument("--seconds", type=float, default=SECONDS,
                        help=f"the window the due times are spread over (default {SECONDS:g})")
    args = parser.parse_args()
    if args.jobs < 1 or args.seconds <= 0:
        parser.error("--jobs and --seconds must be positive")
    logging.basicConfig(level=logging.WARNING)
    sys.exit(asyncio.run(run(args.postgres, args.jobs, args.seconds)))


if __name__ == "__main__":
    main()
