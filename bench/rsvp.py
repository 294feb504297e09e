"""RSVP benchmark: 1,000 members pressing Going at once on a 150-seat event, then 100 withdraw.

An organiser creates a conference with 150 seats a week ahead; then all 1,000 members RSVP
"going" through `EventService.rsvp` at the same moment: one `asyncio.gather` over all 1,000
calls, every one of them in flight from the start. That is what "at once" looks like to the
bot: an announcement goes out and everybody taps Going within the same second, so every RSVP
is already waiting when the first one commits (a bounded number in flight would model a
trickle, which is easier: fewer waiters queue on the event's lock). Each call's result
(`Rsvp.state`, `Rsvp.place`) and the order in which the calls returned are recorded. Then it
checks:

- exactly 150 going and 850 on the waitlist (`EventService.counts`);
- the waitlist keeps arrival order: the places returned to the waitlisted callers are exactly
  1..850, and each one's place is its index + 1 in `EventService.waitlist`; nobody who got a
  seat is on the waitlist;
- (reported, `completion_order_ok`) the calls that returned first got the seats and the
  waitlisted ones returned in the order of their places.

A second timed phase: 100 of the going members withdraw ("no") at once; exactly the first 100
of the waitlist, in its order, must take their seats (`Rsvp.promoted`, in the order the
withdrawals returned), the rest of the line keep their order, and 150 stay going.

It prints RSVPs per second, p50/p99 latency (from the moment all calls start to each one's
answer) and ends with one `RESULT key=value …` line. The exit status is non-zero on a broken
invariant, or when SQLite answers fewer than 500 RSVPs per second (PostgreSQL has no target).

    . .venv/bin/activate && python bench/rsvp.py                   # SQLite, a temporary file
    . .venv/bin/activate && python bench/rsvp.py --postgres postgresql+asyncpg://postgres@127.0.0.1:5432/campusbot_bench3

`--postgres URL` drops and recreates that database's `public` schema: never point it at a
database whose data you want.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import bench_database, percentile
from bot.app import App
from bot.config import DatabaseSettings, Settings
from bot.model import Actor, Platform, Role
from bot.services.events import GOING, NO, WAITLIST

MEMBERS = 1000
CAPACITY = 150
WITHDRAW = 100
TARGET_SQLITE = 500.0


@dataclass
class Phase:
    """One timed burst: every call's latency and answer, in the order the calls returned."""

    latencies: list[float] = field(default_factory=list)
    done: list[tuple[int, str, int | None, int | None]] = field(default_factory=list)
    seconds: float = 0.0
    errors: Counter = field(default_factory=Counter)

    def pct(self, q: float) -> float:
        return percentile(self.latencies, q) * 1000

    @property
    def per_s(self) -> float:
        return len(self.done) / self.seconds if self.seconds else 0.0


async def burst(app: App, event_id: int, member_ids: list[int], answer: str) -> Phase:
    """All of `member_ids` answer `answer` at the same moment."""
    phase = Phase()

    async def one(member_id: int, started: float) -> None:
        try:
            r = await app.services.events.rsvp(member_id, event_id, answer, platform="console")
        except Exception as exc:  # counted as a problem; the run goes on
            phase.errors[type(exc).__name__] += 1
            return
        phase.latencies.append(time.perf_counter() - started)
        phase.done.append((member_id, r.state, r.place, r.promoted))

    started = time.perf_counter()
    await asyncio.gather(*(one(m, started) for m in member_ids))
    phase.seconds = time.perf_counter() - started
    return phase


def check_going(phase: Phase, counts: dict[str, int], waitlist: list[int],
                problems: list[str]) -> dict[str, bool]:
    going = [m for m, state, _, _ in phase.done if state == GOING]
    waiting = [(m, place) for m, state, place, _ in phase.done if state == WAITLIST]
    others = [(m, state) for m, state, _, _ in phase.done if state not in (GOING, WAITLIST)]
    if phase.errors:
        problems.append(f"RSVPs failed: {dict(phase.errors)}")
    if len(going) != CAPACITY or counts.get(GOING) != CAPACITY:
        problems.append(f"{len(going)} answered going, counts {counts}; expected {CAPACITY}")
    if len(waiting) != MEMBERS - CAPACITY or counts.get(WAITLIST) != MEMBERS - CAPACITY:
        problems.append(f"{len(waiting)} answered waitlist, counts {counts}; "
                        f"expected {MEMBERS - CAPACITY}")
    if others:
        problems.append(f"unexpected answers: {others[:5]}")
    order_ok = True
    places = sorted(place for _, place in waiting if place is not None)
    if places != list(range(1, MEMBERS - CAPACITY + 1)) or len(places) != len(waiting):
        order_ok = False
        problems.append(f"waitlist places are not 1..{MEMBERS - CAPACITY} "
                        f"(got {len(set(places))} distinct of {len(waiting)}, "
                        f"min {min(places, default=None)}, max {max(places, default=None)})")
    index = {m: i for i, m in enumerate(waitlist)}
    if len(index) != len(waitlist):
        order_ok = False
        problems.append("a member is on the waitlist twice")
    wrong = [(m, place, index.get(m)) for m, place in waiting
             if index.get(m) is None or place != index[m] + 1]
    if wrong:
        order_ok = False
        problems.append(f"{len(wrong)} waitlisted members' place is not their index + 1 in "
                        f"the waitlist, e.g. (member, place, index) {wrong[:3]}")
    seated_waiting = set(going) & set(index)
    if seated_waiting:
        order_ok = False
        problems.append(f"{len(seated_waiting)} members both going and on the waitlist")
    # Reported only: the order in which the calls returned against the order they queued.
    returned = [state for _, state, _, _ in phase.done]
    returned_places = [place for _, state, place, _ in phase.done if state == WAITLIST]
    completion_ok = (returned[:CAPACITY] == [GOING] * CAPACITY
                     and returned_places == sorted(returned_places))
    return {"order_ok": order_ok, "completion_order_ok": completion_ok}


def check_withdraw(phase: Phase, before: list[int], after: list[int], counts: dict[str, int],
                   problems: list[str]) -> dict[str, object]:
    if phase.errors:
        problems.append(f"withdrawals failed: {dict(phase.errors)}")
    promoted = [p for _, state, _, p in phase.done if p is not None]
    wrong_state = [(m, state) for m, state, _, _ in phase.done if state != NO]
    if wrong_state:
        problems.append(f"withdrawals not answered no: {wrong_state[:5]}")
    head = before[:WITHDRAW]
    promoted_set_ok = len(promoted) == WITHDRAW and set(promoted) == set(head)
    if not promoted_set_ok:
        problems.append(f"{len(promoted)} promoted ({len(set(promoted) & set(head))} of them "
                        f"from the first {WITHDRAW} of the waitlist)")
    in_order = promoted == head
    if not in_order:
        first = next((i for i, (a, b) in enumerate(zip(promoted, head, strict=False))
                      if a != b), min(len(promoted), len(head)))
        problems.append(f"promotions (in the order the withdrawals returned) leave the "
                        f"waitlist's order at position {first}")
    if after != before[WITHDRAW:]:
        problems.append(f"the rest of the waitlist changed: {len(after)} left, expected "
                        f"{len(before) - WITHDRAW} in the same order")
    expected = {GOING: CAPACITY, WAITLIST: MEMBERS - CAPACITY - WITHDRAW, NO: WITHDRAW}
    if counts != expected:
        problems.append(f"after the withdrawals counts are {counts}, expected {expected}")
    return {"promoted": len(promoted),
            "promote_order_ok": promoted_set_ok and in_order and after == before[WITHDRAW:],
            "going_after": counts.get(GOING, 0)}


async def run(postgres: str | None) -> int:
    rng = random.Random(20261126)
    async with bench_database(postgres, "rsvp") as (backend, url):
        app = App(Settings(database=DatabaseSettings(url=url)))
        problems: list[str] = []
        try:
            await app.start()
            started = time.perf_counter()
            ids = [(await app.services.members.resolve(
                Actor(Platform.CONSOLE, f"m{n}", username=f"m{n}"))).member_id
                for n in range(MEMBERS)]
            boss = (await app.services.members.resolve(
                Actor(Platform.CONSOLE, "rsvpboss", username="rsvpboss"))).member_id
            event = await app.services.events.create(
                boss, Role.ORGANISER, kind="conference", title="Campus conference",
                timezone="Asia/Makassar", start_at=app.services.clock() + timedelta(days=7),
                capacity=CAPACITY)
            print(f"[{backend}] seeded {MEMBERS} members in {time.perf_counter() - started:.1f}s; "
                  f"all {MEMBERS} press Going at once on {CAPACITY} seats")
            rng.shuffle(ids)  # the order the calls start in: not the order the members were made

            going = await burst(app, event.id, ids, "going")
            counts = await app.services.events.counts(event.id)
            waitlist = await app.services.events.waitlist(event.id)
            found = check_going(going, counts, waitlist, problems)

            seated = [m for m, state, _, _ in going.done if state == GOING]
            leaving = rng.sample(seated, min(WITHDRAW, len(seated)))
            withdraw = await burst(app, event.id, leaving, "no")
            counts_after = await app.services.events.counts(event.id)
            waitlist_after = await app.services.events.waitlist(event.id)
            found |= check_withdraw(withdraw, waitlist, waitlist_after, counts_after, problems)
        finally:
            await app.close()

    print(f"  {len(going.done)} RSVPs in {going.seconds:.2f}s = {going.per_s:,.0f}/s  "
          f"p50 {going.pct(0.5):.2f} ms  p99 {going.pct(0.99):.2f} ms; "
          f"going {counts.get(GOING, 0)}, waitlist {counts.get(WAITLIST, 0)}")
    print(f"  {len(withdraw.done)} withdrawals in {withdraw.seconds:.2f}s = "
          f"{withdraw.per_s:,.0f}/s  p50 {withdraw.pct(0.5):.2f} ms  "
          f"p99 {withdraw.pct(0.99):.2f} ms; promoted {found['promoted']}, "
          f"going {found['going_after']}")
    print(f"  calls returned in queue order: {str(found['completion_order_ok']).lower()}")
    target_missed = backend == "sqlite" and going.per_s < TARGET_SQLITE
    for problem in problems[:20]:
        print(f"  PROBLEM: {problem}")
    if target_missed:
        print(f"  MISSED: {going.per_s:,.0f} RSVPs/s < {TARGET_SQLITE:,.0f}")
    ok = not problems and not target_missed
    target = f"{TARGET_SQLITE:.0f}" if backend == "sqlite" else "none"
    flag = {k: str(v).lower() for k, v in found.items()}
    print(f"RESULT backend={backend} members={MEMBERS} capacity={CAPACITY} "
          f"rsvps={len(going.done)} rsvps_s={going.per_s:.0f} p50_ms={going.pct(0.5):.2f} "
          f"p99_ms={going.pct(0.99):.2f} going={counts.get(GOING, 0)} "
          f"waitlist={counts.get(WAITLIST, 0)} order_ok={flag['order_ok']} "
          f"completion_order_ok={flag['completion_order_ok']} "
          f"withdrawals={len(withdraw.done)} withdrawals_s={withdraw.per_s:.0f} "
          f"withdraw_p99_ms={withdraw.pct(0.99):.2f} promoted={found['promoted']} "
          f"promote_order_ok={flag['promote_order_ok']} going_after={found['going_after']} "
          f"problems={len(problems)} target_rsvps_s={target} ok={str(ok).lower()}")
    return 0 if ok else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", metavar="URL",
                        help="run on this PostgreSQL database (its public schema is dropped!)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    sys.exit(asyncio.run(run(args.postgres)))


if __name__ == "__main__":
    main()
