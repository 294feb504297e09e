"""The real adapter (built as `serve` builds it) and a real core, against the fake Bot API."""

from __future__ import annotations

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


async def _sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)


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
    running: list[tuple[App, TelegramAdapter]] = []

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
        running.append((app, adapter))
        return Harness(fake, app, adapter)

    yield start
    for app, adapter in reversed(running):
        await adapter.stop()
        await app.close()


@pytest_asyncio.fixture
async def bot(start_bot: Starter) -> Harness:
    return await start_bot(group_cooldown_seconds=0.0)


def with_telegram(settings: Settings, **changes: Any) -> Settings:
    return dataclasses.replace(settings, telegram=dataclasses.replace(settings.telegram,
                                                                      **changes))
