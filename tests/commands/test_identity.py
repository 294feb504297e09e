"""Identity and settings through the console: linking, roles, language, time zone, notices."""

from __future__ import annotations

import re

from bot.model import Role

ORG = Role.ORGANISER


def _code(out: str) -> str:
    return re.search(r"Your link code is ([A-Z0-9]{8})\.", out).group(1)


async def test_link_joins_balances_and_histories(term):
    await term.say("boss", "/award @tg_alice 30 on telegram")
    await term.say("boss", "/award @dc_alice 12 on discord")
    code = _code(await term.say("tg_alice", "/link"))
    out = await term.say("dc_alice", f"/link {code}")
    assert "Linked!" in out and "Balance: 42 points" in out
    assert "Balance: 42 points" in await term.say("tg_alice", "/points")
    history = await term.say("tg_alice", "/history")
    assert "on telegram" in history and "on discord" in history


async def test_link_code_is_single_use_and_expires(term, clock):
    code = _code(await term.say("ann", "/link"))
    assert "Linked!" in await term.say("ann2", f"/link {code}")
    assert "unknown, used or expired" in await term.say("ann3", f"/link {code}")
    code = _code(await term.say("ann", "/link"))
    clock.advance(minutes=11)
    assert "unknown, used or expired" in await term.say("ann4", f"/link {code}")


async def test_link_keeps_higher_role_and_issuers_settings(term):
    await term.say("boss", "/grant @helper ambassador")
    await term.say("issuer", "/language zh_Hans")
    code = _code(await term.say("helper", "/link"))
    # helper issued the code: its member stays, with its role and its (English) settings.
    await term.say("issuer", f"/link {code}")
    assert "Balance" in await term.say("issuer", "/points")
    assert "already has the ambassador role" in await term.say("boss", "/grant @issuer ambassador")


async def test_unlink_starts_over_with_no_points(term):
    await term.say("boss", "/award @main 20 work")
    code = _code(await term.say("main", "/link"))
    await term.say("alt", f"/link {code}")
    out = await term.say("alt", "/unlink")
    assert "no points" in out
    assert "Balance: 0 points" in await term.say("alt", "/points")
    assert "Balance: 20 points" in await term.say("main", "/points")
    assert "not linked" in await term.say("alt", "/unlink")


async def test_grant_and_revoke_roles(term):
    assert "is now an ambassador" in await term.say("boss", "/grant @amy ambassador")
    assert "already has" in await term.say("boss", "/grant @amy ambassador")
    assert "is now an organiser" in await term.say("boss", "/grant @amy organiser")
    assert "Awarded" in await term.say("amy", "/award @zed 1 test")
    assert "no longer an organiser" in await term.say("boss", "/revoke @amy organiser")
    assert "Only an organiser" in await term.say("amy", "/award @zed 1 test")
    assert "Only an organiser" in await term.say("amy", "/grant @amy organiser")


async def test_config_role_cannot_be_revoked_in_chat(term):
    await term.say("boss", "/grant @amy organiser")
    out = await term.say("amy", "/revoke @boss organiser")
    assert "comes from the bot's configuration" in out
    assert "Awarded" in await term.say("boss", "/award @zed 1 still organiser")


async def test_language_switch_changes_replies_and_number_format(term):
    out = await term.say("li", "/language zh_Hans")
    assert "中文" in out
    out = await term.say("li", "/points")
    assert "余额" in out
    out = await term.say("li", "/language xx")
    assert "en, zh_Hans" in out


async def test_platform_hint_picks_the_language_until_a_choice_is_made(term):
    assert "余额" in await term.say("wang", "/points", locale="zh-CN")
    await term.say("wang", "/language en", locale="zh-CN")
    assert "Balance" in await term.say("wang", "/points", locale="zh-CN")


async def test_timezone_show_set_and_reject(term):
    assert "UTC" in await term.say("tz", "/timezone")
    assert "Asia/Jakarta" in await term.say("tz", "/timezone Asia/Jakarta")
    out = await term.say("tz", "/timezone Mars/Olympus")
    assert "IANA time zone" in out and "Usage: /timezone [ZONE]" in out


async def test_notify_off_keeps_history_but_sends_nothing(term):
    assert "off" in await term.say("quiet", "/notify off")
    await term.say("boss", "/award @quiet 5 shh")
    opened = await term.opened("quiet")
    assert "[to quiet]" not in opened
    assert "shh" in await term.say("quiet", "/history")
    assert "are on" in await term.say("quiet", "/notify on")


async def test_start_welcomes_and_offers_languages(term):
    out = await term.say("newbie", "/start")
    assert "Welcome" in out
    assert "[1] English" in out and "[2] 中文 (简体)" in out
    out = await term.say("newbie", "/press 2")
    assert "中文" in out
    assert "余额" in await term.say("newbie", "/points")


async def test_start_payload_runs_a_private_command(term):
    await term.say("boss", "/award @deep 3 hi")
    assert "Balance: 3 points" in await term.say("deep", "/start points")


async def test_help_lists_only_what_the_caller_may_use(term):
    member = await term.say("pleb", "/help")
    assert "/points" in member and "/award" not in member
    organiser = await term.say("boss", "/help")
    assert "/award @member AMOUNT REASON…" in organiser
    assert "Usage: /history [@member]" in await term.say("pleb", "/help history")
    assert "no command /award" in await term.say("pleb", "/help award")


async def test_cancel_without_dialogue(term):
    assert "nothing to cancel" in await term.say("x", "/cancel")


async def test_unknown_member_on_telegram_must_talk_first(app):
    from bot.model import Actor, ChatRef, Invocation, Platform

    boss = Actor(Platform.TELEGRAM, "1", username="boss")
    app.services.members._config_roles["telegram:1"] = Role.ORGANISER  # as [roles] would
    inv = Invocation(boss, ChatRef(Platform.TELEGRAM, "1"), "telegram:1", command="award",
                     text="@ghost 5 hello")
    reply = await app.dispatcher.handle(inv)
    assert "must first send me a message" in reply.plain_text
