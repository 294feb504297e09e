"""Discord end to end: slash commands through FakeDiscord into campusbot, against a bare bot.

Why: Discord fails an interaction that is not acknowledged within 3 s, and users judge a bot by
how soon they can read its answer. This measures both, for campusbot (real discord.py client,
real core, SQLite) and for a bare discord.py bot whose one slash command answers at once,
through the same fake in the same run, so the ratio shows what campusbot itself costs.

    python bench/discord_e2e.py [--invocations 1000] [--users 50]

Each of the users runs its commands one after another (closed loop, all users at once). The
first command of every user (the member is created then) is measured apart; steady state
starts after every user is warmed up. Ends with a `RESULT key=value …` line; exits 1 when a
target is missed: 100 % acknowledged within 3 s, and campusbot's p99 within 1.5x the bare
bot's for the acknowledgement and for the readable answer.

Each bot runs in a fresh process of its own; the fake Discord and the simulated users run in a
child process of that (bench/remote.py), one fresh fake per bot. Discord is not in the bot's
process, so the fake's CPU (HTTP, JSON, gateway frames) and garbage (it records everything)
must not be either. The latencies are taken in the child, from dispatch on the socket to the
callback.

Both bots are up at once and take turns (`Turns`): campusbot's first commands, the bare bot's
warm-up, then the steady state in alternating blocks (campusbot, bare, campusbot, …), then
each one's capacity run. The machine's speed drifts by tens of percent over a minute (other
tenants, frequency); alternating short blocks puts both bots in the same stretches of it, so
the ratio measures the bots and not the minute each one happened to run in.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import multiprocessing
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from multiprocessing.connection import Connection
from pathlib import Path

import discord
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket
from discord.http import Route

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.discord.app import DiscordAdapter
from bench.remote import Link, Remote, receive
from bot.app import App
from bot.config import DatabaseSettings, DiscordSettings, Settings
from tests.fakes.discord_api import FakeDiscord, FakeInteraction

GUILD_ID = 5000
GUILDS = [{"id": GUILD_ID, "name": "Campus", "channels": [{"id": 5001, "name": "general",
                                                            "type": 0}]}]
FIRST_USER = 700_000
DEADLINE = 3.0
P99_RATIO = 1.5
BLOCKS = 10  # steady-state blocks per bot, alternating between the two
TURN_TIMEOUT = 120.0  # a turn never takes this long unless the other side died

Invoke = Callable[[FakeDiscord, int], Awaitable[FakeInteraction]]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))] * 1000


@dataclass
class Run:
    """The latencies of one batch of interactions (plain data: it comes from the child)."""

    count: int
    seconds: float
    ack: list[float]
    read: list[float]

    @classmethod
    def of(cls, records: list[FakeInteraction], seconds: float) -> Run:
        return cls(len(records), seconds,
                   [r.ack_latency for r in records if r.ack_latency is not None],
                   [r.readable_latency for r in records if r.readable_latency is not None])

    @classmethod
    def merge(cls, runs: list[Run]) -> Run:
        return cls(sum(r.count for r in runs), sum(r.seconds for r in runs),
                   [a for r in runs for a in r.ack], [a for r in runs for a in r.read])

    @property
    def rate(self) -> float:
        return self.count / self.seconds

    @property
    def acked_in_time(self) -> float:
        return sum(1 for a in self.ack if a < DEADLINE) / self.count

    def line(self, name: str) -> str:
        return (f"{name:<10} {self.count:5d} interactions  {self.rate:7.1f}/s  "
                f"ack p50/p95/p99 {pct(self.ack, 50):6.1f}/{pct(self.ack, 95):6.1f}/"
                f"{pct(self.ack, 99):6.1f} ms  readable p50/p95/p99 {pct(self.read, 50):6.1f}/"
                f"{pct(self.read, 95):6.1f}/{pct(self.read, 99):6.1f} ms  "
                f"acked<3s {self.acked_in_time:.1%}")


# -- taking turns ----------------------------------------------------------------------------


class Turns:
    """Whose users drive their bot now. Created in the parent and handed to both children
    while they are spawned (multiprocessing semaphores travel only that way)."""

    NAMES = ("campusbot", "bare")

    def __init__(self, context: multiprocessing.context.BaseContext):
        self._mine = {"campusbot": context.Semaphore(1), "bare": context.Semaphore(0)}
        self._both_up = context.Barrier(2)

    async def together(self) -> None:
        """Both sides wait here: nobody starts before both bots are up, and nobody stops its
        bot (a burst of CPU) while the other one is still being measured."""
        await asyncio.to_thread(self._both_up.wait, TURN_TIMEOUT)

    @contextlib.asynccontextmanager
    async def turn(self, name: str):
        if not await asyncio.to_thread(self._mine[name].acquire, True, TURN_TIMEOUT):
            raise TimeoutError(f"{name}: the other bot never handed over its turn")
        try:
            yield
        finally:
            other = next(n for n in self.NAMES if n != name)
            self._mine[other].release()


# -- the fake Discord and the users (child process) ------------------------------------------


async def drive(fake: FakeDiscord, invoke: Invoke, users: list[int], per_user: int) -> Run:
    """Every user at once, each waiting for its answer before sending the next command."""
    records: list[FakeInteraction] = []

    async def one_user(user: int) -> None:
        for _ in range(per_user):
            record = await invoke(fake, user)
            records.append(record)
            await record.readable(timeout=30)

    started = time.perf_counter()
    await asyncio.gather(*(one_user(u) for u in users))
    return Run.of(records, time.perf_counter() - started)


async def drive_paced(fake: FakeDiscord, invoke: Invoke, users: list[int], total: int,
                      rate: float) -> Run:
    """Open loop: `total` commands at a fixed rate, the users in turn (steady state)."""
    records: list[FakeInteraction] = []
    started = time.perf_counter()
    for n in range(total):
        delay = started + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        records.append(await invoke(fake, users[n % len(users)]))
    for record in records:  # one by one: a gather of them all would stall the loop (and the
        await record.readable(timeout=30)  # timing of the last answers) while it is set up
    return Run.of(records, time.perf_counter() - started)


async def points(fake: FakeDiscord, user: int) -> FakeInteraction:
    return await fake.slash("points", user_id=user, username=f"u{user}")


async def ping(fake: FakeDiscord, user: int) -> FakeInteraction:
    return await fake.slash("ping", user_id=user, username=f"u{user}")


async def steady_blocks(name: str, turns: Turns, fake: FakeDiscord, invoke: Invoke,
                        users: list[int], total: int, rate: float) -> Run:
    blocks = []
    for block in range(BLOCKS):
        async with turns.turn(name):
            size = total // BLOCKS + (1 if block < total % BLOCKS else 0)
            blocks.append(await drive_paced(fake, invoke, users, size, rate))
    return Run.merge(blocks)


COMMANDS: dict[str, Invoke] = {"campusbot": points, "bare": ping}


async def users_of(link: Link, name: str, users: list[int], per_user: int, rate: float,
                   turns: Turns) -> None:
    """The users of one bot (campusbot's /points, the bare bot's /ping), in its turns: every
    user's first command (campusbot creates the member then), the steady blocks, the burst."""
    invoke = COMMANDS[name]
    async with FakeDiscord(guilds=GUILDS) as fake:
        await link.ready(token=fake.token, api_base_url=fake.api_base_url)
        await fake.wait_connected()
        await turns.together()
        async with turns.turn(name):
            first = await drive(fake, invoke, users, 1)
            await asyncio.sleep(0.5)  # let campusbot's first replies' language hints go out
        steady = await steady_blocks(name, turns, fake, invoke, users, per_user * len(users),
                                     rate)
        async with turns.turn(name):
            burst = await drive(fake, invoke, users, per_user)
        await turns.together()
        await link.done([asdict(first), asdict(steady), asdict(burst)])


# -- the bots (this process) -----------------------------------------------------------------


async def bench_campusbot(users: list[int], per_user: int, rate: float, turns: Turns,
                          folder: Path) -> tuple[Run, Run, Run]:
    async with Remote(users_of, name="campusbot", users=users, per_user=per_user, rate=rate,
                      turns=turns) as remote:
        settings = Settings(
            database=DatabaseSettings(url=f"sqlite+aiosqlite:///{folder}/bench.db"),
            discord=DiscordSettings(enabled=True, token=remote.info["token"],
                                    api_base_url=remote.info["api_base_url"],
                                    guild_ids=(GUILD_ID,)))
        app = App(settings)
        await app.start()
        adapter = DiscordAdapter(app, guild_ready_timeout=0.05)
        try:
            await adapter.start()  # returns once the gateway session is READY
            first, steady, burst = await remote.run()
        finally:
            await adapter.stop()
            await app.close()
    return Run(**first), Run(**steady), Run(**burst)


async def bench_bare(users: list[int], per_user: int, rate: float,
                     turns: Turns) -> tuple[Run, Run]:
    async with Remote(users_of, name="bare", users=users, per_user=per_user, rate=rate,
                      turns=turns) as remote:
        client = discord.Client(intents=discord.Intents.none(), guild_ready_timeout=0.05)
        tree = app_commands.CommandTree(client)

        @tree.command(name="ping", description="Answer at once.")
        async def ping_command(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("pong", ephemeral=True)

        async def setup_hook() -> None:
            _shards, url, _limits = await client.http.get_bot_gateway()
            DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)
            tree.copy_global_to(guild=discord.Object(GUILD_ID))
            await tree.sync(guild=discord.Object(GUILD_ID))

        client.setup_hook = setup_hook  # type: ignore[method-assign]
        Route.BASE = remote.info["api_base_url"]
        await client.login(remote.info["token"])
        runner = asyncio.create_task(client.connect())
        try:
            ready = asyncio.create_task(client.wait_until_ready())
            await asyncio.wait({ready, runner}, timeout=60, return_when=asyncio.FIRST_COMPLETED)
            ready.cancel()
            if runner.done():
                runner.result()  # re-raise why the gateway stopped
                raise RuntimeError("bare bot: the gateway closed before the bot was ready")
            if not client.is_ready():
                raise RuntimeError("bare bot: no READY from the gateway within a minute")
            _warm_up, steady, burst = await remote.run()
        finally:
            await client.close()
            await asyncio.wait({runner}, timeout=5)
    return Run(**steady), Run(**burst)


def _run_bot(conn: Connection, name: str, *args) -> None:
    """In a fresh process: one bot, from a clean heap, with nothing left of the other."""
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("discord").setLevel(logging.ERROR)
    try:
        if name == "campusbot":
            *rest, folder = args
            runs = asyncio.run(bench_campusbot(*rest, Path(folder)))
        else:
            runs = asyncio.run(bench_bare(*args))
        conn.send(("result", [asdict(run) for run in runs]))
    except BaseException as exc:
        conn.send(("error", "".join(traceback.format_exception(exc))))
        raise SystemExit(1) from None
    finally:
        conn.close()


async def isolated(context: multiprocessing.context.BaseContext, name: str,
                   *args) -> tuple[Run, ...]:
    """Each bot runs in its own process, so neither pays for what the other left behind (a
    bot measured second in a shared process inherited the first one's heap and threads)."""
    ours, theirs = context.Pipe()
    process = context.Process(target=_run_bot, args=(theirs, name, *args), name=f"bench-{name}")
    process.start()
    theirs.close()
    try:
        tag, value = await receive(ours)
    except EOFError:
        raise RuntimeError(f"{name}: the benchmark process died") from None
    except BaseException:  # the other bot failed (TaskGroup cancels us): stop this one now
        process.kill()
        raise
    finally:
        ours.close()
        await asyncio.to_thread(process.join, 30)
        if process.is_alive():
            process.kill()
    if tag == "error":
        raise RuntimeError(f"{name} failed:\n{value}")
    return tuple(Run(**run) for run in value)


async def main(invocations: int, user_count: int, rate: float) -> int:
    users = [FIRST_USER + n for n in range(user_count)]
    per_user = max(1, invocations // user_count)
    context = multiprocessing.get_context("spawn")
    turns = Turns(context)
    with tempfile.TemporaryDirectory() as folder:
        async with asyncio.TaskGroup() as group:  # one failing stops the other
            ours_task = group.create_task(
                isolated(context, "campusbot", users, per_user, rate, turns, folder))
            bare_task = group.create_task(isolated(context, "bare", users, per_user, rate, turns))
        first, ours, our_burst = ours_task.result()
        bare, bare_burst = bare_task.result()
    print(first.line("first"))
    print(ours.line("campusbot"))
    print(bare.line("bare"))
    print(our_burst.line("campus-max"), "(closed loop, all users at once: capacity)")
    print(bare_burst.line("bare-max"), "(closed loop, all users at once: capacity)")
    ack_ratio = pct(ours.ack, 99) / pct(bare.ack, 99)
    read_ratio = pct(ours.read, 99) / pct(bare.read, 99)
    acked = min(first.acked_in_time, ours.acked_in_time)
    ok = acked == 1.0 and ack_ratio <= P99_RATIO and read_ratio <= P99_RATIO
    print(f"RESULT invocations={ours.count} users={user_count} "
          f"offered={rate:.0f}/s max_rate={our_burst.rate:.1f}/s "
          f"ack_p50_ms={pct(ours.ack, 50):.1f} ack_p95_ms={pct(ours.ack, 95):.1f} "
          f"ack_p99_ms={pct(ours.ack, 99):.1f} read_p99_ms={pct(ours.read, 99):.1f} "
          f"bare_max_rate={bare_burst.rate:.1f}/s "
          f"bare_ack_p99_ms={pct(bare.ack, 99):.1f} bare_read_p99_ms={pct(bare.read, 99):.1f} "
          f"ack_p99_ratio={ack_ratio:.2f} read_p99_ratio={read_ratio:.2f} "
          f"first_ack_p99_ms={pct(first.ack, 99):.1f} "
          f"first_read_p99_ms={pct(first.read, 99):.1f} "
          f"acked_within_3s={acked:.1%} ok={ok}")
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invocations", type=int, default=1000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--rate", type=float, default=200.0,
                        help="steady-state offered load, interactions per second")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("discord").setLevel(logging.ERROR)
    raise SystemExit(asyncio.run(main(args.invocations, args.users, args.rate)))
