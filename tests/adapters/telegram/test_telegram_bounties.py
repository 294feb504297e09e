"""A bounty and a reward end to end on Telegram, for a member who reads Chinese: /bounties in a
group → Submit button → the link as a ForceReply answer → the organiser's Approve button in
private → the approval notice in the member's private chat → /redeem → Fulfil → its notice.
"""

from __future__ import annotations

import re

from bot.i18n import Translator
from tests.adapters.telegram.conftest import ALICE, BOB, GROUP, Harness
from tests.fakes.telegram_api import FakeTelegram

ZH = "zh-hans"
zh = Translator("zh_Hans").gettext


def words(msgid: str) -> str:
    """The longest fixed piece of a Chinese translation (the text between placeholders)."""
    return max(re.split(r"\{[a-z_]+\}", zh(msgid)), key=len).strip()


def buttons(record: dict) -> dict[str, str]:
    markup = record.get("reply_markup") or {}
    return {b["text"]: b.get("callback_data", "")
            for row in markup.get("inline_keyboard", []) for b in row}


async def press(fake: FakeTelegram, message: dict, label: str, *, user_id: int,
                chat_id: int, language_code: str = "en") -> dict:
    """Press a button and return the bot's next message into `chat_id`."""
    since = fake.mark()
    fake.press_button(message, label, user_id=user_id, language_code=language_code)
    return await fake.wait_for_message(chat_id=chat_id, since=since)


async def notice_to(fake: FakeTelegram, user: int, since: int, fragment: str) -> dict:
    return await fake.wait_for_message(lambda m: fragment in m["plain_text"], chat_id=user,
                                       since=since)


async def test_from_bounties_to_a_fulfilled_reward_in_chinese(bot: Harness) -> None:
    fake = bot.fake
    await bot.say("/start", user_id=BOB, language_code=ZH)
    posted = await bot.say('/newbounty title="Poster for the fair" reward=80 sponsor=Acme')
    bounty = re.search(r"Bounty (B\d+) is open", posted["plain_text"]).group(1)
    offered = await bot.say('/newreward name="Campus hoodie" cost=50 stock=1')
    reward = re.search(r"\bR\d+\b", offered["plain_text"]).group(0)

    listed = await bot.say("/bounties", user_id=BOB, chat_id=GROUP, language_code=ZH)
    assert zh("Open bounties") in listed["plain_text"] and bounty in listed["plain_text"]
    submit = zh("Submit to {id}").format(id=bounty)
    assert submit in buttons(listed)
    question = await press(fake, listed, submit, user_id=BOB, chat_id=GROUP, language_code=ZH)
    # In a group the question is a ForceReply to Bob alone, so his answer reaches the bot.
    assert question["reply_markup"] == {"force_reply": True, "selective": True}
    assert bounty in question["plain_text"] and words(
        "Send the link to your work for {id} now, or send {usage}.") in question["plain_text"]
    since = fake.mark()
    fake.message("https://example.com/poster?utm_source=tg", user_id=BOB, chat_id=GROUP,
                 language_code=ZH, reply_to_message_id=question["message_id"])
    done = await fake.wait_for_message(chat_id=GROUP, since=since)
    submission = re.search(r"\bS\d+\b", done["plain_text"]).group(0)
    assert bounty in done["plain_text"]

    queue = await bot.say("/review")
    assert submission in queue["plain_text"] and "Poster for the fair" in queue["plain_text"]
    since = fake.mark()
    approved = await press(fake, queue, f"Approve {submission}", user_id=ALICE, chat_id=ALICE)
    assert f"Approved {submission}: Bob received 80 points." in approved["plain_text"]
    notice = await notice_to(fake, BOB, since, submission)
    assert words("Your submission {submission} to {bounty} “{title}” was approved: you "
                 "received {points}!") in notice["plain_text"]
    assert "Poster for the fair" in notice["plain_text"] and "80" in notice["plain_text"]
    # A second press of the same Approve button credits nothing more: a toast says why.
    since = fake.mark()
    fake.press_button(queue, f"Approve {submission}", user_id=ALICE)
    toast = await fake.wait_for_callback_answer(since=since)
    assert toast["text"] == f"Submission {submission} is already approved."
    assert "80" in (await bot.say("/points", user_id=BOB, language_code=ZH))["plain_text"]

    order_reply = await bot.say(f"/redeem {reward}", user_id=BOB, language_code=ZH)
    order = re.search(r"\bO\d+\b", order_reply["plain_text"]).group(0)
    assert words("You redeemed {name} for {points}. Your order is {order}.") \
        in order_reply["plain_text"]
    assert "30" in order_reply["plain_text"]  # the balance left: 80 − 50
    sold_out = await bot.say(f"/redeem {reward}", user_id=BOB, language_code=ZH)
    assert order not in sold_out["plain_text"] and reward in sold_out["plain_text"]

    orders = await bot.say("/orders")
    since = fake.mark()
    fulfilled = await press(fake, orders, f"Fulfil {order}", user_id=ALICE, chat_id=ALICE)
    assert order in fulfilled["plain_text"]
    await notice_to(fake, BOB, since, order)

    services = bot.app.services
    assert await services.ledger.check_invariants() == []
    export = await services.bounties.export_rows()
    [row] = [dict(zip(export.header, line, strict=True)) for line in export.rows]
    assert (row["bounty_id"], row["submission_id"], row["member"], row["state"],
            row["points"]) == (bounty, submission, "Bob", "approved", 80)
    assert row["link"] == "https://example.com/poster?utm_source=tg"  # as the member sent it
