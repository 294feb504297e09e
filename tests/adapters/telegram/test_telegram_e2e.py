"""The Telegram adapter end to end: real python-telegram-bot, real core, fake Bot API over HTTP.

Nothing inside PTB is patched; the fake only plays Telegram's part (see tests/fakes).
"""

from __future__ import annotations

import asyncio
import socket

import pytest
from telegram.constants import ChatType

from bot.errors import StartupError
from bot.storage import members as member_repo
from tests.adapters.telegram.conftest import ALICE, BOB, CAROL, GROUP, Harness, until
from tests.fakes.telegram_api import FakeTelegram


def first_lines(records: list[dict]) -> list[str]:
    """The first line of each message, as a member scrolling the chat reads them."""
    return [r["plain_text"].split("\n", 1)[0] for r in records]


def buttons(record: dict) -> list[str]:
    markup = record.get("reply_markup") or {}
    return [b["text"] for row in markup.get("inline_keyboard", []) for b in row]


async def meet(bot: Harness, *users: int) -> None:
    """Each user starts the bot in private, so @username lookups and private replies work."""
    for user in users:
        await bot.say("/start", user_id=user)


async def history_of(bot: Harness, user: int) -> dict:
    """`/history` in private, while notices of the awards may still be arriving in that chat
    (the outbox delivers them on its own): the answer is the message with a page number."""
    since = bot.fake.mark()
    bot.fake.message("/history", user_id=user)
    return await bot.fake.wait_for_message(lambda m: "Page " in m["plain_text"], chat_id=user,
                                           since=since)


# -- every core command, private chat --------------------------------------------------------


async def test_member_commands_in_private_chat(bot: Harness) -> None:
    await meet(bot, BOB)
    assert "Welcome" in (await bot.say("/start", user_id=BOB))["plain_text"]
    help_text = (await bot.say("/help", user_id=BOB))["plain_text"]
    assert "/points" in help_text and "/award" not in help_text
    assert "/award" in (await bot.say("/help"))["plain_text"]  # Alice is an organiser
    assert "/award" in (await bot.say("/help award"))["plain_text"]
    choose = await bot.say("/language", user_id=BOB)
    assert len(buttons(choose)) == 2
    assert "Asia/Shanghai" in (await bot.say("/timezone Asia/Shanghai", user_id=BOB))["plain_text"]
    assert "Asia/Shanghai" in (await bot.say("/timezone", user_id=BOB))["plain_text"]
    assert "link code" in (await bot.say("/link", user_id=BOB))["plain_text"]
    assert "not linked" in (await bot.say("/unlink", user_id=BOB))["plain_text"]
    assert (await bot.say("/notify off", user_id=BOB))["plain_text"].startswith(
        "Notifications by direct message are off.")
    assert (await bot.say("/notify on", user_id=BOB))["plain_text"].startswith(
        "Notifications by direct message are on.")
    assert "Balance: 0 points" in (await bot.say("/points", user_id=BOB))["plain_text"]
    assert "No entries yet" in (await bot.say("/history", user_id=BOB))["plain_text"]
    board = await bot.say("/leaderboard week", user_id=BOB)
    assert "this week" in board["plain_text"] and buttons(board)
    assert "nothing to cancel" in (await bot.say("/cancel", user_id=BOB))["plain_text"]
    assert "no command /nosuch" in (await bot.say("/nosuch", user_id=BOB))["plain_text"]


async def test_organiser_commands_in_private_chat(bot: Harness) -> None:
    await meet(bot, BOB, ALICE)
    awarded = await bot.say("/award @bob 30 great talk")
    assert "Awarded 30 points to Bob" in awarded["plain_text"]
    assert "Deducted 5 points" in (await bot.say("/deduct @bob 5 typo"))["plain_text"]
    refused = await bot.say("/deduct @bob 500 too much")
    assert "That needs 500 points, but the balance is only 25." in refused["plain_text"]
    assert "now an ambassador" in (await bot.say("/grant @bob ambassador"))["plain_text"]
    assert "no longer an ambassador" in (await bot.say("/revoke @bob ambassador"))["plain_text"]
    assert "took the ambassador role from you" in (await bot.fake.wait_for_message(
        lambda m: "role from you" in m["plain_text"], chat_id=BOB))["plain_text"]
    since = bot.fake.mark()
    bot.fake.message("/award @alice 5 me", user_id=BOB)
    denied = await bot.fake.wait_for_message(lambda m: "organiser" in m["plain_text"],
                                             chat_id=BOB, since=since)
    assert "Only an organiser" in denied["plain_text"]
    unknown = await bot.say("/award @nobody 5 x")
    assert "must first send me a message" in unknown["plain_text"]


async def test_award_by_replying_to_the_members_message(bot: Harness) -> None:
    """`/award 7 thanks` sent as a reply to Carol's message in a group targets Carol."""
    await meet(bot, CAROL)
    carol_says = bot.fake.message("hello all", user_id=CAROL, chat_id=GROUP)
    message_id = carol_says["message"]["message_id"]
    reply = await bot.say("/award 7 thanks", chat_id=GROUP, reply_to_message_id=message_id)
    assert "Awarded 7 points to Carol" in reply["plain_text"]


async def test_usage_reply_and_stray_text(bot: Harness) -> None:
    await meet(bot, BOB)
    usage = await bot.say("/award @bob")
    assert "Usage:" in usage["plain_text"] and "/award @member AMOUNT REASON" in usage["text"]
    since = bot.fake.mark()
    bot.fake.message("just chatting")  # no dialogue open: the core has nothing to say
    await bot.settle()
    assert bot.fake.records[since:] == []


# -- groups ------------------------------------------------------------------------------------


async def test_commands_in_a_group(bot: Harness) -> None:
    await meet(bot, BOB, ALICE)
    public = await bot.say("/leaderboard@campus_test_bot", user_id=BOB, chat_id=GROUP)
    assert "Leaderboard" in public["plain_text"]
    assert public["reply_to_message_id"] is not None
    for command, answer in (("/points", "Balance: 0 points"), ("/history", "No entries yet."),
                            ("/link", "Your link code is "), ("/timezone", "Your time zone is"),
                            ("/notify", "Notifications by direct message are on.")):
        since = bot.fake.mark()
        pointer = await bot.say(command, user_id=BOB, chat_id=GROUP)
        assert pointer["plain_text"] == "I sent you the answer in a private message."
        private = await bot.fake.wait_for_message(chat_id=BOB, since=since)
        assert answer in private["plain_text"], command
    group_texts = " ".join(r["plain_text"] for r in bot.fake.messages_to(GROUP))
    assert "Balance" not in group_texts and "link code" not in group_texts
    for command, expected in (("/start", "Welcome"), ("/help", "What you can do"),
                              ("/cancel", "nothing to cancel"),
                              ("/award @bob 3 group", "Awarded 3 points"),
                              ("/deduct @bob 1 group", "Deducted 1 point from"),
                              ("/grant @bob ambassador", "now an ambassador"),
                              ("/revoke @bob ambassador", "no longer")):
        assert expected in (await bot.say(command, chat_id=GROUP))["plain_text"]
    choose = await bot.say("/language", user_id=BOB, chat_id=GROUP)  # a public choice
    assert choose["plain_text"] == "Choose your language:" and len(buttons(choose)) == 2
    assert "not linked" in (await bot.say("/unlink", user_id=BOB, chat_id=GROUP,
                                          reply_chat=GROUP))["plain_text"]


async def test_group_usage_error_is_one_short_line(bot: Harness) -> None:
    reply = await bot.say("/award @bob", chat_id=GROUP)
    assert "\n" not in reply["plain_text"] and "Usage" not in reply["plain_text"]


async def test_private_reply_in_group_without_started_bot_gets_deep_link(bot: Harness) -> None:
    reply = await bot.say("/points", user_id=CAROL, chat_id=GROUP)
    assert "https://t.me/campus_test_bot?start=points" in reply["plain_text"]
    assert "Balance" not in reply["plain_text"]
    assert bot.fake.messages_to(CAROL) == []
    # Following the link runs /start points in the private chat.
    assert "Balance: 0 points" in (await bot.say("/start points", user_id=CAROL))["plain_text"]


async def test_group_cooldown_gives_one_reply(start_bot) -> None:
    bot = await start_bot(group_cooldown_seconds=30.0)
    await bot.say("/leaderboard", user_id=BOB, chat_id=GROUP)
    bot.fake.message("/leaderboard", user_id=BOB, chat_id=GROUP)
    bot.fake.message("/leaderboard", user_id=BOB, chat_id=GROUP)
    await bot.settle()
    assert len(bot.fake.messages_to(GROUP)) == 1
    other = await bot.say("/leaderboard", user_id=CAROL, chat_id=GROUP)  # someone else: fine
    assert "Leaderboard" in other["plain_text"]


async def test_stop_does_not_wait_a_minute_for_a_group_turn(start_bot, caplog) -> None:
    bot = await start_bot(paced=True, group_messages_per_minute=1)
    clock = bot.fake_clock()
    start = clock.now
    await bot.say("/help", chat_id=GROUP)  # the group's one message this minute
    bot.fake.message("/leaderboard", chat_id=GROUP)  # its answer has to wait for the next
    await until(lambda: clock.wakeups == [start + 60.0], "the answer waits for its turn")
    assert list(bot.adapter.pacer.chats[str(GROUP)].times) == [start, start + 60.0]
    # The fake clock never moves: a stop that waited for the turn would never end (the
    # timeout only turns that hang into a failure; nothing here measures how long stop took).
    await asyncio.wait_for(bot.adapter.stop(), timeout=60)
    assert clock.now == start
    assert first_lines(bot.fake.messages_to(GROUP)) == ["What you can do"]  # no leaderboard
    assert ("reply not sent: the bot is stopping and this chat's turn was 60 s away"
            in caplog.text)


async def test_pacing_per_chat_comes_from_config(start_bot) -> None:
    """`private_chat_burst` messages go at once, the next waits for the window, and another
    chat is not held up meanwhile."""
    bot = await start_bot(paced=True, private_chat_burst=2, private_chat_period_seconds=2.5)
    clock = bot.fake_clock()
    start = clock.now
    for _ in range(3):
        bot.fake.message("/help", user_id=BOB)
    await until(lambda: len(bot.fake.messages_to(BOB)) == 2 and clock.wakeups,
                "the burst sent and the third answer waiting")
    # The burst at once, the third booked for when the window has room again.
    assert list(bot.adapter.pacer.chats[str(BOB)].times) == [start, start, start + 2.5]
    assert clock.wakeups == [start + 2.5]
    other = await bot.say("/help", user_id=CAROL)  # while Bob's third waits: not held up
    assert first_lines([other]) == ["What you can do"] and len(bot.fake.messages_to(BOB)) == 2
    since = bot.fake.mark()
    clock.advance(2.5)
    await bot.fake.wait_for_message(chat_id=BOB, since=since)
    assert first_lines(bot.fake.messages_to(BOB)) == ["What you can do"] * 3


async def test_anonymous_admin_is_not_trusted(bot: Harness) -> None:
    await meet(bot, BOB)
    since = bot.fake.mark()
    bot.fake.anonymous_admin_message("/award @bob 50 as the group", chat_id=GROUP)
    reply = await bot.fake.wait_for_message(chat_id=GROUP, since=since)
    assert "Only an organiser" in reply["plain_text"]


async def test_trusted_anonymous_admin_is_an_organiser_of_its_own(start_bot) -> None:
    bot = await start_bot(trust_anonymous_admins=(GROUP,), group_cooldown_seconds=0.0)
    await meet(bot, BOB)
    since = bot.fake.mark()
    bot.fake.anonymous_admin_message("/award @bob 50 as the group", chat_id=GROUP)
    reply = await bot.fake.wait_for_message(chat_id=GROUP, since=since)
    assert "Awarded 50 points to Bob" in reply["plain_text"]
    async with bot.app.db.read() as conn:
        account = await member_repo.get_account(conn, "telegram", f"chat{GROUP}")
    assert account is not None  # "chat<id>", not GroupAnonymousBot's id


# -- languages ---------------------------------------------------------------------------------


async def test_chinese_and_english_replies(bot: Harness) -> None:
    chinese = await bot.say("/points", user_id=BOB, language_code="zh-hans")
    assert "余额" in chinese["plain_text"]
    english = await bot.say("/points", user_id=CAROL, language_code="en")
    assert "Balance" in english["plain_text"]
    await bot.say("/language en", user_id=BOB, language_code="zh-hans")
    assert "Balance" in (await bot.say("/points", user_id=BOB,
                                       language_code="zh-hans"))["plain_text"]


async def test_chat_locale_applies_without_language_code(start_bot) -> None:
    bot = await start_bot(chat_locales=(f"{GROUP}=zh_Hans",))
    reply = await bot.say("/leaderboard", user_id=CAROL, chat_id=GROUP, language_code=None)
    assert "排行榜" in reply["plain_text"]


async def test_language_button_edits_the_message(bot: Harness) -> None:
    choose = await bot.say("/language", user_id=BOB)
    since = bot.fake.mark()
    bot.fake.press_button(choose, "中文（简体）", user_id=BOB)
    edit = await bot.fake.wait_for_edit(since=since)
    assert edit["message_id"] == choose["message_id"]
    await bot.fake.wait_for_callback_answer(since=since)
    assert "余额" in (await bot.say("/points", user_id=BOB))["plain_text"]


async def test_menus_per_language_and_role(bot: Harness) -> None:
    fake = bot.fake
    default = {c["command"] for c in fake.commands({"type": "default"})}
    assert {"points", "history", "start"} <= default and "award" not in default
    chinese = fake.commands({"type": "default"}, language_code="zh")
    assert {c["command"] for c in chinese} == default
    assert chinese != fake.commands({"type": "default"}, language_code="en")
    organiser = {c["command"] for c in fake.menu(ALICE, ALICE)}
    assert {"award", "grant", "points"} <= organiser
    assert "award" not in {c["command"] for c in fake.menu(BOB, BOB)}


# -- buttons -----------------------------------------------------------------------------------


async def test_history_pages_edit_the_same_message(bot: Harness) -> None:
    await meet(bot, BOB)
    for n in range(15):
        await bot.say(f"/award @bob {n + 1} entry {n}")
    first = await history_of(bot, BOB)
    assert "Page 1 of 2" in first["plain_text"].splitlines() and buttons(first) == ["Older ›"]
    since = bot.fake.mark()
    bot.fake.press_button(first, "Older ›", user_id=BOB)
    edit = await bot.fake.wait_for_edit(since=since)
    assert edit["method"] == "editMessageText" and edit["message_id"] == first["message_id"]
    assert "Page 2 of 2" in edit["plain_text"].splitlines()
    assert [b["text"] for row in edit["reply_markup"]["inline_keyboard"] for b in row] == [
        "‹ Newer"]
    await bot.fake.wait_for_callback_answer(since=since)
    assert not bot.fake.unanswered_callbacks


async def test_tampered_and_foreign_presses_are_answered_without_effect(bot: Harness) -> None:
    await meet(bot, BOB, CAROL)
    for n in range(12):
        await bot.say(f"/award @bob {n + 1} entry {n}")
    page = await history_of(bot, BOB)
    stale = "This button no longer works. Please run the command again."
    for data, expected in (("garbage", stale), ("v1:nosuch:x", stale),
                           ("v1:pg:history:x:y", stale), ("v1:lang:set:xx",
                            "The language must be en or zh_Hans (you wrote “xx”).")):
        since = bot.fake.mark()
        bot.fake.press(page, data, user_id=BOB)
        answer = await bot.fake.wait_for_callback_answer(since=since)
        assert expected in answer["text"], data
    to_carol = len(bot.fake.messages_to(CAROL))
    since = bot.fake.mark()
    # Carol replays the "Older" payload of Bob's history: refused, nothing shown.
    older = page["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    bot.fake.press(page, older, user_id=CAROL)
    answer = await bot.fake.wait_for_callback_answer(since=since)
    assert "Only an organiser" in answer["text"]
    await bot.settle()
    assert bot.fake.edits == [] and len(bot.fake.messages_to(CAROL)) == to_carol
    assert not bot.fake.unanswered_callbacks


# -- delivery guarantees -----------------------------------------------------------------------


async def test_redelivered_update_awards_once(bot: Harness) -> None:
    await meet(bot, BOB)
    since = bot.fake.mark()
    update = bot.fake.message("/award @bob 10 once")
    await bot.fake.wait_for_message(chat_id=ALICE, since=since)
    bot.fake.redeliver(update)
    await bot.settle()
    assert "Balance: 10 points" in (await bot.say("/points", user_id=BOB))["plain_text"]


async def test_429_reply_arrives_after_retry_after(bot: Harness) -> None:
    clock = bot.fake_clock()
    start = clock.now
    bot.fake.fail_next("sendMessage", status=429, retry_after=1)
    since = bot.fake.mark()
    bot.fake.message("/points", user_id=BOB)
    await bot.fake.wait_for_request("sendMessage", lambda r: r["status"] == 429)
    # The chat is paused for retry_after and the resend booked for exactly then.
    await until(lambda: clock.wakeups == [start + 1.0], "the resend waits for retry_after")
    assert bot.adapter.pacer.chats[str(BOB)].paused_until == start + 1.0
    assert bot.fake.messages_to(BOB) == []
    clock.advance(1.0)
    reply = await bot.fake.wait_for_message(chat_id=BOB, since=since)
    assert reply["plain_text"].startswith("Balance: 0 points")
    assert [c["status"] for c in bot.fake.calls("sendMessage")] == [429, 200]


async def test_user_html_is_escaped(bot: Harness) -> None:
    await meet(bot, BOB)
    reply = await bot.say("/award @bob 5 <b>x</b> & <i>")
    assert "Reason: <b>x</b> & <i>" in reply["plain_text"]
    assert "&lt;b&gt;x&lt;/b&gt; &amp; &lt;i&gt;" in reply["text"]


# -- notifications -----------------------------------------------------------------------------


async def test_award_notifies_the_member_in_private(bot: Harness) -> None:
    await meet(bot, BOB)
    since = bot.fake.mark()
    bot.fake.message("/award @bob 12 demo day")
    notice = await bot.fake.wait_for_message(
        lambda r: "You received" in r["plain_text"], chat_id=BOB, since=since)
    assert notice["plain_text"].startswith("You received 12 points!\nReason: demo day")


async def test_blocked_member_is_marked_unreachable(bot: Harness) -> None:
    await meet(bot, BOB)
    bot.fake.block_user(BOB)
    await bot.say("/award @bob 12 demo day")
    request = await bot.fake.wait_for_request("sendMessage", lambda r: r["status"] == 403)
    assert request["chat_id"] == BOB
    for _ in range(100):
        async with bot.app.db.read() as conn:
            account = await member_repo.get_account(conn, "telegram", str(BOB))
        if not account.reachable:
            break
        await asyncio.sleep(0.02)
    assert account.reachable is False


# -- start-up and webhook ----------------------------------------------------------------------


async def test_bad_token_fails_fast(fake: FakeTelegram, start_bot) -> None:
    """Fast: one login attempt, no retry, no polling and no menus with a token Telegram
    refused."""
    with pytest.raises(StartupError, match="401 Unauthorized"):
        await start_bot(token="123:WRONG")
    assert [(r["method"], r["status"]) for r in fake.requests] == [("getMe", 401)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_webhook_rejects_missing_or_wrong_secret(start_bot) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/tg/hook"
    bot = await start_bot(mode="webhook", webhook_listen=f"127.0.0.1:{port}", webhook_url=url,
                          webhook_secret="s3cret-_token")
    fake = bot.fake
    assert fake.webhook["url"] == url and fake.webhook["secret_token"] == "s3cret-_token"
    update = {"update_id": 1, "message": {
        "message_id": 1, "date": 0, "text": "/points", "chat": {"id": BOB, "type": "private"},
        "from": {"id": BOB, "is_bot": False, "first_name": "Bob", "username": "bob"},
        "entities": [{"type": "bot_command", "offset": 0, "length": 7}]}}
    fake.add_user(BOB, started=True)
    assert await fake.post_webhook(url, update, secret_token=None) == 403
    assert await fake.post_webhook(url, update, secret_token="wrong") == 403
    assert fake.messages_to(BOB) == []
    assert await fake.post_webhook(url, update) == 200
    reply = await fake.wait_for_message(chat_id=BOB)
    assert "Balance" in reply["plain_text"]


@pytest.mark.parametrize("chat_type", [ChatType.GROUP, ChatType.SUPERGROUP])
async def test_group_and_supergroup_are_both_groups(start_bot, chat_type) -> None:
    """In either kind of group the bot answers in the group, as a reply to the command, and a
    member repeating a command within the cooldown gets no second answer there."""
    bot = await start_bot(group_cooldown_seconds=30.0)
    bot.fake.add_chat(GROUP, chat_type)
    since = bot.fake.mark()
    command = bot.fake.message("/start", user_id=BOB, chat_id=GROUP)
    reply = await bot.fake.wait_for_message(chat_id=GROUP, since=since)
    assert "Welcome" in reply["plain_text"]
    assert reply["reply_to_message_id"] == command["message"]["message_id"]
    bot.fake.message("/start", user_id=BOB, chat_id=GROUP)
    await bot.settle()
    assert len(bot.fake.messages_to(GROUP)) == 1
