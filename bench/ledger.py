"""Ledger throughput benchmark: concurrent awards and spends through LedgerService.

100 tasks share a stream of awards and spends on 1,000 members, first through campusbot
(`LedgerService.credit/debit`), then through a raw-driver loop issuing the same statements
(aiosqlite / asyncpg, no campusbot code). It prints operations per second and p50/p99 latency,
checks every invariant afterwards, and ends with one `RESULT key=value …` line.

    . .venv/bin/activate && python bench/ledger.py [--backend sqlite|postgres|both] [--ops N]
    . .venv/bin/activate && python bench/ledger.py --backend sqlite --ops 1000 --profile
    . .venv/bin/activate && python bench/ledger.py --backend sqlite --sqlite-driver stock

Exit status is non-zero when a throughput target is missed or any invariant is broken.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import logging
import pstats
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite
import asyncpg
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import percentile
from bot import errors
from bot.app import App
from bot.config import DatabaseSettings, Settings
from bot.storage import db as db_module
from bot.storage import members as member_repo
from bot.storage.ledger import SPEND_KINDS
from bot.views.points import AWARDED

PG_DSN = "postgresql://postgres@127.0.0.1:5432"
PG_BENCH_DB = "campusbot_bench"
TARGETS = {"sqlite": 500.0, "postgres": 1000.0}
PREFIX = {"sqlite": "sqlite", "postgres": "pg"}
MEMBERS = 1_000
CONCURRENCY = 100
SEED_MAX = 40          # each member starts with 1..SEED_MAX points
AWARD_MAX = 20         # awards are 1..AWARD_MAX
SPEND_MAX = 35         # spends are 1..SPEND_MAX, so some fail for lack of points
SPEND_SHARE = 0.5
REPLAY_SHARE = 0.02
SQLITE_POOL = 15       # what SQLAlchemy's default AsyncAdaptedQueuePool allows (5 + 10 overflow)
PG_POOL = (10, 20)     # campusbot's pool_size=10, max_overflow=10


@dataclass(frozen=True)
class Op:
    kind: str          # "award" or "spend"
    member_id: int
    amount: int
    key: str
    replay: bool = False


@dataclass
class Run:
    label: str
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    outcomes: Counter = field(default_factory=Counter)
    # key -> (member_id, signed amount) for every op that reported a fresh (non-replayed) write
    applied: dict[str, tuple[int, int]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ops(self) -> int:
        return len(self.latencies)

    @property
    def ops_s(self) -> float:
        return self.ops / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        return percentile(self.latencies, q) * 1000

    def record(self, op: Op, outcome: str, signed: int | None) -> None:
        self.outcomes[outcome] += 1
        if outcome == "ok":
            if op.key in self.applied:
                self.problems.append(f"key {op.key} applied twice")
            self.applied[op.key] = (op.member_id, signed)

    def describe(self) -> str:
        out = self.outcomes
        return (f"  {self.label:<10} {self.ops} ops in {self.seconds:.2f}s = {self.ops_s:,.0f} "
                f"ops/s  p50 {self.pct(0.50):.2f} ms  p99 {self.pct(0.99):.2f} ms  "
                f"(applied {out['ok']}, insufficient {out['insufficient']}, "
                f"replayed {out['replayed']}, mean {statistics.fmean(self.latencies) * 1000:.2f} "
                f"ms)")


def make_plan(n: int, member_ids: list[int], tag: str, rng: random.Random) -> list[Op]:
    """n operations; ~2% of them are replays of an earlier key, issued a little later."""
    fresh = n - round(n * REPLAY_SHARE)
    plan: list[Op] = []
    for i in range(fresh):
        spend = rng.random() < SPEND_SHARE
        amount = rng.randint(1, SPEND_MAX if spend else AWARD_MAX)
        plan.append(Op("spend" if spend else "award", rng.choice(member_ids), amount,
                       f"bench:{tag}:{i}"))
    for _ in range(n - fresh):
        # Replay an op from the first half at a position well after it (beyond the window of
        # ops in flight), so most replays find the first write committed.
        i = rng.randrange(0, fresh // 2)
        original = plan[i]
        at = rng.randrange(min(len(plan), i + 3 * CONCURRENCY), len(plan) + 1)
        plan.insert(at, Op(original.kind, original.member_id, original.amount, original.key,
                           replay=True))
    return plan


async def drive(plan: list[Op], run: Run, do_op) -> None:
    """CONCURRENCY tasks pull the next op off the shared plan until it is empty."""
    it = iter(plan)

    async def worker() -> None:
        for op in it:
            start = time.perf_counter()
            outcome, signed = await do_op(op)
            run.latencies.append(time.perf_counter() - start)
            run.record(op, outcome, signed)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    run.seconds = time.perf_counter() - start


# --- campusbot -----------------------------------------------------------------------------

async def seed(app: App, rng: random.Random) -> dict[int, int]:
    """1,000 members, each with a console account (so awards queue a notice), and some points."""
    now = app.services.clock()
    ids: list[int] = []
    for batch in range(0, MEMBERS, 250):
        async with app.db.write() as conn:
            for n in range(batch, min(batch + 250, MEMBERS)):
                account, _ = await member_repo.get_or_create_account(
                    conn, platform="console", user_id=f"bench{n}", username=f"bench{n}",
                    display_name=f"bench {n}", now=now)
                ids.append(account.member_id)
    ledger = app.services.ledger
    start = {member_id: rng.randint(1, SEED_MAX) for member_id in ids}
    sem = asyncio.Semaphore(CONCURRENCY)

    async def credit(member_id: int, amount: int) -> None:
        async with sem:
            await ledger.credit(member_id, amount, kind="award", reason="seed",
                                key=f"bench:seed:{member_id}", notice=None)

    await asyncio.gather(*(credit(m, a) for m, a in start.items()))
    return start


def campusbot_op(app: App):
    ledger = app.services.ledger

    async def do_op(op: Op) -> tuple[str, int | None]:
        try:
            if op.kind == "award":
                move = await ledger.credit(op.member_id, op.amount, kind="award",
                                           reason="bench", key=op.key, notice=AWARDED)
            else:
                move = await ledger.debit(op.member_id, op.amount, kind="redemption",
                                          reason="bench", key=op.key)
        except errors.InsufficientPoints:
            return "insufficient", None
        if move.replayed:
            return "replayed", None
        return "ok", move.entry.amount

    return do_op


# --- raw drivers ---------------------------------------------------------------------------

INSERT_SQL = ("INSERT INTO ledger (member_id, amount, kind, reason, ref, actor_member_id, "
              "idem_key, created_at) VALUES ({}) ON CONFLICT (idem_key) DO NOTHING RETURNING id")
UPDATE_SQL = "UPDATE members SET balance = balance + {0}{1} WHERE id = {2} AND balance >= {3} " \
             "RETURNING balance"


def raw_values(op: Op) -> tuple[int, str, bool]:
    signed = op.amount if op.kind == "award" else -op.amount
    kind = "award" if op.kind == "award" else "redemption"
    return signed, kind, kind not in SPEND_KINDS


async def sqlite_connect(path: str) -> aiosqlite.Connection:
    conn = await aiosqlite.connect(path, isolation_level=None, timeout=10)
    for pragma in ("journal_mode=WAL", "busy_timeout=10000", "foreign_keys=ON",
                   "synchronous=NORMAL"):
        await conn.execute(f"PRAGMA {pragma}")
    return conn


def sqlite_raw_op(pool: asyncio.Queue):
    insert = INSERT_SQL.format(", ".join("?" * 8))
    update_earned = UPDATE_SQL.format("?", ", earned = earned + ?", "?", "?")
    update_spend = UPDATE_SQL.format("?", "", "?", "?")

    async def do_op(op: Op) -> tuple[str, int | None]:
        signed, kind, earned = raw_values(op)
        now = datetime.now(UTC).replace(tzinfo=None).isoformat(" ")
        conn = await pool.get()
        try:
            await conn.execute("BEGIN IMMEDIATE")
            try:
                async with conn.execute(insert, (op.member_id, signed, kind, "bench", None, None,
                                                 op.key, now)) as cur:
                    row = await cur.fetchone()
                if row is None:
                    await conn.execute("COMMIT")
                    return "replayed", None
                if earned:
                    params = (signed, signed, op.member_id, max(0, -signed))
                    sql = update_earned
                else:
                    params = (signed, op.member_id, -signed)
                    sql = update_spend
                async with conn.execute(sql, params) as cur:
                    row = await cur.fetchone()
                if row is None:
                    await conn.execute("ROLLBACK")
                    return "insufficient", None
                await conn.execute("COMMIT")
                return "ok", signed
            except BaseException:
                if conn.in_transaction:
                    await conn.execute("ROLLBACK")
                raise
        finally:
            pool.put_nowait(conn)

    return do_op


class _Refused(Exception):
    pass


def pg_raw_op(pool: asyncpg.Pool):
    insert = INSERT_SQL.format(", ".join(f"${i}" for i in range(1, 9)))
    update_earned = UPDATE_SQL.format("$1", ", earned = earned + $1", "$2", "$3")
    update_spend = UPDATE_SQL.format("$1", "", "$2", "$3")

    async def do_op(op: Op) -> tuple[str, int | None]:
        signed, kind, earned = raw_values(op)
        now = datetime.now(UTC)
        async with pool.acquire() as conn:
            try:
                async with conn.transaction():
                    entry_id = await conn.fetchval(insert, op.member_id, signed, kind, "bench",
                                                   None, None, op.key, now)
                    if entry_id is None:
                        return "replayed", None
                    sql = update_earned if earned else update_spend
                    balance = await conn.fetchval(sql, signed, op.member_id, max(0, -signed))
                    if balance is None:
                        raise _Refused
                    return "ok", signed
            except _Refused:
                return "insufficient", None

    return do_op


# --- checks --------------------------------------------------------------------------------

CHECK_SQL = [
    ("balance != ledger sum or earned != earned-sum",
     "SELECT count(*) FROM members m LEFT JOIN (SELECT member_id, sum(amount) AS total, "
     "sum(CASE WHEN kind IN ('redemption', 'refund') THEN 0 ELSE amount END) AS earned "
     "FROM ledger GROUP BY member_id) l ON l.member_id = m.id "
     "WHERE m.balance <> coalesce(l.total, 0) OR m.earned <> coalesce(l.earned, 0)"),
    ("negative balances", "SELECT count(*) FROM members WHERE balance < 0"),
    ("duplicate idempotency keys", "SELECT count(*) - count(DISTINCT idem_key) FROM ledger"),
]


async def sql_check(fetchval) -> list[str]:
    problems = []
    for what, sql in CHECK_SQL:
        count = await fetchval(sql)
        if count:
            problems.append(f"SQL check: {count} {what}")
    return problems


async def expectation_check(fetch, run: Run, start: dict[int, int], tag: str) -> list[str]:
    """The client's own bookkeeping: balances = seed + what was applied; one entry per key."""
    expected = dict(start)
    for member_id, signed in run.applied.values():
        expected[member_id] += signed
    problems = []
    rows = await fetch("SELECT id, balance FROM members")
    for member_id, balance in rows:
        if member_id in expected and balance != expected[member_id]:
            problems.append(f"member {member_id}: balance {balance}, expected "
                            f"{expected[member_id]}")
    keys = await fetch(f"SELECT idem_key, amount FROM ledger WHERE idem_key LIKE 'bench:{tag}:%'")
    stored = {key: amount for key, amount in keys}
    if set(stored) != set(run.applied):
        problems.append(f"{tag}: {len(stored)} ledger entries but {len(run.applied)} writes "
                        "reported applied")
    problems.extend(f"{tag}: key {k} stored {stored.get(k)} != applied {v[1]}"
                    for k, v in run.applied.items() if stored.get(k) != v[1])
    return problems[:20]


# --- per-backend ---------------------------------------------------------------------------

async def prepare_postgres() -> str:
    """Create campusbot_bench if missing and give it a fresh public schema."""
    admin = await asyncpg.connect(f"{PG_DSN}/postgres", timeout=5)
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", PG_BENCH_DB):
            await admin.execute(f'CREATE DATABASE "{PG_BENCH_DB}"')
    finally:
        await admin.close()
    conn = await asyncpg.connect(f"{PG_DSN}/{PG_BENCH_DB}", timeout=5)
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    finally:
        await conn.close()
    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{PG_BENCH_DB}"


async def bench_backend(backend: str, n_ops: int, profile: cProfile.Profile | None,
                        raw: bool = True) -> dict[str, Any]:
    rng = random.Random(20240601)
    tmp = None
    if backend == "sqlite":
        tmp = tempfile.TemporaryDirectory(prefix="campusbot-bench-")
        path = str(Path(tmp.name) / "bench.db")
        url = f"sqlite+aiosqlite:///{path}"
    else:
        url = await prepare_postgres()
    app = App(Settings(database=DatabaseSettings(url=url)))
    problems: list[str] = []
    try:
        await app.start()
        driver = app.db.engine.dialect.driver
        t0 = time.perf_counter()
        start = await seed(app, rng)
        print(f"[{backend}] seeded {MEMBERS} members in {time.perf_counter() - t0:.1f}s; "
              f"{n_ops} ops, {CONCURRENCY} tasks, ~{REPLAY_SHARE:.0%} replays")
        ids = sorted(start)

        bot_run = Run("campusbot")
        if profile:
            profile.enable()
        await drive(make_plan(n_ops, ids, "bot", rng), bot_run, campusbot_op(app))
        if profile:
            profile.disable()
        print(bot_run.describe())
        problems += bot_run.problems
        found = await app.services.ledger.check_invariants()
        problems += [f"check_invariants: {p}" for p in found[:20]]

        raw_run = Run("raw")
        if backend == "sqlite":
            conns = [await sqlite_connect(path) for _ in range(SQLITE_POOL)]
            pool: asyncio.Queue = asyncio.Queue()
            for conn in conns:
                pool.put_nowait(conn)
            try:
                problems += await expectation_check(lambda q: conns[0].execute_fetchall(q),
                                                    bot_run, start, "bot")
                if raw:
                    await drive(make_plan(n_ops, ids, "raw", rng), raw_run, sqlite_raw_op(pool))

                async def fetchval(q):
                    return (await conns[0].execute_fetchall(q))[0][0]

                problems += await sql_check(fetchval)
            finally:
                for conn in conns:
                    await conn.close()
        else:
            pg_pool = await asyncpg.create_pool(f"{PG_DSN}/{PG_BENCH_DB}", min_size=PG_POOL[0],
                                                max_size=PG_POOL[1])
            try:
                async def fetch(q):
                    return [tuple(r) for r in await pg_pool.fetch(q)]

                problems += await expectation_check(fetch, bot_run, start, "bot")
                if raw:
                    await drive(make_plan(n_ops, ids, "raw", rng), raw_run, pg_raw_op(pg_pool))
                problems += await sql_check(pg_pool.fetchval)
            finally:
                await pg_pool.close()
        if raw:
            print(raw_run.describe())
            problems += raw_run.problems
            problems += [f"check_invariants after raw loop: {p}"
                         for p in (await app.services.ledger.check_invariants())[:20]]
    finally:
        await app.close()
        if tmp is not None:
            tmp.cleanup()

    replays_ok = bot_run.outcomes["replayed"]
    ratio = bot_run.ops_s / raw_run.ops_s if raw_run.ops_s else 0.0
    if raw:
        print(f"  campusbot/raw throughput ratio {ratio:.2f}; {replays_ok} replays returned the "
              f"first result without writing")
    for problem in problems:
        print(f"  INVARIANT VIOLATION: {problem}")
    if not problems:
        print("  invariants: every balance equals its ledger sum, none negative, one entry per "
              "key, balances match the client's own bookkeeping")
    p = PREFIX[backend]
    result = {
        f"{p}_driver": driver,
        f"{p}_ops_s": round(bot_run.ops_s), f"{p}_p50_ms": round(bot_run.pct(0.5), 2),
        f"{p}_p99_ms": round(bot_run.pct(0.99), 2),
        f"{p}_insufficient": bot_run.outcomes["insufficient"],
        f"{p}_replayed": replays_ok,
    }
    if raw:
        result |= {f"{p}_raw_ops_s": round(raw_run.ops_s),
                   f"{p}_raw_p50_ms": round(raw_run.pct(0.5), 2),
                   f"{p}_raw_p99_ms": round(raw_run.pct(0.99), 2),
                   f"{p}_ratio": round(ratio, 2)}
    result["_violations"] = len(problems)
    result["_target_met"] = bot_run.ops_s >= TARGETS[backend]
    if not result["_target_met"]:
        print(f"  TARGET MISSED: {bot_run.ops_s:,.0f} ops/s < {TARGETS[backend]:,.0f} "
              f"({bot_run.ops_s / TARGETS[backend] - 1:+.0%})")
    return result


async def postgres_reachable() -> str | None:
    try:
        conn = await asyncpg.connect(f"{PG_DSN}/postgres", timeout=5)
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        return f"{type(exc).__name__}: {exc}"
    await conn.close()
    return None


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--ops", type=int, default=5000, help="operations per backend and loop")
    parser.add_argument("--profile", action="store_true",
                        help="cProfile the campusbot phase and print the top functions")
    parser.add_argument("--sqlite-driver", choices=("custom", "stock"), default="custom",
                        help="stock: SQLAlchemy's own sqlite+aiosqlite dialect instead of "
                             "bot.storage.sqlite_driver, to compare the two")
    args = parser.parse_args(argv)
    if args.sqlite_driver == "stock":
        # Bench-only: campusbot itself always maps sqlite+aiosqlite to its driver.
        db_module._one_trip = make_url
    logging.basicConfig(level=logging.WARNING)
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    if "postgres" in backends:
        error = await postgres_reachable()
        if error:
            print(f"PostgreSQL at {PG_DSN} is unreachable ({error}); "
                  "use --backend sqlite to run without it")
            print("RESULT postgres=unreachable violations=0")
            return 2
    profile = cProfile.Profile() if args.profile else None
    results: dict[str, Any] = {}
    violations = 0
    met = True
    for backend in backends:
        result = await bench_backend(backend, args.ops, profile)
        violations += result.pop("_violations")
        met &= result.pop("_target_met")
        results |= result
    if profile:
        report = io.StringIO()
        stats = pstats.Stats(profile, stream=report).strip_dirs()
        stats.sort_stats("tottime").print_stats(30)
        stats.sort_stats("cumulative").print_stats(45)
        print(report.getvalue())
    results["violations"] = violations
    results["targets_met"] = int(met)
    print("RESULT " + " ".join(f"{k}={v}" for k, v in results.items()))
    return 0 if met and violations == 0 else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
