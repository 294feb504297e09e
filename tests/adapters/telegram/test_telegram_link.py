"""Linking through the real Telegram adapter: a deep link previews and asks, never links by
itself, never lifts a role, and a posted t.me/<bot>?start=unlink detaches nobody."""

from __future__ import annotations

import re

from tests.adapters.telegram.conftest import ALICE, BOB, CAROL, Harness


def buttons(record: dict) -> list[str]:
    markup = record.get("reply_markup") or {}
    return [b["text"] for row in markup.get("inline_keyboard", []) for b in row]


async def code_of(bot: Harness, user: int) -> str:
    reply = await bot.say("/link", user_id=user)
    return re.search(r"Your link code is ([A-Z0-9]{8})\.", reply["plain_text"]).group(1)


async def test_an_organiser_tapping_a_members_link_is_refused(bot: Harness) -> None:
    await bot.say("/start", user_id=BOB)
    code = await code_of(bot, BOB)
    refused = await bot.say(f"/start link-{code}", user_id=ALICE)  # ALICE: organiser by config
    assert "This account has the organiser role" in refused["plain_text"]
    assert buttons(refused) == []
    award = await bot.say("/award @bob 100 free points", user_id=BOB)
    assert "Only an organiser can do that." in award["plain_text"]


async def test_a_deep_link_previews_then_the_button_links(bot: Harness) -> None:
    await bot.say("/start", user_id=CAROL)
    code = await code_of(bot, CAROL)
    preview = await bot.say(f"/start link-{code}", user_id=BOB)
    assert "Link this account to another member?" in preview["plain_text"]
    assert buttons(preview) == ["Link accounts", "Cancel"]
    since = bot.fake.mark()
    bot.fake.press_button(preview, "Link accounts", user_id=BOB)
    linked = await bot.fake.wait_for_edit(since=since)
    assert linked["plain_text"].startswith("Linked!")
    await bot.fake.wait_for_callback_answer(since=since)

    tapped = await bot.say("/start unlink", user_id=BOB)  # a posted one-tap unlink link
    assert "Welcome" in tapped["plain_text"]
    again = await bot.say("/link " + code, user_id=BOB)
    assert "already linked" in again["plain_text"]
    question = await bot.say("/unlink", user_id=BOB)
    assert buttons(question) == ["Detach this account", "Keep it linked"]
