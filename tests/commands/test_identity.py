"""Identity and settings through the console: linking, roles, language, time zone, notices."""

from __future__ import annotations

import re

from bot.model import Role

ORG = Role.ORGANISER


def _code(out: str) -> str:
    return re.search(r"Your link code is ([A-Z0-9]{8})\.", out).group(1)


async def _link(term, issuer: str, joiner: str, **joiner_session) -> str:
    """`joiner` opens `issuer`'s code and confirms; returns what the confirmation printed."""
    code = _code(await term.say(issuer, "/link"))
    preview = await term.say(joiner, f"/link {code}", **joiner_session)
    assert "[1] " in preview and "[2] " in preview, preview  # Link accounts, Cancel
    return await term.say(joiner, "/press 1", **joiner_session)


async def test_link_joins_balances_and_histories(term):
    await term.say("boss", "/award @tg_alice 30 on telegram")
    await term.say("boss", "/award @dc_alice 12 on discord")
    out = await _link(term, "tg_alice", "dc_alice")
    assert "Linked!" in out and "Balance: 42 points" in out
    assert "Balance: 42 points" in await term.say("tg_alice", "/points")
    history = await term.say("tg_alice", "/history")
    assert "on telegram" in history and "on discord" in history


async def test_opening_a_code_shows_both_sides_and_links_nothing_until_confirmed(term):
    await term.say("boss", "/award @ann 30 video")
    await term.say("boss", "/award @ann_alt 5 post")
    code = _code(await term.say("ann", "/link"))
    preview = await term.say("ann_alt", f"/link {code.lower()}")
    assert "The code was made by ann: 30 points, role member." in preview
    assert "This account (ann_alt): 5 points, role member." in preview
    assert "After linking, both accounts share one member: 35 points" in preview
    assert "Nothing was linked." in await term.say("ann_alt", "/press 2")
    assert "Balance: 5 points" in await term.say("ann_alt", "/points")
    assert "Balance: 30 points" in await term.say("ann", "/points")
    await term.say("ann_alt", f"/link {code}")
    assert "Balance: 35 points" in await term.say("ann_alt", "/press 1")


async def test_link_code_is_single_use_and_expires(term, clock):
    code = _code(await term.say("ann", "/link"))
    await term.say("ann2", f"/link {code}")
    assert "Linked!" in await term.say("ann2", "/press 1")
    assert "unknown, used or expired" in await term.say("ann3", f"/link {code}")
    code = _code(await term.say("ann", "/link"))
    await term.say("ann4", f"/link {code}")
    clock.advance(minutes=11)
    expired = await term.say("ann4", "/press 1")  # the code expired while the preview was open
    assert "unknown, used or expired" in expired and "a code lasts 10 minutes" in expired


async def test_a_code_used_again_by_the_same_account_says_already_linked(term):
    code = _code(await term.say("ann", "/link"))
    await term.say("ann2", f"/link {code}")
    await term.say("ann2", "/press 1")
    assert "already linked" in await term.say("ann2", f"/link {code}")


async def test_link_keeps_higher_role_and_issuers_settings(term):
    await term.say("boss", "/grant @helper ambassador")
    await term.say("issuer", "/language zh_Hans")
    # helper (an ambassador) issues the code: its member stays, with its role and settings.
    await _link(term, "helper", "issuer")
    assert "Balance" in await term.say("issuer", "/points")
    assert "already has the ambassador role" in await term.say("boss", "/grant @issuer ambassador")


async def test_an_organiser_opening_a_members_code_is_refused_and_nothing_moves(term):
    """The escalation: a member posts their code and an organiser opens it."""
    await term.say("boss", "/award @mallory 3 hi")
    code = _code(await term.say("mallory", "/link"))
    refused = await term.say("boss", f"/link {code}")  # boss is an organiser by config
    assert "This account has the organiser role" in refused
    assert "Send /link on this account instead" in refused
    assert "[1]" not in refused
    assert "Only an organiser" in await term.say("mallory", "/award @mallory 100 free")
    assert "Only an organiser" in await term.say("mallory", "/grant @mallory organiser")


async def test_granted_and_terminal_roles_are_refused_too(term):
    await term.say("boss", "/grant @carol organiser")
    code = _code(await term.say("mallory", "/link"))
    assert "has the organiser role" in await term.say("carol", f"/link {code}")
    # A console started with --role organiser holds the role for that session only.
    refused = await term.say("root", f"/link {code}", role=ORG)
    assert "has the organiser role" in refused
    assert "Only an organiser" in await term.say("mallory", "/award @mallory 1 x")


async def test_the_higher_side_issues_the_code_and_the_link_keeps_its_role(term):
    """The other direction works: the organiser's own code, opened on their other account."""
    await term.say("boss", "/grant @carol organiser")
    preview = await term.say("carol_alt", "/link " + _code(await term.say("carol", "/link")))
    assert "After linking" in preview and "role organiser" in preview
    assert "Linked!" in await term.say("carol_alt", "/press 1")
    assert "Awarded" in await term.say("carol_alt", "/award @zed 1 test")


async def test_a_start_link_payload_previews_and_never_links_by_itself(term):
    code = _code(await term.say("ann", "/link"))
    preview = await term.say("ann_tg", f"/start link-{code}")
    assert "Link this account to another member?" in preview and "[1] Link accounts" in preview
    assert "Balance: 0 points" in await term.say("ann_tg", "/points")
    code = _code(await term.say("mallory", "/link"))
    assert "has the organiser role" in await term.say("boss", f"/start link-{code}")


async def test_start_runs_only_declared_payloads(term):
    await term.say("boss", "/award @deep 3 hi")
    assert "Balance: 3 points" in await term.say("deep", "/start points")
    await _link(term, "deep", "deep_alt")
    welcome = await term.say("deep_alt", "/start unlink")
    assert "Welcome" in welcome and "Detach this account from its member?" not in welcome
    assert "Balance: 3 points" in await term.say("deep_alt", "/points")  # still linked
    assert "Welcome" in await term.say("boss", "/start award")


async def test_unlink_asks_first_then_starts_over_with_no_points(term):
    await term.say("boss", "/award @main 20 work")
    await _link(term, "main", "alt")
    question = await term.say("alt", "/unlink")
    assert "Detach this account from its member?" in question
    assert "stays linked" in await term.say("alt", "/press 2")
    assert "Balance: 20 points" in await term.say("alt", "/points")
    await term.say("alt", "/unlink")
    assert "no points" in await term.say("alt", "/press 1")
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
    assert "语言只能是 en或zh_Hans（你写的是“xx”）。" in out


async def test_platform_hint_picks_the_language_until_a_choice_is_made(term):
    assert "余额" in await term.say("wang", "/points", locale="zh-CN")
    await term.say("wang", "/language en", locale="zh-CN")
    assert "Balance" in await term.say("wang", "/points", locale="zh-CN")


async def test_timezone_show_set_and_reject(term):
    assert "UTC" in await term.say("tz", "/timezone")
    assert "Asia/Jakarta" in await term.say("tz", "/timezone Asia/Jakarta")
    out = await term.say("tz", "/timezone Mars/Olympus")
    assert "IANA time zone" in out and "Usage: /timezone [ZONE]" in out


async def test_timezone_names_in_any_case_and_folder_names(term):
    assert "Your time zone is now UTC" in await term.say("tz", "/timezone utc")
    assert "now Asia/Shanghai" in await term.say("tz", "/timezone asia/shanghai")
    for folder in ("America", "Asia", "Europe", "America/Argentina"):
        out = await term.say("tz", f"/timezone {folder}")
        assert (f"Write the zone as an IANA time zone such as Asia/Shanghai or Europe/Lisbon "
                f"(you wrote “{folder}”)." in out and "Sorry" not in out), out
        assert f"“{folder}” is a region; zones in it include {folder}/" in out, out


async def test_an_argument_of_only_control_characters_counts_as_not_given(term):
    await term.say("boss", "/award @ctl 4 hi")
    out = await term.say("ctl", "/points \x00\x01")
    assert "Balance: 4 points" in out and "missing" not in out


async def test_notify_off_keeps_history_but_sends_nothing(term):
    off = await term.say("quiet", "/notify off")
    assert off.startswith("Notifications by direct message are off.")
    await term.say("boss", "/award @quiet 5 shh")
    opened = await term.opened("quiet")
    assert "[to quiet]" not in opened
    assert "shh" in await term.say("quiet", "/history")
    assert (await term.say("quiet", "/notify")).startswith(
        "Notifications by direct message are off.")
    on = await term.say("quiet", "/notify on")
    assert on.startswith("Notifications by direct message are on.")
    await term.say("boss", "/award @quiet 6 loud")
    assert "[to quiet]" in await term.opened("quiet")


async def test_start_welcomes_and_offers_languages(term):
    out = await term.say("newbie", "/start")
    assert "Welcome" in out
    assert "[1] English" in out and "[2] 中文（简体）" in out
    out = await term.say("newbie", "/press 2")
    assert "中文" in out
    assert "余额" in await term.say("newbie", "/points")


async def test_help_lists_only_what_the_caller_may_use(term):
    member = await term.say("pleb", "/help")
    assert "/points" in member and "/award" not in member
    organiser = await term.say("boss", "/help")
    assert "/award @member AMOUNT REASON…" in organiser
    assert "Usage: /history [@member]" in await term.say("boss", "/help history")
    history = await term.say("pleb", "/help history")
    assert "Usage: /history\n" in history and "@member" not in history
    assert await term.say("pleb", "/help award") == "Only an organiser can use /award."


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


async def test_grant_and_revoke_tell_the_member(term):
    await term.say("amy", "/start")
    await term.say("boss", "/grant @amy ambassador")
    opened = await term.opened("amy")
    assert "[to amy] An organiser gave you the ambassador role." in opened
    await term.say("boss", "/revoke @amy ambassador")
    assert "[to amy] An organiser took the ambassador role from you." in await term.opened("amy")
    await term.say("boss", "/revoke @amy ambassador")  # nothing to take: nothing to tell
    assert "[to amy]" not in await term.opened("amy")


async def test_member_names_are_case_insensitive(term):
    await term.say("Bob", "/start")
    assert "Awarded 5 points to Bob." in await term.say("boss", "/award @bob 5 hi")
    assert "Awarded 2 points to Bob." in await term.say("boss", "/award @BOB 2 hi")
    assert "Balance: 7 points" in await term.say("Bob", "/points")


async def test_a_console_account_is_made_only_by_an_organiser_who_is_told(term):
    out = await term.say("boss", "/award @bbo 5 typo")
    assert out.endswith("Created the console account @bbo.")
    assert "Created" not in await term.say("boss", "/award @bbo 1 again")
    await term.say("boss", "/grant @amb ambassador")
    refused = await term.say("amb", "/points @nobody_yet")
    assert "Created" not in refused
    # An ambassador's reference made no account: the organiser's first reference does.
    assert (await term.say("boss", "/points @nobody_yet")).endswith(
        "Created the console account @nobody_yet.")
