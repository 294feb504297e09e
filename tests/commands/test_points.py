"""Points through the console: balance, rank, awards, corrections, history, leaderboards."""

from __future__ import annotations

import re

from bot.model import Role

ORG = Role.ORGANISER


async def test_new_member_has_no_points_and_no_rank(term):
    out = await term.say("alice", "/points")
    assert "Balance: 0 points" in out
    assert "No rank yet" in out


async def test_award_credits_member_and_notifies_them(term):
    out = await term.say("boss", "/award @bob 50 great video")
    assert "Awarded 50 points to bob" in out
    assert "Reason: great video" in out
    # bob opens a console later: the notice waited for him.
    opened = await term.opened("bob")
    assert "[to bob] You received 50 points!" in opened
    assert "[to bob] Reason: great video" in opened
    out = await term.say("bob", "/points")
    assert "Balance: 50 points" in out and "Rank: #1 (by points earned" in out


async def test_members_cannot_award_or_look_at_others(term):
    await term.say("boss", "/award @carol 10 hi")
    out = await term.say("mallory", "/award @mallory 1000 free")
    assert "Only an organiser can do that." in out
    out = await term.say("mallory", "/points @carol")
    assert out == "Only an organiser can do that."  # and nothing of carol's balance
    assert "Balance: 0 points" in await term.say("mallory", "/points")


async def test_organiser_sees_another_members_points(term):
    await term.say("boss", "/award @carol 7 thanks")
    out = await term.say("boss", "/points @carol")
    assert "carol" in out and "Balance: 7 points" in out


async def test_deduct_refused_beyond_balance_shows_balance(term):
    await term.say("boss", "/award @bob 30 video")
    out = await term.say("boss", "/deduct @bob 40 mistake")
    assert "That needs 40 points, but the balance is only 30." in out
    out = await term.say("boss", "/deduct @bob 10 duplicate award")
    assert "Deducted 10 points from bob" in out and "now 20 points" in out
    assert "Balance: 20 points" in await term.say("bob", "/points")


async def test_bad_amounts_explain_the_range(term):
    for amount in ("0", "1000001", "-5"):
        out = await term.say("boss", f"/award @bob {amount} x")
        assert out.startswith("The amount must be from 1 to 1,000,000.\n"), amount
        assert "Usage: /award @member AMOUNT REASON…" in out, amount
    out = await term.say("boss", "/award @bob ten x")
    assert out.startswith("Write the amount as a whole number, such as 50 (you wrote “ten”).")
    out = await term.say("boss", "/award @bob 1,000 fine")
    assert "Awarded 1,000 points" in out


async def test_missing_argument_answers_with_usage(term):
    out = await term.say("boss", "/award @bob")
    assert out.startswith("The amount is missing.\n")
    assert "Usage: /award @member AMOUNT REASON…" in out


async def test_history_pages_with_buttons(term):
    for i in range(12):
        await term.say("boss", f"/award @dave {i + 1} task {i + 1}")
    out = await term.say("dave", "/history")
    assert "Page 1 of 2" in out.splitlines()
    assert tasks_in(out) == list(range(12, 2, -1))  # newest first
    assert "[1] Older ›" in out
    out = await term.say("dave", "/press 1")
    assert "Page 2 of 2" in out.splitlines() and tasks_in(out) == [2, 1]
    assert "[1] ‹ Newer" in out


def tasks_in(out: str) -> list[int]:
    """The "task N" entries a history page lists, top to bottom (whole numbers: "task 1" is
    not found in "task 12")."""
    return [int(n) for n in re.findall(r"\btask (\d+)\b", out)]


async def test_forged_history_button_is_refused(term, app):
    from adapters.console.parse import parse_line
    from bot.actions import action
    from bot.model import Actor, Platform

    await term.say("boss", "/award @dave 5 secret")
    dave = await app.services.members.resolve(Actor(Platform.CONSOLE, "dave"))
    mallory = Actor(Platform.CONSOLE, "mallory", username="mallory")
    # dave's own history pages carry him in their token: mallory replays one.
    token = await app.services.pages.token_for({"member": str(dave.member_id)})
    inv = parse_line("/press 1", mallory, action("pg", "history", 1, token))
    reply = await app.dispatcher.handle(inv)
    assert reply.error and "secret" not in reply.plain_text
    assert "Only an organiser" in reply.plain_text
    garbage = parse_line("/press 1", mallory, "v0:old:button")
    reply = await app.dispatcher.handle(garbage)
    assert "This button no longer works" in reply.plain_text


async def test_leaderboard_ranks_ties_and_ignores_spends(term, app):
    await term.say("boss", "/award @ann 30 a")
    await term.say("boss", "/award @ben 30 b")
    await term.say("boss", "/award @cat 10 c")
    # A spend (redemption) lowers ben's balance but not his rank.
    ben = await app.services.members.find(_target("ben"))
    await app.services.ledger.debit(ben.id, 25, kind="redemption", reason="hoodie", key="r1")
    out = await term.say("ann", "/leaderboard")
    lines = [line for line in out.splitlines() if re.match(r"^\d+\. ", line)]
    assert lines == ["1. ann — 30 points", "1. ben — 30 points", "3. cat — 10 points"]
    assert "[1] This month" in out


async def test_leaderboard_week_counts_only_this_week(term, app, clock):
    await term.say("boss", "/award @old 100 last month")
    clock.advance(days=30)
    await term.say("boss", "/award @new 5 this week")
    week = await term.say("new", "/leaderboard week")
    assert "new — 5 points" in week and "old" not in week
    everything = await term.say("new", "/leaderboard all")
    assert everything.index("old") < everything.index("new")


async def test_award_is_written_once_per_invocation_key(app):
    from bot.model import Actor, ChatRef, Invocation, Platform

    boss = Actor(Platform.CONSOLE, "boss", username="boss")
    inv = Invocation(boss, ChatRef(Platform.CONSOLE, "boss"), key="console:same-update",
                     command="award", text="@erin 40 redelivered")
    first = await app.dispatcher.handle(inv)
    second = await app.dispatcher.handle(inv)
    # The replay answers the same; only the first says it made erin's console account.
    assert first.plain_text == second.plain_text + "\nCreated the console account @erin."
    erin = await app.services.members.find(_target("erin"))
    assert (await app.services.ledger.standing(erin.id)).balance == 40
    assert await app.services.ledger.check_invariants() == []


def _target(name):
    from bot.model import Platform, Target

    return Target(Platform.CONSOLE, username=name)
