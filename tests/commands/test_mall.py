"""The points mall through the console: rewards, redemptions, refusals, orders, refunds."""

from __future__ import annotations

import re

import sqlalchemy as sa

from adapters.console.parse import parse_line
from bot.actions import action
from bot.i18n import translator
from bot.model import Actor, ChatRef, Invocation, Platform, Role, Target
from bot.storage.schema import audit, ledger, orders, rewards

ORG = Role.ORGANISER
ZH = "zh_Hans"


async def count(app, table, *where) -> int:
    async with app.db.read() as conn:
        query = sa.select(sa.func.count()).select_from(table)
        return (await conn.execute(query.where(*where) if where else query)).scalar_one()


async def stock(app, reward_id: int) -> int | None:
    async with app.db.read() as conn:
        return (await conn.execute(sa.select(rewards.c.stock)
                                   .where(rewards.c.id == reward_id))).scalar_one()


async def member_id(app, name: str) -> int:
    return (await app.services.members.find(Target(Platform.CONSOLE, username=name))).id


async def new_reward(term, args: str) -> int:
    out = await term.say("boss", f"/newreward {args}")
    return int(re.search(r"Added the reward R(\d+)", out).group(1))


async def test_newreward_shows_its_id_and_the_mall_lists_it(term):
    out = await term.say("boss", '/newreward "Campus hoodie" 500 stock=20 limit=1 Warm, blue')
    assert out.startswith("Added the reward R1: Campus hoodie.")
    assert "Cost — 500 points" in out and "Stock — 20 left" in out
    assert "Limit — at most 1 per member" in out and "/redeem R1" in out
    await new_reward(term, "Sticker 5")
    await term.say("boss", "/award @ann 42 hi")
    mall = await term.say("ann", "/mall")
    assert "Points mall" in mall
    assert "never paid out as money or tokens, and can't be sent to other members" in mall
    assert "Your balance: 42 points" in mall
    assert "R1 Campus hoodie\n500 points · 20 left · at most 1 per member\nWarm, blue" in mall
    assert "R2 Sticker\n5 points · unlimited" in mall
    assert "[1] Redeem R1" in mall and "[2] Redeem R2" in mall


async def test_newreward_asks_for_what_is_missing(term):
    assert "please send name" in await term.say("boss", "/newreward")
    assert "please send cost" in await term.say("boss", "Tote bag with logo")
    out = await term.say("boss", "30")
    assert out.startswith("Added the reward R1: Tote bag with logo.") and "unlimited" in out


async def test_reward_fields_are_checked(term):
    out = await term.say("boss", f"/newreward {'x' * 121} 5")
    assert out.startswith("The name is too long: write at most 120 characters.")
    out = await term.say("boss", "/newreward Mug 0")
    assert out.startswith("The cost must be from 1 to 1,000,000.")
    out = await term.say("boss", "/newreward Mug 5 stock=lots")
    assert out.startswith("Write the stock as a whole number from 0 to 1,000,000, or "
                          "“unlimited” (you wrote “lots”).")
    out = await term.say("boss", "/newreward Mug 5 limit=0")
    assert out.startswith("Write the limit as a whole number from 1 to 1,000, or “none”")
    out = await term.say("boss", f'/newreward Mug 5 description="{"d" * 2001}"')
    assert out.startswith("The description is too long: write at most 2,000 characters.")
    assert await count(term.app, rewards) == 0


async def test_members_cannot_run_organiser_commands(term):
    await new_reward(term, "Mug 5")
    for line in ("/newreward Mug 5", "/editreward R1 cost=1", "/orders", "/fulfil O1",
                 "/cancelorder O1"):
        assert await term.say("mallory", line) == "Only an organiser can do that.", line
    assert "Cost — 5 points" not in await term.say("mallory", "/help")


async def test_redeem_spends_takes_a_unit_and_opens_an_order(term, app):
    await new_reward(term, "Hoodie 30 stock=3")
    await term.say("boss", "/award @ann 100 hi")
    out = await term.say("ann", "/redeem R1")
    assert out.startswith("You redeemed Hoodie for 30 points. Your order is O1.")
    assert "Your balance: 70 points" in out
    assert await stock(app, 1) == 2
    assert "Balance: 70 points" in await term.say("ann", "/points")
    assert "Hoodie · 30 points · open" in await term.say("ann", "/myorders")
    history = await term.say("ann", "/history")
    assert "−30" in history and "redemption — Hoodie" in history
    assert await app.services.ledger.check_invariants() == []


async def test_each_refusal_says_what_to_do_instead(term, app):
    await new_reward(term, "Hoodie 30 stock=1 limit=1")
    await new_reward(term, "Mug 5")
    await new_reward(term, "Laptop 5000")
    await term.say("boss", "/editreward R2 active=no")
    await term.say("boss", "/award @ann 100 hi")
    await term.say("boss", "/award @ben 100 hi")
    assert await term.say("ann", "/redeem R9") == (
        "There is no reward R9. Send /mall to see the rewards you can redeem.")
    assert await term.say("ann", "/redeem R2") == (
        "R2 (Mug) is no longer offered. Send /mall to see the rewards you can redeem.")
    assert await term.say("ann", "/redeem R3") == (
        "R3 (Laptop) costs 5,000 points, but your balance is only 100. Earn more points first "
        "(/points shows your balance), or send /mall to choose a cheaper reward.")
    assert (await term.say("ann", "/redeem R1")).startswith("You redeemed Hoodie")
    assert await term.say("ann", "/redeem R1") == (
        "You already have 1 order of R1 (Hoodie), the most one member may have. Send /myorders "
        "to see your orders, or /mall to choose another reward.")
    assert await term.say("ben", "/redeem R1") == (
        "R1 (Hoodie) is sold out. Send /mall to choose another reward, or ask an organiser "
        "whether more are coming.")
    assert (await term.say("ann", "/redeem B1")).startswith("B1 is a bounty, but the reward")
    assert await count(app, orders) == 1


async def test_an_unaffordable_redemption_leaves_stock_and_orders_untouched(term, app):
    await new_reward(term, "Hoodie 30 stock=2")
    await term.say("boss", "/award @ann 29 almost")
    out = await term.say("ann", "/redeem R1")
    assert "costs 30 points, but your balance is only 29" in out
    assert await stock(app, 1) == 2
    assert await count(app, orders) == 0
    assert await count(app, ledger, ledger.c.kind == "redemption") == 0
    assert "Balance: 29 points" in await term.say("ann", "/points")


async def test_inactive_rewards_are_hidden_and_edits_change_fields(term, app):
    await new_reward(term, "Hoodie 30 stock=2")
    await new_reward(term, "Mug 5")
    out = await term.say("boss", '/editreward R1 name="Blue hoodie" cost=40 stock=unlimited '
                                 'limit=2 description="Now in blue"')
    assert out.startswith("Changed the reward R1: Blue hoodie.")
    assert "Cost — 40 points" in out and "Stock — unlimited" in out
    assert "Limit — at most 2 per member" in out
    out = await term.say("boss", "/editreward R2 active=no")
    assert "It is hidden from /mall" in out
    mall = await term.say("ann", "/mall")
    assert "Blue hoodie\n40 points · unlimited · at most 2 per member\nNow in blue" in mall
    assert "Mug" not in mall and "R2" not in mall
    # Organisers still find it there, marked, without a Redeem button, so they can show it.
    mall = await term.say("boss", "/mall")
    assert "R2 Mug\n5 points · unlimited\nhidden: members don't see it (active=yes shows " \
           "it)" in mall
    assert "Redeem R1" in mall and "Redeem R2" not in mall
    assert "on offer in /mall again" in await term.say("boss", "/editreward R2 active=yes")
    assert "Mug" in await term.say("ann", "/mall")
    out = await term.say("boss", "/editreward R1 limit=none stock=0")
    assert "Stock — sold out" in out and "no limit per member" in out
    out = await term.say("boss", "/editreward R1")
    assert out.startswith("Tell me what to change, such as cost=400")
    assert "There is no reward R7." in await term.say("boss", "/editreward R7 cost=3")


async def test_a_redelivered_redeem_makes_one_order(term, app):
    await new_reward(term, "Hoodie 30")
    await term.say("boss", "/award @ann 100 hi")
    ann = Actor(Platform.CONSOLE, "ann", username="ann")
    inv = Invocation(ann, ChatRef(Platform.CONSOLE, "ann"), key="console:update-1",
                     command="redeem", text="R1")
    first = await app.dispatcher.handle(inv)
    second = await app.dispatcher.handle(inv)
    assert first.plain_text == second.plain_text
    assert "Your order is O1." in first.plain_text
    assert "Your balance: 70 points" in first.plain_text
    assert await count(app, orders) == 1
    assert (await app.services.ledger.standing(await member_id(app, "ann"))).balance == 70


async def test_a_double_pressed_redeem_button_makes_one_order(term, app):
    await new_reward(term, "Hoodie 30")
    await term.say("boss", "/award @ann 100 hi")
    mall = app.registry.pagers["mall"]
    ann = Actor(Platform.CONSOLE, "ann", username="ann")
    # The same button of one /mall reply, pressed twice (two platform updates, two keys).
    listing = await app.dispatcher.handle(parse_line("/mall", ann))
    assert mall is not None and listing.buttons
    payload = listing.buttons[0][0].action
    for _ in range(2):
        reply = await app.dispatcher.handle(parse_line("/press 1", ann, payload))
        assert "Your order is O1." in reply.plain_text
    assert await count(app, orders) == 1
    # A fresh /mall gives fresh buttons: a second hoodie is a second order.
    listing = await app.dispatcher.handle(parse_line("/mall", ann))
    reply = await app.dispatcher.handle(parse_line("/press 1", ann, listing.buttons[0][0].action))
    assert "Your order is O2." in reply.plain_text and "40 points" in reply.plain_text


async def test_orders_list_oldest_open_first_with_fulfil_buttons(term, app):
    await new_reward(term, "Hoodie 10")
    for name in ("ann", "ben", "cat"):
        await term.say("boss", f"/award @{name} 50 hi")
        await term.say(name, "/redeem R1")
    out = await term.say("boss", "/orders")
    assert out.startswith("Open orders (3)")
    assert re.findall(r"^O(\d) ", out, flags=re.MULTILINE) == ["1", "2", "3"]
    assert "[1] Fulfil O1" in out and "[3] Fulfil O3" in out
    assert out.index("ann") < out.index("ben") < out.index("cat")
    out = await term.say("boss", "/press 2")
    assert out == "Fulfilled O2 (Hoodie) for ben. I told them."
    out = await term.say("boss", "/orders")
    assert re.findall(r"^O(\d) ", out, flags=re.MULTILINE) == ["1", "3"]
    everything = await term.say("boss", "/orders all")
    assert everything.startswith("All orders (3)")
    assert re.findall(r"^O(\d) ", everything, flags=re.MULTILINE) == ["1", "3", "2"]
    assert "Hoodie (R1) · ben · 10 points · fulfilled" in everything
    assert "Your order O2 (Hoodie) has been fulfilled. Enjoy!" in await term.opened("ben")


async def test_orders_page_with_buttons(term, app):
    await new_reward(term, "Pin 1")
    await term.say("boss", "/award @ann 50 hi")
    for _ in range(12):
        await term.say("ann", "/redeem R1")
    out = await term.say("boss", "/orders")
    assert "Page 1 of 2" in out and "[11] Next ›" in out and "[10] Fulfil O10" in out
    out = await term.say("boss", "/press 11")
    assert "Page 2 of 2" in out
    assert re.findall(r"^O(\d+) ", out, flags=re.MULTILINE) == ["11", "12"]


async def test_fulfil_is_once_and_tells_the_member(term, app):
    await new_reward(term, "Hoodie 10")
    await term.say("boss", "/award @ann 50 hi")
    await term.say("ann", "/redeem R1")
    assert await term.say("boss", "/fulfil O1") == (
        "Fulfilled O1 (Hoodie) for ann. I told them.")
    assert await term.say("boss2", "/fulfil O1", role=ORG) == (
        "O1 is already fulfilled: nothing changed.")
    assert await term.say("boss", "/cancelorder O1 oops") == (
        "O1 is already fulfilled: nothing changed.")
    assert await term.say("boss", "/fulfil O5") == (
        "There is no order O5. Send /orders to see the open orders.")
    opened = await term.opened("ann")
    assert opened.count("has been fulfilled") == 1
    assert "Balance: 40 points" in await term.say("ann", "/points")
    assert "Hoodie · 10 points · fulfilled" in await term.say("ann", "/myorders")


async def test_cancel_refunds_once_returns_the_unit_and_tells_the_member(term, app):
    await new_reward(term, "Hoodie 30 stock=1")
    await term.say("boss", "/award @ann 100 hi")
    await term.say("ann", "/redeem R1")
    assert await stock(app, 1) == 0
    out = await term.say("boss", "/cancelorder O1 out of your size")
    assert out.startswith("Cancelled O1 (Hoodie) of ann: refunded 30 points and returned the "
                          "unit to stock.")
    assert "Reason: out of your size" in out
    assert await term.say("boss", "/cancelorder O1 again") == (
        "O1 is already cancelled: nothing changed.")
    assert await term.say("boss", "/fulfil O1") == "O1 is already cancelled: nothing changed."
    assert await stock(app, 1) == 1
    ann = await member_id(app, "ann")
    assert (await app.services.ledger.standing(ann)).balance == 100
    refunds = await count(app, ledger, ledger.c.kind == "refund",
                          ledger.c.idem_key == "refund:O1", ledger.c.amount == 30)
    assert refunds == 1 and await count(app, ledger, ledger.c.kind == "refund") == 1
    opened = await term.opened("ann")
    assert "[to ann] Your order O1 (Hoodie) was cancelled, and its 30 points were returned " \
           "to you." in opened
    assert "[to ann] Reason: out of your size" in opened
    assert "[to ann] Your balance: 100 points" in opened
    mine = await term.say("ann", "/myorders")
    assert "Hoodie · 30 points · cancelled" in mine and "points refunded" in mine
    # The unit is back: someone else can redeem it (ann too: a cancelled order does not count).
    await term.say("boss", "/award @ben 30 hi")
    assert "Your order is O2." in await term.say("ben", "/redeem R1")
    assert await app.services.ledger.check_invariants() == []


async def test_a_double_pressed_fulfil_button_fulfils_once(term, app):
    await new_reward(term, "Hoodie 10")
    await term.say("boss", "/award @ann 50 hi")
    await term.say("ann", "/redeem R1")
    boss = Actor(Platform.CONSOLE, "boss", username="boss", trusted_role=ORG)
    payload = action("mall", "f", 1)
    first = await app.dispatcher.handle(parse_line("/press 1", boss, payload))
    second = await app.dispatcher.handle(parse_line("/press 1", boss, payload))
    assert first.plain_text.startswith("Fulfilled O1")
    assert second.plain_text == "O1 is already fulfilled: nothing changed." and second.error
    assert await count(app, audit, audit.c.action == "mall.fulfil") == 1


async def test_forged_presses_are_checked_again(term, app):
    await new_reward(term, "Hoodie 10")
    await term.say("boss", "/award @ann 50 hi")
    await term.say("ann", "/redeem R1")
    mallory = Actor(Platform.CONSOLE, "mallory", username="mallory")
    reply = await app.dispatcher.handle(parse_line("/press 1", mallory, action("mall", "f", 1)))
    assert reply.plain_text == "Only an organiser can do that."
    reply = await app.dispatcher.handle(parse_line("/press 1", mallory, action("pg", "orders", 1)))
    assert reply.plain_text == "Only an organiser can do that."
    ann = await member_id(app, "ann")
    token = await app.services.pages.token_for({"member": str(ann)})
    reply = await app.dispatcher.handle(
        parse_line("/press 1", mallory, action("pg", "myorders", 1, token)))
    assert "Hoodie" not in reply.plain_text and "no longer works" in reply.plain_text
    reply = await app.dispatcher.handle(parse_line("/press 1", mallory, action("mall", "x", 1)))
    assert "no longer works" in reply.plain_text
    async with app.db.read() as conn:
        state = (await conn.execute(sa.select(orders.c.state))).scalar_one()
    assert state == "open"


async def test_every_organiser_action_is_audited(term, app):
    await new_reward(term, "Hoodie 10")
    await term.say("boss", "/editreward R1 cost=12")
    await term.say("boss", "/award @ann 50 hi")
    await term.say("ann", "/redeem R1")
    await term.say("ann", "/redeem R1")
    await term.say("boss", "/fulfil O1")
    await term.say("boss", "/cancelorder O2 duplicate")
    records = await app.services.audit.recent()
    mall = [(r.action, r.target_ref) for r in reversed(records) if r.action.startswith("mall.")]
    assert mall == [("mall.reward_create", "R1"), ("mall.reward_edit", "R1"),
                    ("mall.fulfil", "O1"), ("mall.cancel", "O2")]
    edit = next(r for r in records if r.action == "mall.reward_edit")
    assert edit.detail["changes"] == {"cost": [10, 12]}
    boss = await member_id(app, "boss")
    assert all(r.actor_member_id == boss for r in records if r.action.startswith("mall."))


async def test_a_redelivered_newreward_adds_one_reward(term, app):
    boss = Actor(Platform.CONSOLE, "boss", username="boss", trusted_role=ORG)
    inv = Invocation(boss, ChatRef(Platform.CONSOLE, "boss"), key="console:same",
                     command="newreward", text="Mug 5")
    first = await app.dispatcher.handle(inv)
    second = await app.dispatcher.handle(inv)
    assert first.plain_text == second.plain_text and "R1" in first.plain_text
    assert await count(app, rewards) == 1


async def test_a_chinese_member_reads_the_mall_and_notices_in_chinese(term, app):
    await new_reward(term, "Hoodie 30 stock=5")
    await new_reward(term, "Mug 5")
    async with app.db.write() as conn:
        await app.services.translations.set_in(conn, "reward", 1, ZH, {"name": "校园卫衣"})
    await term.say("li", "/language zh_Hans")
    await term.say("boss", "/award @li 100 hi")
    zh = translator(ZH)
    mall = await term.say("li", "/mall")
    assert "校园卫衣" in mall and "Hoodie" not in mall
    assert zh.gettext("Points mall") in mall
    # The note follows the name, with no space before a full-width bracket.
    assert f"Mug{zh.gettext('(not translated into {language} yet)')}".format(
        language=zh.language_name(ZH)) in mall
    await term.say("li", "/redeem R1")
    await term.say("li", "/redeem R2")
    await term.say("boss", "/fulfil O1")
    await term.say("boss", "/cancelorder O2 缺货")
    opened = await term.opened("li")
    fulfilled = zh.gettext("Your order {order} ({name}) has been fulfilled. Enjoy!")
    assert fulfilled.format(order="O1", name="校园卫衣") in opened
    cancelled = zh.gettext("Your order {order} ({name}) was cancelled, and its {points} were "
                           "returned to you.")
    assert cancelled.format(order="O2", name="Mug", points="5 积分") in opened
    assert zh.gettext("Your balance: {balance}").format(balance="70 积分") in opened
