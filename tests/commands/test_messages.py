"""What a member reads: whole sentences in their own language, dates nobody misreads, and help
that shows only what the reader may use."""

from __future__ import annotations

import re

from adapters.console.parse import parse_line
from bot.app import App
from bot.commands import general, identity, points
from bot.model import Actor, Platform, Role
from bot.reply import Reply, Style
from bot.spec import Registry
from tests.commands.conftest import Terminal
from tests.conftest import make_settings

ORG = Role.ORGANISER
ZH = "zh-CN"


async def test_a_usage_error_names_the_argument_in_english(term):
    out = await term.say("boss", "/award @bob")
    assert out.splitlines()[:2] == ["The amount is missing.",
                                    "Usage: /award @member AMOUNT REASON…"]
    assert "• AMOUNT — How many points (1 to 1,000,000)" in out.splitlines()
    out = await term.say("boss", "/award bob 5 thanks")
    assert out.startswith("Write the member as @name (you wrote “bob”).\n")
    out = await term.say("alice", "/leaderboard year")
    assert out.startswith("The period must be all, month, or week (you wrote “year”).\n")
    # A key written as name=value stays the contract's English name.
    out = await term.say("boss", "/award @bob amount=5 amount=6 thanks")
    assert out.startswith("You gave the amount twice (amount=); give it once.\n")


async def test_a_usage_error_names_the_argument_in_chinese(term):
    out = await term.say("boss", "/award @bob 5", locale=ZH)
    assert out.splitlines()[:2] == ["还缺少原因。", "用法：/award @成员 数量 原因…"]
    assert "• 数量：积分数量（1 至 1,000,000）" in out.splitlines()
    out = await term.say("boss", "/award bob 5 谢谢", locale=ZH)
    assert out.startswith("成员要写成 @用户名 的形式（你写的是“bob”）。\n")
    out = await term.say("boss", "/award @bob 0 谢谢", locale=ZH)
    assert out.startswith("数量必须在 1 到 1,000,000 之间。\n")
    out = await term.say("boss", "/award @bob amount=5 amount=6 谢谢", locale=ZH)
    assert out.startswith("数量写了两次（amount=），请只写一次。\n")


async def _reply(app, user: str, line: str, locale: str | None = None) -> Reply:
    actor = Actor(Platform.CONSOLE, user, username=user, locale_hint=locale)
    return await app.dispatcher.handle(parse_line(line, actor))


def _english_words(reply: Reply, names: tuple[str, ...]) -> list[str]:
    """ASCII words in a reply's prose: code spans (usage lines), /commands, @names, members'
    names and quoted user input are the reader's own or the contract's, so they do not count.
    The language lines of /start are each written in their own language on purpose."""
    prose = "".join(span.text for span in reply.spans if span.style != Style.CODE)
    prose = "\n".join(line for line in prose.splitlines() if not line.startswith("English: "))
    prose = re.sub(r"“[^”]*”|[/@]\S+", " ", prose)
    return [word for word in re.findall(r"[A-Za-z]{2,}", prose) if word not in names]


async def test_chinese_replies_have_no_english_words(app):
    await _reply(app, "boss", "/award @li 5 欢迎")
    for user, line in (("li", "/help"), ("li", "/start"), ("boss", "/help"),
                       ("boss", "/award @li"), ("boss", "/award li 5 谢谢"),
                       ("li", "/help award"), ("li", "/points @boss"), ("li", "/history"),
                       ("li", "/leaderboard")):
        reply = await _reply(app, user, line, locale=ZH)
        assert reply.plain_text, line
        # Names and ids: the members, and the language codes /language takes.
        assert _english_words(reply, ("li", "boss", "en", "zh_Hans", "zh", "Hans")) == [], (
            line, reply.plain_text)


async def test_language_names_are_written_as_chinese_writes_them(term):
    assert await term.say("li", "/language zh_Hans") == "好的，之后我会用中文（简体）和你交流。"
    assert "中文（简体）：发送 /language zh_Hans 选择此语言" in await term.say("li", "/start")


async def test_dates_are_medium_never_the_numeric_short_form(term):
    await term.say("boss", "/award @bob 5 video")
    history = await term.say("bob", "/history")
    assert "Nov 25, 2026, 12:00\u202fPM  +5  award — video" in history.splitlines()
    assert "11/25/26" not in history
    zone = await term.say("bob", "/timezone")
    assert zone.startswith("Your time zone is UTC; it is now Nov 25, 2026, 12:00\u202fPM there.")
    history = await term.say("bob", "/history", locale=ZH)
    assert "2026年11月25日 12:00  +5  奖励：video" in history.splitlines()
    moved = await term.say("bob", "/timezone Asia/Shanghai", locale=ZH)
    assert moved == "你的时区已设为 Asia/Shanghai，当地现在是2026年11月25日 20:00。"


async def test_a_members_help_has_no_organiser_options(term):
    member = (await term.say("pleb", "/help")).splitlines()
    assert "/points — Your balance and rank." in member
    assert "/history — Your points history, newest first." in member
    assert not any("@member" in line for line in member)
    organiser = (await term.say("boss", "/help")).splitlines()
    assert "/points [@member] — Your balance and rank." in organiser
    assert "/award @member AMOUNT REASON… — Award points to a member." in organiser
    assert (await term.say("pleb", "/help points")).splitlines() == [
        "Usage: /points", "Your balance and rank."]
    chinese = (await term.say("pleb", "/help", locale=ZH)).splitlines()
    assert "/points：你的余额和排名。" in chinese and "@成员" not in "\n".join(chinese)


async def test_a_member_giving_an_organisers_option_is_refused(term):
    await term.say("boss", "/award @carol 7 thanks")
    assert await term.say("mallory", "/points @carol") == "Only an organiser can do that."
    assert await term.say("mallory", "/history @carol") == "Only an organiser can do that."
    assert "Balance: 7 points" in await term.say("boss", "/points @carol")
    assert "thanks" in await term.say("boss", "/history @carol")


async def test_help_for_a_command_above_the_callers_role_names_the_role(term):
    assert await term.say("pleb", "/help award") == "Only an organiser can use /award."
    assert await term.say("pleb", "/help award", locale=ZH) == "只有组织者才能使用 /award。"
    assert (await term.say("pleb", "/help nosuch")).startswith("There is no command /nosuch.")


async def test_start_offers_only_the_features_that_exist(term, app):
    out = await term.say("newbie", "/start")
    offered = re.findall(r"^• /(\w+) — ", out, flags=re.MULTILINE)
    basics = {spec.name for spec in general.router.commands}
    expected = [s.name for s in app.registry if s.name not in basics and s.role == Role.MEMBER]
    assert offered == expected and "points" in offered
    assert "• /points — Your balance and rank." in out.splitlines()
    organiser = await term.say("boss", "/start")
    assert "• /award — Award points to a member." in organiser.splitlines()


async def test_start_promises_nothing_a_missing_feature_would_do(sqlite_url, clock):
    """A registry without the bounties and the mall: /start says nothing about them."""
    registry = Registry.build([general.router, points.router, identity.router])
    lean = App(make_settings(sqlite_url), clock=clock, registry=registry)
    await lean.start()
    try:
        out = await Terminal(lean).say("newbie", "/start")
        assert re.findall(r"^• /(\w+) — ", out, flags=re.MULTILINE) == [
            "points", "history", "leaderboard", "link", "unlink"]
        for promise in ("bount", "mall", "event", "redeem"):
            assert promise not in out.lower()
        assert "/cancel" not in await Terminal(lean).say("boss", "/help")  # no dialogues
    finally:
        await lean.close()


async def test_cancel_is_in_help_where_a_dialogue_can_be_cancelled(term, app):
    assert any(spec.dialogue for spec in app.registry)  # /newbounty, /newreward, …
    assert "/cancel — Leave a guided dialogue." in (await term.say("boss", "/help")).splitlines()
    assert await term.say("boss", "/cancel") == "There is nothing to cancel."


async def test_console_help_explains_press_and_usage_shows_the_bounds_once(term):
    from bot.model import Role

    assert "send /press 1 to press one." in await term.say("newbie", "/help")
    usage = await term.say("boss", "/help award", role=Role.ORGANISER)
    assert "How many points (1 to 1,000,000)" in usage
