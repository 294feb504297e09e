"""The fake Bot API must fool the real python-telegram-bot, or bot tests prove nothing.

Each test drives PTB 22 (an ``Application`` polling the fake, or a bare ``Bot``) and checks a
behaviour campusbot's own tests will lean on: replies and keyboards arrive, Telegram's
rejections surface as the same exceptions PTB raises in production, presses are answered,
redelivered updates reach the bot again, menus are stored per scope and language.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
import html
import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChatAdministrators,
    ChatFullInfo,
    ChatMemberAdministrator,
    ChatMemberMember,
    ChatMemberOwner,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, RetryAfter
from telegram.ext import (
    AIORateLimiter,
    Application,
    BaseRateLimiter,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)

from .telegram_api import DEFAULT_USER_ID, GROUP_ANONYMOUS_BOT_ID, FakeTelegram

TOKEN = "123:ABC"
GROUP_ID = -1001234567890
ALICE = DEFAULT_USER_ID
BOB = 1002


# ------------------------------------------------------------------ a minimal bot


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greets with escaped HTML and a button, like campusbot's /start."""
    context.bot_data["seen"].append(update)
    name = html.escape(update.effective_user.first_name)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Join", callback_data="join:7")]])
    await update.effective_message.reply_text(
        f"Welcome, <b>{name}</b>!", parse_mode=ParseMode.HTML, reply_markup=keyboard
    )


async def broken(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The classic bug: a raw "<" inside HTML."""
    await update.effective_message.reply_text("Price: <b>5 < 7</b>", parse_mode=ParseMode.HTML)


async def ping(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text("pong")


async def join(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answers first (so the button stops spinning), then edits the message."""
    query = update.callback_query
    await query.answer("Joined!")
    event = query.data.split(":")[1]
    await query.edit_message_text(f"{query.from_user.first_name} joined event {event}")


async def record_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    context.bot_data["errors"].put_nowait(context.error)


def build_app(
    fake: FakeTelegram, *, token: str = TOKEN, rate_limiter: BaseRateLimiter | None = None
) -> Application:
    builder = (
        Application.builder()
        .token(token)
        .base_url(fake.base_url)
        .base_file_url(fake.base_file_url)
    )
    if rate_limiter is not None:
        builder = builder.rate_limiter(rate_limiter)
    app = builder.build()
    app.bot_data.update(seen=[], errors=asyncio.Queue())
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("broken", broken))
    app.add_handler(CommandHandler("ping", ping))
    app.add_handler(CallbackQueryHandler(join, pattern=r"^join:"))
    app.add_error_handler(record_error)
    return app


@contextlib.asynccontextmanager
async def polling(app: Application) -> AsyncIterator[Application]:
    """Run the app the way run_polling does (timeout=10 long polls), then stop it cleanly."""
    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0.0, timeout=10)
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()


async def next_error(app: Application, timeout: float = 3.0) -> Exception:
    return await asyncio.wait_for(app.bot_data["errors"].get(), timeout)


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=TOKEN, bot_username="campus_test_bot") as server:
        yield server


@pytest_asyncio.fixture
async def app(fake: FakeTelegram) -> AsyncIterator[Application]:
    async with polling(build_app(fake)) as running:
        yield running


@pytest_asyncio.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=fake.base_url, base_file_url=fake.base_file_url) as client:
        yield client


# ------------------------------------------------------------------ polling application


@pytest.mark.asyncio
async def test_start_reply_arrives_at_once_despite_long_polling(
    fake: FakeTelegram, app: Application
) -> None:
    held = await fake.wait_for_request("getUpdates", lambda r: not r["done"], in_flight=True)
    update = fake.message("/start")
    reply = await fake.wait_for_message(chat_id=ALICE)

    # The poll already held (timeout=10) answered with the update instead of running out its
    # time: PTB's next poll confirms it (a poll that timed out first would repeat the offset).
    after = next(i for i, r in enumerate(fake.requests) if r is held) + 1
    following = await fake.wait_for_request("getUpdates", since=after, in_flight=True)
    assert held["status"] == 200, "an injected update must wake the held getUpdates"
    assert following["params"]["offset"] == update["update_id"] + 1
    assert reply["text"] == "Welcome, <b>Alice</b>!"
    assert reply["plain_text"] == "Welcome, Alice!"
    assert reply["entities"] == [{"type": "bold", "offset": 9, "length": 5}]
    assert reply["parse_mode"] == "HTML"
    button = reply["reply_markup"]["inline_keyboard"][0][0]
    assert button == {"text": "Join", "callback_data": "join:7"}
    assert [r["method"] for r in fake.requests[:2]] == ["getMe", "deleteWebhook"]
    [sent] = fake.calls("sendMessage")
    assert sent["chat_id"] == ALICE, "form values are decoded back to JSON types"
    assert sent["params"]["reply_markup"] == reply["reply_markup"]
    assert app.bot.username == "campus_test_bot"


@pytest.mark.asyncio
async def test_group_command_addressed_to_another_bot_is_ignored(
    fake: FakeTelegram, app: Application
) -> None:
    fake.message("/start@other_bot", user_id=BOB, first_name="Bob", chat_id=GROUP_ID)
    addressed = fake.message(
        "/start@campus_test_bot now", user_id=BOB, first_name="Bob", chat_id=GROUP_ID
    )

    reply = await fake.wait_for_message(chat_id=GROUP_ID)

    assert reply["plain_text"] == "Welcome, Bob!"
    assert addressed["message"]["entities"] == [
        {"type": "bot_command", "offset": 0, "length": len("/start@campus_test_bot")}
    ]
    assert [u.update_id for u in app.bot_data["seen"]] == [addressed["update_id"]]
    assert app.bot_data["seen"][0].effective_chat.type == "supergroup"


@pytest.mark.asyncio
async def test_bad_html_is_rejected_with_bad_request(fake: FakeTelegram, app: Application) -> None:
    fake.message("/broken")

    error = await next_error(app)

    assert isinstance(error, BadRequest)
    # PTB drops "Bad Request: " and lower-cases the rest after the first letter.
    assert error.message.lower().startswith("can't parse entities: unsupported start tag")
    assert fake.messages_to(ALICE) == []
    assert [c["status"] for c in fake.calls("sendMessage")] == [400]
    with pytest.raises(AssertionError, match="sendMessage -> 400 Bad Request: can't parse"):
        await fake.wait_for_message(timeout=0.05)


@pytest.mark.asyncio
async def test_injected_429_raises_retry_after_in_the_handler(
    fake: FakeTelegram, app: Application, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # RetryAfter.retry_after as timedelta
    fake.fail_next("sendMessage", status=429, retry_after=3)
    fake.message("/ping")

    error = await next_error(app)
    assert isinstance(error, RetryAfter)
    assert error.retry_after == dtm.timedelta(seconds=3)
    assert fake.messages_to(ALICE) == []

    fake.message("/ping")  # the failure was used up: the next send goes through
    assert (await fake.wait_for_message(chat_id=ALICE))["text"] == "pong"
    assert [c["status"] for c in fake.calls("sendMessage")] == [429, 200]


@pytest.mark.asyncio
async def test_rate_limiter_with_retries_resends_after_retry_after(
    fake: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # else building RetryAfter warns (-W error)
    fake.fail_next("sendMessage", retry_after=1)
    async with polling(build_app(fake, rate_limiter=AIORateLimiter(max_retries=1))) as app:
        fake.message("/ping")
        reply = await fake.wait_for_message(chat_id=ALICE, timeout=4)

    assert reply["text"] == "pong"
    refused, accepted = fake.calls("sendMessage")
    assert (refused["status"], accepted["status"]) == (429, 200)
    assert accepted["at"] - refused["at"] >= 1.0, "the retry must wait retry_after seconds"
    assert len(fake.messages_to(ALICE)) == 1
    assert app.bot_data["errors"].empty()


@pytest.mark.asyncio
async def test_press_is_answered_and_the_message_edited(
    fake: FakeTelegram, app: Application
) -> None:
    fake.message("/start")
    greeting = await fake.wait_for_message(chat_id=ALICE)

    press = fake.press_button(greeting, "Join")
    answer = await fake.wait_for_callback_answer(callback_query_id=press["callback_query"]["id"])
    edit = await fake.wait_for_edit(chat_id=ALICE)

    assert press["callback_query"]["message"]["text"] == "Welcome, Alice!"
    assert (answer["text"], answer["show_alert"], answer["data"]) == ("Joined!", False, "join:7")
    assert edit["message_id"] == greeting["message_id"]
    assert edit["plain_text"] == "Alice joined event 7"
    assert edit["reply_markup"] is None, "an edit without reply_markup drops the keyboard"
    assert fake.unanswered_callbacks == []

    fake.press(greeting, "join:7")  # a stale second press: same edit again
    error = await next_error(app)
    assert isinstance(error, BadRequest)
    assert error.message.startswith("Message is not modified")
    assert fake.unanswered_callbacks == [], "the stale press was still answered"


@pytest.mark.asyncio
async def test_redelivered_update_reaches_the_bot_again(
    fake: FakeTelegram, app: Application
) -> None:
    update = fake.message("/start")
    await fake.wait_for_message(chat_id=ALICE)
    mark = fake.mark()

    fake.redeliver(update)
    await fake.wait_for_message(chat_id=ALICE, since=mark)

    seen = [u.update_id for u in app.bot_data["seen"]]
    assert seen == [update["update_id"], update["update_id"]]
    assert len(fake.messages_to(ALICE)) == 2


@pytest.mark.asyncio
async def test_anonymous_admin_arrives_as_group_anonymous_bot(
    fake: FakeTelegram, app: Application
) -> None:
    fake.add_chat(GROUP_ID, "supergroup", title="CS Club")
    fake.anonymous_admin_message("/start", GROUP_ID)

    await fake.wait_for_message(chat_id=GROUP_ID)

    [update] = app.bot_data["seen"]
    assert update.effective_user.id == GROUP_ANONYMOUS_BOT_ID
    assert update.effective_user.username == "GroupAnonymousBot"
    assert update.effective_message.sender_chat.id == GROUP_ID
    assert update.effective_message.sender_chat.title == "CS Club"


@pytest.mark.asyncio
async def test_wrong_token_fails_initialize_with_invalid_token(fake: FakeTelegram) -> None:
    app = build_app(fake, token="999:WRONG")
    try:
        with pytest.raises(InvalidToken):
            await app.initialize()
    finally:
        await app.bot.shutdown()
    assert [c["status"] for c in fake.calls("getMe")] == [401]


@pytest.mark.asyncio
async def test_webhook_posts_need_the_secret_token(fake: FakeTelegram, bot: Bot) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/telegram"
    app = build_app(fake)
    async with app:
        await app.start()
        await app.updater.start_webhook(
            listen="127.0.0.1",
            port=port,
            url_path="telegram",
            webhook_url=url,
            secret_token="s3cr3t",
        )
        try:
            update = fake.message("/start")
            assert fake.webhook is not None and fake.webhook["secret_token"] == "s3cr3t"
            assert await fake.post_webhook(url, update, secret_token=None) == 403
            assert await fake.post_webhook(url, update, secret_token="guess") == 403
            assert await fake.post_webhook(url, update) == 200
            reply = await fake.wait_for_message(chat_id=ALICE)
            with pytest.raises(Conflict):
                await bot.get_updates()
        finally:
            await app.updater.stop()
            await app.stop()
    assert reply["plain_text"] == "Welcome, Alice!"
    assert len(app.bot_data["seen"]) == 1


# ------------------------------------------------------------------ bare Bot: validation


@pytest.mark.asyncio
async def test_html_reply_round_trips_through_ptb_entities(fake: FakeTelegram, bot: Bot) -> None:
    fake.add_user(ALICE, started=True)
    source = '<b>Points</b> &amp; <a href="https://t.me/x">mall</a> 😀 <code>&lt;3</code>'

    message = await bot.send_message(ALICE, source, parse_mode=ParseMode.HTML)

    assert message.text == "Points & mall 😀 <3"
    assert message.text_html == source
    assert [r["text"] for r in fake.sent] == [source]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("<b>open", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("<div>x</div>", 'Unsupported start tag "div" at byte offset 0'),
        ("Tom & Jerry", 'Character "&" at byte offset 4 must be escaped'),
        ("a -> b", 'Character ">" at byte offset 3 must be escaped'),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler"'),
        ("x" * 4097, "message is too long"),
        ("<b> </b>", "message text is empty"),
    ],
)
async def test_html_and_length_rejections_match_telegram(
    fake: FakeTelegram, bot: Bot, text: str, reason: str
) -> None:
    fake.add_user(ALICE, started=True)
    with pytest.raises(BadRequest) as caught:
        await bot.send_message(ALICE, text, parse_mode=ParseMode.HTML)
    assert reason.lower() in caught.value.message.lower()
    assert fake.sent == []


@pytest.mark.asyncio
async def test_length_counts_text_after_entity_parsing(fake: FakeTelegram, bot: Bot) -> None:
    fake.add_user(ALICE, started=True)
    body = "&lt;" * 4096  # 16 384 characters on the wire, 4 096 after parsing

    message = await bot.send_message(ALICE, f"<b>{body}</b>", parse_mode=ParseMode.HTML)
    assert len(message.text) == 4096
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(ALICE, body + "!", parse_mode=ParseMode.HTML)


@pytest.mark.asyncio
async def test_callback_data_over_64_bytes_is_rejected(fake: FakeTelegram, bot: Bot) -> None:
    fake.add_user(ALICE, started=True)

    def keyboard(data: str) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup([[InlineKeyboardButton("Go", callback_data=data)]])

    await bot.send_message(ALICE, "ok", reply_markup=keyboard("é" * 32))  # 64 bytes
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(ALICE, "too long", reply_markup=keyboard("é" * 33))
    assert [r["text"] for r in fake.sent] == ["ok"]


@pytest.mark.asyncio
async def test_private_sends_need_a_user_who_started_the_bot(fake: FakeTelegram, bot: Bot) -> None:
    fake.add_user(2002, first_name="Carol")  # seen in a group, never opened the bot
    fake.message("/start", user_id=2003)
    fake.block_user(2003)

    with pytest.raises(Forbidden, match="bot can't initiate conversation with a user"):
        await bot.send_message(2002, "hi")
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(2003, "hi")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(424242, "hi")


@pytest.mark.asyncio
async def test_commands_are_stored_per_scope_and_language(fake: FakeTelegram, bot: Bot) -> None:
    fake.add_chat(GROUP_ID, title="CS Club", admins={BOB})
    members = [BotCommand("start", "Start"), BotCommand("balance", "Your points")]
    german = [BotCommand("start", "Starten"), BotCommand("balance", "Deine Punkte")]
    organisers = [*german, BotCommand("award", "Punkte vergeben")]
    admins = BotCommandScopeChatAdministrators(chat_id=GROUP_ID)

    assert await bot.set_my_commands(members)
    assert await bot.set_my_commands(german, language_code="de")
    assert await bot.set_my_commands(organisers, scope=admins, language_code="de")

    assert fake.commands() == [c.to_dict() for c in members]
    assert fake.commands(language_code="de") == [c.to_dict() for c in german]
    assert fake.commands(admins, "de") == [c.to_dict() for c in organisers]
    assert tuple(await bot.get_my_commands(language_code="de")) == tuple(german)
    assert fake.menu(GROUP_ID, BOB, "de-DE") == [c.to_dict() for c in organisers]
    assert fake.menu(GROUP_ID, ALICE, "de") == [c.to_dict() for c in german]
    assert fake.menu(ALICE, ALICE, "fr") == [c.to_dict() for c in members]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("commands", "language_code", "reason"),
    [
        ([BotCommand("start", "Start")], "de-DE", "invalid language code"),
        ([BotCommand("Award", "Give points")], "", "BOT_COMMAND_INVALID"),
        ([BotCommand("a" * 33, "Too long")], "", "BOT_COMMAND_INVALID"),
        ([BotCommand("start", "x" * 257)], "", "BOT_COMMAND_DESCRIPTION_INVALID"),
        ([BotCommand(f"c{i}", "d") for i in range(101)], "", "BOT_COMMANDS_TOO_MUCH"),
    ],
)
async def test_invalid_command_menus_are_rejected(
    fake: FakeTelegram, bot: Bot, commands: list[BotCommand], language_code: str, reason: str
) -> None:
    with pytest.raises(BadRequest, match=rf"(?i){reason}"):
        await bot.set_my_commands(commands, language_code=language_code or None)
    assert fake.commands(language_code=language_code) == []


@pytest.mark.asyncio
async def test_get_chat_and_members_parse_as_ptb_objects(fake: FakeTelegram, bot: Bot) -> None:
    fake.add_user(BOB, first_name="Bob")
    fake.add_user(1003, first_name="Dana")
    fake.add_chat(GROUP_ID, "supergroup", title="CS Club", admins={BOB}, creator_id=1003)

    chat = await bot.get_chat(GROUP_ID)
    admin = await bot.get_chat_member(GROUP_ID, BOB)
    member = await bot.get_chat_member(GROUP_ID, ALICE)
    everyone = await bot.get_chat_administrators(GROUP_ID)

    assert isinstance(chat, ChatFullInfo) and chat.title == "CS Club"
    assert isinstance(admin, ChatMemberAdministrator) and admin.user.first_name == "Bob"
    assert isinstance(member, ChatMemberMember)
    assert [type(m) for m in everyone] == [ChatMemberOwner, ChatMemberAdministrator]


@pytest.mark.asyncio
async def test_document_upload_keeps_name_and_bytes(fake: FakeTelegram, bot: Bot) -> None:
    fake.add_user(ALICE, started=True)
    content = b"member,points\nalice,42\n"

    message = await bot.send_document(
        ALICE,
        document=content,
        filename="points.csv",
        caption="<b>Export</b>",
        parse_mode=ParseMode.HTML,
    )
    [record] = fake.sent
    downloaded = await (await bot.get_file(message.document.file_id)).download_as_bytearray()

    assert (record["kind"], record["filename"], record["bytes"]) == (
        "document",
        "points.csv",
        content,
    )
    assert message.caption == "Export" and message.document.file_name == "points.csv"
    assert bytes(downloaded) == content


@pytest.mark.asyncio
async def test_a_second_bot_process_polling_terminates_the_first(
    fake: FakeTelegram, bot: Bot
) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await fake.wait_for_request("getUpdates", timeout=1, in_flight=True)
    async with Bot(TOKEN, base_url=fake.base_url) as second_process:
        second = asyncio.create_task(second_process.get_updates(timeout=5))
        with pytest.raises(Conflict, match="terminated by other getUpdates request"):
            await first
        update = fake.message("hello")
        assert [u.update_id for u in await second] == [update["update_id"]]


# ------------------------------------------------------------------ raw HTTP, no PTB


@pytest.mark.asyncio
async def test_wire_format_json_get_errors_and_injected_failures(fake: FakeTelegram) -> None:
    """Other clients (curl, aiohttp, discord-side tooling) speak JSON and GET too."""
    fake.add_user(ALICE, started=True)
    api = f"{fake.base_url}{TOKEN}"
    keyboard = {"inline_keyboard": [[{"text": "Open", "url": "https://example.org"}]]}
    fake.fail_next("getChat", status=500, count=2)
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{fake.base_url}999:WRONG/getMe") as resp:
            assert (resp.status, await resp.json()) == (
                401,
                {"ok": False, "error_code": 401, "description": "Unauthorized"},
            )
        async with http.get(f"{api}/getMe") as resp:
            assert (await resp.json())["result"]["username"] == "campus_test_bot"
        body = {"chat_id": ALICE, "text": "hi", "reply_markup": keyboard}
        async with http.post(f"{api}/sendMessage", json=body) as resp:
            assert (await resp.json())["result"]["reply_markup"] == keyboard
        async with http.post(f"{api}/sendSticker", data={"chat_id": ALICE}) as resp:
            assert (resp.status, (await resp.json())["description"]) == (
                404,
                "Not Found: method not found",
            )
        statuses = []
        for _ in range(3):
            async with http.get(f"{api}/getChat", params={"chat_id": ALICE}) as resp:
                statuses.append(resp.status)

    assert statuses == [500, 500, 200]
    assert fake.unknown_methods == ["sendSticker"]
    assert [r["reply_markup"] for r in fake.sent] == [keyboard]
