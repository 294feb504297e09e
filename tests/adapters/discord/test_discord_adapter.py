"""The Discord adapter end to end: real discord.py, the real core, FakeDiscord as the transport."""

from __future__ import annotations

import asyncio
import re

import pytest

from adapters.discord.app import DiscordAdapter, sync_now
from adapters.discord.render import LIMIT, split_content
from bot.app import App
from bot.commands import load_registry
from bot.errors import StartupError
from bot.reply import Span, Style
from tests.fakes.discord_api import EPHEMERAL, FakeDiscord

from .conftest import (
    CHANNEL_ID,
    GUILD_ID,
    MEMBER_ID,
    ORGANISER_ID,
    ORGANISER_ROLE,
    OTHER_ID,
    QUICK_READY,
    make_settings,
)

MANAGE_GUILD = 1 << 5


async def answer(record, timeout: float = 5.0):
    """The first message the user can read, after checking it was acknowledged in time.

    "In time" is Discord's 3-second deadline, which FakeDiscord enforces itself: a late
    callback is refused with 10062 and shows up in `rejections`.
    """
    message = await record.readable(timeout)
    assert record.acknowledged and record.rejections == []
    return message


def unbold(content: str) -> str:
    """The text as read, whether or not its numbers are shown **bold**."""
    return content.replace("**", "")


async def start_member(fake: FakeDiscord, user_id: int, name: str, locale: str = "en-US"):
    return await answer(await fake.slash("start", user_id=user_id, username=name, locale=locale))


# -- the tree ---------------------------------------------------------------------------------


async def test_every_command_is_a_slash_command_with_typed_options(fake, bot):
    synced = {c["name"]: c for c in fake.commands(GUILD_ID)}
    assert set(synced) == {spec.name for spec in load_registry()}
    award = {o["name"]: o for o in synced["award"]["options"]}
    assert award["member"]["type"] == 6 and award["member"]["required"]
    assert (award["amount"]["type"], award["amount"]["min_value"],
            award["amount"]["max_value"]) == (4, 1, 1_000_000)
    assert award["reason"]["type"] == 3 and award["reason"]["max_length"] == 200
    period = synced["leaderboard"]["options"][0]
    assert period["name"] == "period" and not period.get("required")
    assert [c["value"] for c in period["choices"]] == ["all", "month", "week"]
    assert int(synced["award"]["default_member_permissions"]) == MANAGE_GUILD
    assert synced["points"].get("default_member_permissions") is None


async def test_descriptions_are_localized_and_names_stay_english(fake, bot):
    award = next(c for c in fake.commands(GUILD_ID) if c["name"] == "award")
    assert award["description_localizations"]["zh-CN"] == "给成员发放积分。"
    assert not award.get("name_localizations")
    # Only enabled locales (en, zh_Hans): no Traditional Chinese or Japanese entries.
    assert set(award["description_localizations"]) <= {"zh-CN", "en-US", "en-GB"}
    period = next(c for c in fake.commands(GUILD_ID) if c["name"] == "leaderboard")
    assert period["options"][0]["description_localizations"]["zh-CN"] == "时间范围"


async def test_sync_only_when_the_schema_changed(fake, app, start_adapter):
    first = await start_adapter()
    assert fake.sync_count == 1 and first.synced == [GUILD_ID]
    await first.stop()
    second = await start_adapter()
    assert fake.sync_count == 1 and second.synced == []
    await sync_now(app)  # `campusbot discord-sync` forces one (and empties the global list)
    assert fake.sync_count == 3 and fake.commands(None) == []


async def test_global_sync_lets_member_commands_work_in_dms(tmp_path, fake):
    core = App(make_settings(tmp_path, fake, guild_ids=()))
    await core.start()
    adapter = DiscordAdapter(core, guild_ready_timeout=QUICK_READY)
    try:
        await adapter.start()
        synced = {c["name"]: c for c in fake.commands(None)}
        assert sorted(synced["points"]["contexts"]) == [0, 1]
        assert synced["award"]["contexts"] == [0]
        message = await answer(await fake.slash("points", user_id=MEMBER_ID, guild_id=None))
        assert message.ephemeral and "Balance" in message.content
    finally:
        await adapter.stop()
        await core.close()


async def test_moving_to_guild_commands_removes_the_old_global_ones(tmp_path, fake):
    """A bot first deployed globally, then given guild_ids: its commands must not show twice
    in the picker, so the global list is emptied, once."""
    for guild_ids in ((), (GUILD_ID,), (GUILD_ID,)):
        core = App(make_settings(tmp_path, fake, guild_ids=guild_ids))
        await core.start()
        adapter = DiscordAdapter(core, guild_ready_timeout=QUICK_READY)
        try:
            syncs = fake.sync_count
            await adapter.start()
            if guild_ids:
                assert fake.commands(None) == []
                assert "points" in {c["name"] for c in fake.commands(GUILD_ID)}
        finally:
            await adapter.stop()
            await core.close()
    assert fake.sync_count == syncs  # the third start changed nothing


# -- every command -----------------------------------------------------------------------------


MEMBER_COMMANDS = [
    ("start", {}, "Welcome"),
    ("help", {}, "What you can do"),
    ("help", {"command": "award"}, "Only an organiser can use /award."),
    ("language", {}, "Choose your language"),
    ("timezone", {"zone": "Asia/Shanghai"}, "Asia/Shanghai"),
    ("timezone", {}, "Asia/Shanghai"),
    ("notify", {"state": "off"}, "are off"),
    ("points", {}, "Balance: **0 points**"),
    ("history", {}, "Points history"),
    ("leaderboard", {"period": "week"}, "**Leaderboard — this week**"),
    ("link", {}, "link code"),
    ("unlink", {}, "not linked"),
    ("cancel", {}, "nothing to cancel"),
    ("award", {"member": OTHER_ID, "amount": 5, "reason": "x"}, "Only an organiser"),
]


async def test_member_commands_in_english(fake, bot):
    for name, options, expected in MEMBER_COMMANDS:
        record = await fake.slash(name, options, user_id=MEMBER_ID, username="amy")
        message = await answer(record)
        assert expected in message.content, (name, message.content)
        assert message.allowed_mentions == {"parse": []}
    personal = [r for r in fake.interactions if r.name in ("points", "history", "link")]
    assert all(r.ephemeral for r in personal)


async def test_organiser_commands(fake, bot):
    await start_member(fake, MEMBER_ID, "amy")
    boss = {"user_id": ORGANISER_ID, "username": "boss"}
    refusal = "That needs 500 points, but the balance is only 20."
    steps = [
        ("award", {"member": MEMBER_ID, "amount": 30, "reason": "talk"},
         "Awarded **30 points** to **amy**. Their balance is now 30 points."),
        ("deduct", {"member": MEMBER_ID, "amount": 10, "reason": "typo"},
         "Deducted **10 points** from **amy** as a correction. Their balance is now 20 points."),
        ("deduct", {"member": MEMBER_ID, "amount": 500, "reason": "x"}, refusal),
        ("grant", {"member": MEMBER_ID, "role": "ambassador"}, "ambassador"),
        ("revoke", {"member": MEMBER_ID, "role": "ambassador"}, "no longer"),
        ("points", {"member": MEMBER_ID}, "Balance: **20 points**"),
    ]
    for name, options, expected in steps:
        message = await answer(await fake.slash(name, options, **boss))
        shown = message.content if expected != refusal else unbold(message.content)
        assert expected in shown, (name, message.content)
    [refused] = [r for r in fake.interactions if r.readable_message is not None
                 and refusal in unbold(r.readable_message.content)]
    assert refused.name == "deduct" and refused.ephemeral  # an error is for the caller only


async def test_a_user_option_for_someone_new_to_the_bot(fake, bot):
    record = await fake.slash("award", {"member": OTHER_ID, "amount": 5, "reason": "welcome"},
                              user_id=ORGANISER_ID, resolved_users={OTHER_ID: "newbie"})
    message = await answer(record)
    assert "Awarded **5 points** to **newbie**." in message.content and not record.ephemeral


async def test_chinese(fake, bot):
    await start_member(fake, MEMBER_ID, "mei", locale="zh-CN")
    message = await answer(await fake.slash("points", user_id=MEMBER_ID, locale="zh-CN"))
    assert "余额" in message.content and message.ephemeral


async def test_the_language_choice_beats_the_client_locale(fake, bot):
    await answer(await fake.slash("language", {"code": "zh_Hans"}, user_id=MEMBER_ID))
    message = await answer(await fake.slash("points", user_id=MEMBER_ID, locale="en-US"))
    assert "余额" in message.content


async def test_first_reply_says_how_to_choose_a_language(fake, bot):
    record = await fake.slash("points", user_id=MEMBER_ID, locale="en-GB")
    await answer(record)
    hint = await fake.wait_for(lambda: record.followups, description="the language hint")
    assert r"/language zh\_Hans" in hint[0].content and hint[0].ephemeral
    again = await fake.slash("points", user_id=MEMBER_ID)
    await answer(again)
    await asyncio.sleep(0.1)
    assert not again.followups


async def test_ephemeral_personal_and_public_replies(fake, bot):
    await start_member(fake, MEMBER_ID, "amy")
    points = await fake.slash("points", user_id=MEMBER_ID)
    assert (await points.response())["data"]["flags"] & EPHEMERAL
    board = await fake.slash("leaderboard", user_id=MEMBER_ID)
    await answer(board)
    assert not board.ephemeral


# -- buttons ----------------------------------------------------------------------------------


async def award_many(fake: FakeDiscord, count: int) -> None:
    for number in range(count):
        await answer(await fake.slash("award", {"member": MEMBER_ID, "amount": number + 1,
                                                "reason": f"r{number}"}, user_id=ORGANISER_ID))


async def history_message(fake: FakeDiscord):
    record = await fake.slash("history", user_id=MEMBER_ID)
    message = await answer(record)
    assert message.ephemeral and len(message.custom_ids) == 1
    return message


async def test_history_pages_edit_the_message(fake, bot):
    await start_member(fake, MEMBER_ID, "amy")
    await award_many(fake, 15)
    message = await history_message(fake)
    assert "r14" in message.content and "r0" not in message.content
    press = await fake.press(message, message.custom_ids[0], user_id=MEMBER_ID)
    assert (await press.response())["type"] == 7
    assert "r0" in message.content and "r14" not in message.content
    assert message.custom_ids and message.custom_ids[0].startswith("v1:pg:history:")


async def test_a_button_works_after_a_restart(fake, app, start_adapter):
    first = await start_adapter()
    await start_member(fake, MEMBER_ID, "amy")
    await award_many(fake, 12)
    message = await history_message(fake)
    await first.stop()
    await start_adapter()
    await fake.wait_connected()
    press = await fake.press(message, message.custom_ids[0], user_id=MEMBER_ID)
    await press.readable()
    assert "r0" in message.content


@pytest.mark.parametrize("custom_id", ["v1:pg:nonsense", "v1:pg:history:2:NOSUCHTOKEN",
                                       "v0:old:thing", "garbage"])
async def test_unknown_or_tampered_buttons_get_a_polite_answer(fake, bot, custom_id):
    await start_member(fake, MEMBER_ID, "amy")
    await award_many(fake, 12)
    message = await history_message(fake)
    press = await fake.press(message, custom_id, user_id=MEMBER_ID)
    reply = await answer(press)
    assert "no longer works" in reply.content and reply.ephemeral
    assert "r11" in message.content  # the page itself was not touched


async def test_a_stale_button_on_the_message_gets_a_polite_answer(fake, bot):
    await start_member(fake, MEMBER_ID, "amy")
    await award_many(fake, 12)
    message = await history_message(fake)
    stale = message.custom_ids[0].replace("v1:pg:", "v1:gone:")
    message.components[0]["components"][0]["custom_id"] = stale  # an older version's button
    reply = await answer(await fake.press(message, stale, user_id=MEMBER_ID))
    assert reply.ephemeral and "no longer works" in reply.content


# -- Discord's failures and safety --------------------------------------------------------------


async def test_a_429_on_the_callback_is_retried(fake, bot):
    failure = fake.fail_next("POST", r"/callback$", status=429, retry_after=0.3)
    record = await fake.slash("leaderboard", user_id=MEMBER_ID)
    message = await answer(record)
    assert len(failure.hits) == 1 and record.callback_type == 4
    assert message.content.startswith("**Leaderboard — all time**")


async def test_a_429_on_a_follow_up_is_retried(fake, app, start_adapter):
    await start_adapter(fast_answer=0.0)  # always defer, so the answer is a follow-up
    await fake.wait_connected()
    failure = fake.fail_next("POST", r"^/webhooks/", status=429, retry_after=0.3)
    record = await fake.slash("points", user_id=MEMBER_ID)
    message = await answer(record)
    assert failure.hits and record.callback_type == 5
    assert "Balance" in message.content and message.ephemeral


async def test_a_deferred_public_answer(fake, app, start_adapter):
    await start_adapter(fast_answer=0.0)
    await fake.wait_connected()
    record = await fake.slash("leaderboard", user_id=MEMBER_ID)
    message = await answer(record)
    assert record.callback_type == 5 and not message.ephemeral and not message.loading


async def test_user_text_is_escaped_and_pings_nobody(fake, bot):
    await start_member(fake, MEMBER_ID, "amy")
    record = await fake.slash("award", {"member": MEMBER_ID, "amount": 5,
                                        "reason": "**x** @everyone <@&6001> @here"},
                              user_id=ORGANISER_ID)
    message = await answer(record)
    assert r"\*\*x\*\*" in message.content
    assert "@everyone" not in message.content and "@here" not in message.content
    assert message.allowed_mentions == {"parse": []}
    assert not message.pings_everyone and not message.pinged_role_ids


async def test_a_discord_role_makes_an_organiser_on_discord(fake, bot):
    await start_member(fake, MEMBER_ID, "amy")
    options = {"member": MEMBER_ID, "amount": 7, "reason": "help"}
    lead = await answer(await fake.slash("award", options, user_id=OTHER_ID,
                                         roles=[ORGANISER_ROLE]))
    assert "Awarded **7 points** to **amy**." in lead.content and not lead.ephemeral
    plain = await answer(await fake.slash("award", options, user_id=OTHER_ID + 1))
    assert "Only an organiser" in plain.content and plain.ephemeral


# -- notifications ---------------------------------------------------------------------------


async def test_notifications_by_dm_and_a_closed_dm(fake, bot):
    await start_member(fake, MEMBER_ID, "amy")
    await start_member(fake, OTHER_ID, "bo")
    fake.close_dms(OTHER_ID)
    for user in (MEMBER_ID, OTHER_ID):
        await answer(await fake.slash("award", {"member": user, "amount": 3, "reason": "quiz"},
                                      user_id=ORGANISER_ID))
    dms = await fake.wait_for(lambda: fake.dm_messages(MEMBER_ID), description="a DM")
    assert dms[0].content.startswith("You received **3 points**!\nReason: _quiz_")
    assert dms[0].allowed_mentions == {"parse": []}
    await fake.wait_for(lambda: any(r.status == 403 for r in fake.requests),
                        description="the 50007 answer")
    assert not fake.dm_messages(OTHER_ID)
    # The adapter lives on and still answers.
    assert "Balance" in (await answer(await fake.slash("points", user_id=OTHER_ID))).content


async def test_a_channel_notice_is_sent_to_the_channel(fake, bot):
    from bot.delivery import Recipient, Status
    from bot.reply import Text

    outcome = await bot.send(Recipient(None, None, f"discord:{CHANNEL_ID}", "en", "UTC"),
                             Text().add("Hello @everyone").reply())
    assert outcome.status is Status.SENT
    [sent] = [m for m in fake.channel_messages(CHANNEL_ID) if m.content.startswith("Hello")]
    assert sent.content == "Hello @\u200beveryone"  # reads "@everyone", pings nobody
    assert not sent.pings_everyone and sent.allowed_mentions == {"parse": []}


# -- start-up --------------------------------------------------------------------------------


async def test_a_bad_token_fails_fast(tmp_path, fake):
    """Fast: the one login request is refused and nothing follows it (no retry, no gateway)."""
    core = App(make_settings(tmp_path, fake, token="wrong"))
    await core.start()
    try:
        with pytest.raises(StartupError, match="rejected the token"):
            await DiscordAdapter(core, guild_ready_timeout=QUICK_READY).start()
    finally:
        await core.close()
    assert [(r.method, r.path, r.status) for r in fake.requests] == [("GET", "/users/@me", 401)]
    assert fake.live_connections == 0


async def test_shard_count_runs_the_given_shards(tmp_path, fake):
    core = App(make_settings(tmp_path, fake, shard_count=2, shard_ids=(0,)))
    await core.start()
    adapter = DiscordAdapter(core, guild_ready_timeout=QUICK_READY)
    try:
        await adapter.start()
        assert adapter.client.shard_count == 2 and set(adapter.client.shards) == {0}
        await fake.wait_connected()
        assert "Balance" in (await answer(await fake.slash("points", user_id=MEMBER_ID))).content
    finally:
        await adapter.stop()
        await core.close()


# -- rendering --------------------------------------------------------------------------------


def test_long_replies_split_under_the_limit_without_breaking_markup():
    lines = [Span(f"line {n} " + "*" * 30 + "\n") for n in range(200)]
    spans = (*lines, Span("x" * 3000, Style.BOLD))
    parts = split_content(spans)
    assert len(parts) > 2 and all(len(p) <= LIMIT for p in parts)
    assert all(p.count("**") % 2 == 0 for p in parts)  # each part closes the bold it opens
    # All the text arrives: every line once, and the whole bold run, bold in every part.
    assert sum(p.count("line ") for p in parts) == 200
    bold_runs = [run for p in parts for run in re.findall(r"\*\*(x+)\*\*", p)]
    assert len(bold_runs) > 1 and "".join(bold_runs) == "x" * 3000
