"""Dialogues on Telegram: in a group the question carries ForceReply(selective) and answers
the member's message, so their reply reaches the bot through privacy mode and the dialogue.

The App runs the real FEATURES plus the test-only `wishes` feature (tests/commands/
test_dialogues.py): `/wish AMOUNT TITLE…` asks for what is missing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from adapters.telegram.app import TelegramAdapter
from bot.app import App
from tests.adapters.telegram.conftest import BOB, CAROL, GROUP, Harness, make_settings
from tests.commands.test_dialogues import wish_registry
from tests.fakes.telegram_api import FakeTelegram

FORCE_REPLY = {"force_reply": True, "selective": True}


@pytest_asyncio.fixture
async def wish_bot(fake: FakeTelegram, tmp_path) -> AsyncIterator[Harness]:
    """The conftest's bot, on an App with the wishes feature (its fixture takes no registry)."""
    settings = make_settings(fake, tmp_path, group_cooldown_seconds=0.0,
                             private_chat_burst=1000, group_messages_per_minute=1000)
    app = App(settings, registry=wish_registry())
    await app.start()
    adapter = TelegramAdapter(app, delivery_poll_seconds=0.2)
    try:
        await adapter.start()
    except BaseException:
        await app.close()
        raise
    yield Harness(fake, app, adapter)
    await adapter.stop()
    await app.close()


async def send(bot: Harness, text: str, *, user_id: int, chat_id: int = GROUP,
               reply_to: dict | None = None) -> tuple[int, dict]:
    """Send a group message (optionally as a reply); (its message id, the bot's answer)."""
    since = bot.fake.mark()
    update = bot.fake.message(text, user_id=user_id, chat_id=chat_id,
                              reply_to_message_id=reply_to["message_id"] if reply_to else None)
    answer = await bot.fake.wait_for_message(chat_id=chat_id, since=since)
    return update["message"]["message_id"], answer


async def test_a_group_dialogue_with_force_reply(wish_bot: Harness) -> None:
    sent, question = await send(wish_bot, "/wish", user_id=BOB)
    assert question["plain_text"].startswith("/wish: please send amount")
    assert question["reply_markup"] == FORCE_REPLY
    assert question["reply_to_message_id"] == sent  # selective: Bob's reply field opens
    _, again = await send(wish_bot, "lots", user_id=BOB, reply_to=question)
    assert again["plain_text"].startswith("Write the amount as a whole number")
    assert "/wish: please send amount" in again["plain_text"]
    assert "Usage" not in again["plain_text"]
    assert again["reply_markup"] == FORCE_REPLY
    _, title = await send(wish_bot, "5", user_id=BOB, reply_to=again)
    assert title["plain_text"].startswith("/wish: please send title")
    assert title["reply_markup"] == FORCE_REPLY
    _, done = await send(wish_bot, "a bike", user_id=BOB, reply_to=title)
    assert done["plain_text"] == "wish: a bike for 5"
    assert done.get("reply_markup") is None


async def test_someone_elses_reply_is_not_an_answer(wish_bot: Harness) -> None:
    _, question = await send(wish_bot, "/wish", user_id=BOB)
    since = wish_bot.fake.mark()
    wish_bot.fake.message("7", user_id=CAROL, chat_id=GROUP,
                          reply_to_message_id=question["message_id"])
    await wish_bot.settle()
    assert [r for r in wish_bot.fake.records[since:] if r["kind"] == "message"] == []
    _, title = await send(wish_bot, "7", user_id=BOB, reply_to=question)  # still Bob's to answer
    assert title["plain_text"].startswith("/wish: please send title")


async def test_cancel_in_a_group(wish_bot: Harness) -> None:
    _, question = await send(wish_bot, "/wish", user_id=BOB)
    _, cancelled = await send(wish_bot, "/cancel", user_id=BOB)
    assert cancelled["plain_text"] == "Cancelled."
    since = wish_bot.fake.mark()
    wish_bot.fake.message("7", user_id=BOB, chat_id=GROUP,
                          reply_to_message_id=question["message_id"])
    await wish_bot.settle()
    assert [r for r in wish_bot.fake.records[since:] if r["kind"] == "message"] == []


async def test_a_private_dialogue(wish_bot: Harness) -> None:
    _, question = await send(wish_bot, "/wish 3", user_id=BOB, chat_id=BOB)
    assert question["plain_text"].startswith("/wish: please send title")
    _, done = await send(wish_bot, "a book", user_id=BOB, chat_id=BOB)  # no reply needed
    assert done["plain_text"] == "wish: a book for 3"


async def test_a_button_in_a_group_asks_the_presser(wish_bot: Harness) -> None:
    _, menu = await send(wish_bot, "/wishes", user_id=BOB)
    since = wish_bot.fake.mark()
    wish_bot.fake.press_button(menu, "Seven", user_id=BOB)
    question = await wish_bot.fake.wait_for_message(chat_id=GROUP, since=since)
    assert question["plain_text"].startswith("Bob: Worth seven points.")
    assert 'href="tg://user?id=1002"' in question["text"]  # mentioned: selective finds Bob
    assert question["reply_markup"] == FORCE_REPLY
    _, done = await send(wish_bot, "a hat", user_id=BOB, reply_to=question)
    assert done["plain_text"] == "wish: a hat for 7"
