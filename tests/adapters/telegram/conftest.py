"""The real adapter (built as `serve` builds it) and a real core, against the fake Bot API."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest_asyncio

from adapters.telegram.app import TelegramAdapter
from bot.app import App
from bot.config import DatabaseSettings, RolesSettings, Settings, TelegramSettings
from tests.fakes.telegram_api import DEFAULT_USER_ID, FakeTelegram

TOKEN = "123:ABC"
ALICE = DEFAULT_USER_ID  # an organiser by config
BOB = 1002
CAROL = 1003
GROUP = -1001234567890


class Harness:
    """One running bot: `say` injects a message and waits for the bot's answer."""

    def __init__(self, fake: FakeTelegram, app: App, adapter: TelegramAdapter):
        self.fake = fake
        self.app = app
        self.adapter = adapter
        self.clock: FakeClock | None = None

    async def say(self, text: str, *, user_id: int = ALICE, chat_id: int | None = None,
                  reply_chat: int | None = None, timeout: float = 5.0, **kwargs: Any) -> dict:
        """Send `text` and return the bot's next message into `reply_chat` (default: the chat
        the message was sent in)."""
        since = self.fake.mark()
        self.fake.message(text, user_id=user_id, chat_id=chat_id, **kwargs)
        where = reply_chat if reply_chat is not None else (chat_id or user_id)
        return await self.fake.wait_for_message(chat_id=where, since=since, timeout=timeout)

    async def settle(self) -> None:
        """Wait until every injected update was fetched and handled."""
        for _ in range(200):
            if not self.fake.pending_updates and not self.adapter.application.update_queue.qsize():
                break
            await _sleep(0.01)
        await _sleep(0.1)

    def fake_clock(self) -> FakeClock:
        """Put the adapter's pacer on a fake clock (before anything paced was sent), so a
        test can read the slots it books and let time pass with `advance`."""
        pacer = self.adapter.pacer
        assert not pacer.chats and not pacer.overall.times, "the pacer has already booked"
        self.clock = clock = FakeClock()
        pacer.clock, pacer.sleep = clock, clock.sleep
        return clock


async def _sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)


class FakeClock:
    """Virtual time for the Pacer (its `clock` and `sleep`): nothing passes on its own.

    `sleep` returns once `advance` has moved the clock to its end; `wakeups` lists the times
    sleepers wait for. Times are binary fractions in the tests, so slots compare exactly.
    `run_freely` ends the test's control: every sleep then returns at once (a failed test's
    teardown must not wait for a turn on a clock nobody moves any more).
    """

    START = 1000.0

    def __init__(self, now: float = START):
        self.now = now
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []
        self._free = False

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        if self._free:
            self.now += max(seconds, 0.0)
        if seconds <= 0 or self._free:
            await asyncio.sleep(0)
            return
        woken = asyncio.get_running_loop().create_future()
        self._sleepers.append((self.now + seconds, woken))
        await woken

    @property
    def wakeups(self) -> list[float]:
        return sorted(at for at, woken in self._sleepers if not woken.done())

    def advance(self, seconds: float) -> None:
        self.now += seconds
        for at, woken in self._sleepers:
            if at <= self.now and not woken.done():
                woken.set_result(None)
        self._sleepers = [(at, woken) for at, woken in self._sleepers if not woken.done()]

    def run_freely(self) -> None:
        self._free = True
        self.advance(max(self.wakeups, default=self.now) - self.now)


async def until(condition: Callable[[], object], what: str, timeout: float = 5.0) -> None:
    """Let the bot run until `condition()` holds (a wait for progress, not a measurement)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, f"never: {what}"
        await asyncio.sleep(0.01)


def make_settings(fake: FakeTelegram, tmp_path, **telegram: Any) -> Settings:
    options: dict[str, Any] = {"enabled": True, "token": fake.token, "base_url": fake.base_url,
                               "base_file_url": fake.base_file_url}
    options.update(telegram)
    return Settings(
        database=DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path}/t.db"),
        roles=RolesSettings(organisers=("telegram:1001",)),
        telegram=TelegramSettings(**options),
    )


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=TOKEN, bot_username="campus_test_bot") as server:
        server.add_user(BOB, first_name="Bob", username="bob")
        server.add_user(CAROL, first_name="Carol", username="carol")
        yield server


Starter = Callable[..., Any]


@pytest_asyncio.fixture
async def start_bot(fake: FakeTelegram, tmp_path) -> AsyncIterator[Starter]:
    """Start the bot with some `[telegram]` settings; everything is stopped at the end."""
    running: list[Harness] = []

    async def start(paced: bool = False, **telegram: Any) -> Harness:
        """`paced=False` lifts the per-chat limits (tests send many messages into one chat
        quickly); the overall limit and 429 handling stay as in production."""
        if not paced:
            telegram = {"private_chat_burst": 1000, "group_messages_per_minute": 1000,
                        **telegram}
        settings = make_settings(fake, tmp_path, **telegram)
        app = App(settings)
        await app.start()
        adapter = TelegramAdapter(app, delivery_poll_seconds=0.2)
        try:
            await adapter.start()
        except BaseException:
            await app.close()
            raise
        bot = Harness(fake, app, adapter)
        running.append(bot)
        return bot

    yield start
    for bot in reversed(running):
        if bot.clock is not None:
            bot.clock.run_freely()
        await bot.adapter.stop()
        await bot.app.close()


@pytest_asyncio.fixture
async def bot(start_bot: Starter) -> Harness:
    return await start_bot(group_cooldown_seconds=0.0)


def with_telegram(settings: Settings, **changes: Any) -> Settings:
    return dataclasses.replace(settings, telegram=dataclasses.replace(settings.telegram,
                                                                      **changes))
