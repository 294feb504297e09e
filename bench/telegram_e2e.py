"""Telegram adapter throughput and latency, against a bare python-telegram-bot echo bot.

2,000 messages from 50 users (each user sends the next message when the previous answer came,
so 50 are in flight) go through the fake Bot API over real HTTP, first to an echo bot
(`Application` with default settings, no rate limiter, replying to every text), then to
campusbot for `/points` and for a listing (`/leaderboard`). Latency is the time from injecting
the update to the fake receiving the sendMessage. Both bots have the flood limits lifted
(campusbot: messages_per_second and the per-chat windows), so what is measured is the bot, not
the pacing we deliberately add.

The fake Bot API and the simulated users run in a child process (bench/remote.py), one fresh
fake per bot, and the bot under test alone in this one: Telegram's servers are not in the bot's
process, so the fake's CPU and garbage (it records every request) must not be either.

Ends with one `RESULT key=value …` line; exits 1 when campusbot's throughput is under 70 % of
the echo bot's, or when an invariant breaks (a message unanswered or answered twice, a wrong
reply, a failed API call).

    . .venv/bin/activate && python bench/telegram_e2e.py [--messages 2000] [--users 50]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.telegram.app import TelegramAdapter
from bench.common import percentile
from bench.remote import Link, Remote
from bot.app import App
from bot.config import DatabaseSettings, RolesSettings, Settings, TelegramSettings
from tests.fakes.telegram_api import FakeTelegram

TOKEN = "123:BENCH"
ORGANISER = 1001
FIRST_USER = 20_000
TARGET = 0.70


@dataclass
class Run:
    name: str
    seconds: float
    latencies: list[float]
    problems: list[str]

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        return percentile(self.latencies, q) * 1000

    def summary(self) -> str:
        return (f"{self.name:<22} {len(self.latencies):>5} msgs {self.rate:>8.1f} msg/s  "
                f"p50 {self.pct(0.50):6.1f} ms  p95 {self.pct(0.95):6.1f} ms  "
                f"p99 {self.pct(0.99):6.1f} ms  problems {len(self.problems)}")


# -- the fake Bot API and the users (child process) ------------------------------------------


async def drive(fake: FakeTelegram, name: str, text: str, users: list[int], per_user: int,
                expect: Callable[[dict], bool]) -> Run:
    """Each user sends `text` `per_user` times, one at a time; all users at once."""
    latencies: list[float] = []
    problems: list[str] = []

    async def user(user_id: int) -> None:
        for _ in range(per_user):
            since = fake.mark()
            began = time.monotonic()
            fake.message(text, user_id=user_id)
            try:
                record = await fake.wait_for_message(chat_id=user_id, since=since, timeout=30)
            except AssertionError:
                problems.append(f"{name}: no answer to {user_id}")
                return
            latencies.append(record["at"] - began)
            if not expect(record):
                problems.append(f"{name}: unexpected reply {record['plain_text'][:60]!r}")

    sent_before = len(fake.sent)
    began = time.monotonic()
    await asyncio.gather(*(user(u) for u in users))
    seconds = time.monotonic() - began
    await asyncio.sleep(0.2)  # a duplicate answer would arrive now
    answers = len(fake.sent) - sent_before
    if answers != len(users) * per_user:
        problems.append(f"{name}: {answers} answers to {len(users) * per_user} messages")
    failed = [r for r in fake.requests if r["status"] >= 300]
    if failed:
        problems.append(f"{name}: {len(failed)} failed API calls, e.g. {failed[0]['method']} "
                        f"{failed[0]['description']}")
    return Run(name, seconds, latencies, problems)


def add_users(fake: FakeTelegram, count: int) -> list[int]:
    users = [FIRST_USER + i for i in range(count)]
    for user_id in users:
        fake.add_user(user_id, first_name=f"Member{user_id}", username=f"m{user_id}",
                      started=True)
    return users


def urls(fake: FakeTelegram) -> dict[str, str]:
    return {"base_url": fake.base_url, "base_file_url": fake.base_file_url}


async def echo_users(link: Link, messages: int, users_count: int) -> None:
    async with FakeTelegram(token=TOKEN) as fake:
        users = add_users(fake, users_count)
        await link.ready(**urls(fake))
        run = await drive(fake, "echo (bare PTB)", "/points", users, messages // users_count,
                          lambda r: r["plain_text"] == "/points")
        await link.done([asdict(run)])


async def campusbot_users(link: Link, messages: int, users_count: int) -> None:
    async with FakeTelegram(token=TOKEN) as fake:
        users = add_users(fake, users_count)
        fake.add_user(ORGANISER, started=True)
        await link.ready(**urls(fake))
        # Warm-up, not measured: every member exists and ten of them have points, and their
        # "you received points" notices are out (the outbox may send one a poll later, which
        # would otherwise land in the measured run as an unexpected reply).
        await drive(fake, "warm-up", "/start", users, 1, lambda r: True)
        since = fake.mark()
        for index, user_id in enumerate(users[:10]):
            await drive(fake, "warm-up", f"/award @m{user_id} {index + 1} bench",
                        [ORGANISER], 1, lambda r: True)
        for user_id in users[:10]:
            await fake.wait_for_message(chat_id=user_id, since=since, timeout=10)
        per_user = messages // users_count
        points = await drive(fake, "campusbot /points", "/points", users, per_user,
                             lambda r: "Balance" in r["plain_text"])
        board = await drive(fake, "campusbot /leaderboard", "/leaderboard", users, per_user,
                            lambda r: "Leaderboard" in r["plain_text"])
        await link.done([asdict(points), asdict(board)])


# -- the echo bot (this process) -------------------------------------------------------------


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(update.effective_message.text)


async def run_echo(messages: int, users_count: int) -> Run:
    async with Remote(echo_users, messages=messages, users_count=users_count) as remote:
        application = (Application.builder().token(TOKEN).base_url(remote.info["base_url"])
                       .base_file_url(remote.info["base_file_url"]).build())
        application.add_handler(MessageHandler(filters.TEXT, echo))
        async with application:
            await application.start()
            await application.updater.start_polling(poll_interval=0.0, timeout=10)
            try:
                (run,) = await remote.run()
            finally:
                await application.updater.stop()
                await application.stop()
    return Run(**run)


# -- campusbot (this process) ----------------------------------------------------------------


async def run_campusbot(messages: int, users_count: int, folder: Path) -> list[Run]:
    async with Remote(campusbot_users, messages=messages, users_count=users_count) as remote:
        settings = Settings(
            database=DatabaseSettings(url=f"sqlite+aiosqlite:///{folder}/bench.db"),
            roles=RolesSettings(organisers=(f"telegram:{ORGANISER}",)),
            telegram=TelegramSettings(enabled=True, token=TOKEN,
                                      base_url=remote.info["base_url"],
                                      base_file_url=remote.info["base_file_url"],
                                      messages_per_second=1_000_000.0,
                                      private_chat_burst=1_000_000,
                                      group_messages_per_minute=1_000_000),
        )
        app = App(settings)
        await app.start()
        adapter = TelegramAdapter(app)
        await adapter.start()
        try:
            runs = await remote.run()
        finally:
            await adapter.stop()
            await app.close()
    return [Run(**run) for run in runs]


async def main(messages: int, users_count: int) -> int:
    logging.basicConfig(level=logging.WARNING)
    echo_run = await run_echo(messages, users_count)
    with tempfile.TemporaryDirectory() as folder:
        points, board = await run_campusbot(messages, users_count, Path(folder))
    for run in (echo_run, points, board):
        print(run.summary())
    problems = echo_run.problems + points.problems + board.problems
    for problem in problems[:10]:
        print("problem:", problem)
    ratio_points = points.rate / echo_run.rate
    ratio_board = board.rate / echo_run.rate
    ok = not problems and min(ratio_points, ratio_board) >= TARGET
    print(f"RESULT messages={messages} users={users_count} echo_mps={echo_run.rate:.1f} "
          f"points_mps={points.rate:.1f} leaderboard_mps={board.rate:.1f} "
          f"points_ratio={ratio_points:.2f} leaderboard_ratio={ratio_board:.2f} "
          f"echo_p50_ms={echo_run.pct(0.5):.1f} echo_p95_ms={echo_run.pct(0.95):.1f} "
          f"echo_p99_ms={echo_run.pct(0.99):.1f} "
          f"points_p50_ms={points.pct(0.5):.1f} points_p95_ms={points.pct(0.95):.1f} "
          f"points_p99_ms={points.pct(0.99):.1f} "
          f"leaderboard_p50_ms={board.pct(0.5):.1f} leaderboard_p95_ms={board.pct(0.95):.1f} "
          f"leaderboard_p99_ms={board.pct(0.99):.1f} "
          f"target={TARGET:.2f} problems={len(problems)} ok={str(ok).lower()}")
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--users", type=int, default=50)
    args = parser.parse_args()
    raise SystemExit(asyncio.run(main(args.messages, args.users)))
