"""A bounty and a reward end to end on Discord: /bounties → Submit button → a modal asking for
the link → the organiser's Approve button → the approval as a DM → /redeem → Fulfil → its DM.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from tests.fakes.discord_api import FakeDiscord

from .conftest import MEMBER_ID, ORGANISER_ID
from .test_discord_adapter import answer, start_member, unbold

MODAL = 9


def button(message, label: str) -> str:
    """The custom_id of the button labelled `label` on the message."""
    def walk(items: Iterable[dict]):
        for item in items:
            if item.get("label") == label and item.get("custom_id"):
                yield item["custom_id"]
            yield from walk(item.get("components") or [])

    found = list(walk(message.components))
    assert found, f"no button {label!r}; ids: {message.custom_ids}"
    return found[0]


async def organiser(fake: FakeDiscord, command: str, options: dict) -> str:
    return unbold((await answer(await fake.slash(command, options,
                                                 user_id=ORGANISER_ID))).content)


async def dm_with(fake: FakeDiscord, user_id: int, fragment: str):
    return (await fake.wait_for(
        lambda: [m for m in fake.dm_messages(user_id) if fragment in unbold(m.content)],
        description=f"a DM with {fragment!r}"))[-1]


async def test_from_bounties_to_a_fulfilled_reward(fake, bot, app):
    await start_member(fake, MEMBER_ID, "amy")
    posted = await organiser(fake, "newbounty", {"title": "Poster for the fair", "reward": 80,
                                                 "sponsor": "Acme"})
    bounty = re.search(r"Bounty (B\d+) is open", posted).group(1)
    offered = await organiser(fake, "newreward", {"name": "Campus hoodie", "cost": 50,
                                                  "stock": "1"})
    reward = re.search(r"\bR\d+\b", offered).group(0)

    listed = await answer(await fake.slash("bounties", user_id=MEMBER_ID))
    assert bounty in listed.content and "Poster for the fair" in listed.content
    press = await fake.press(listed, button(listed, f"Submit to {bounty}"), user_id=MEMBER_ID)
    assert (await press.response())["type"] == MODAL and press.rejections == []
    modal = press.modal
    assert modal["custom_id"] == f"v1:form:submit:id.{bounty}"
    assert [item["component"]["custom_id"] for item in modal["components"]] == ["link", "note"]
    submitted = await fake.submit_modal(modal["custom_id"],
                                        {"link": "https://example.com/poster", "note": ""},
                                        user_id=MEMBER_ID)
    done = unbold((await answer(submitted)).content)
    submission = re.search(r"Submitted (S\d+) to", done).group(1)

    queue = await answer(await fake.slash("review", user_id=ORGANISER_ID))
    assert submission in queue.content and queue.ephemeral
    approve = await fake.press(queue, button(queue, f"Approve {submission}"),
                               user_id=ORGANISER_ID)
    assert f"Approved {submission}: amy received 80 points." in unbold(
        (await answer(approve)).content)
    notice = await dm_with(fake, MEMBER_ID, submission)
    assert "was approved: you received 80 points!" in unbold(notice.content)
    again = await fake.press(queue, button(queue, f"Approve {submission}"),
                             user_id=ORGANISER_ID)
    assert f"Submission {submission} is already approved." in (await answer(again)).content

    redeemed = unbold((await answer(await fake.slash("redeem", {"reward": reward},
                                                      user_id=MEMBER_ID))).content)
    order = re.search(r"Your order is (O\d+)\.", redeemed).group(1)
    assert "Your balance: 30 points" in redeemed
    orders = await answer(await fake.slash("orders", user_id=ORGANISER_ID))
    fulfil = await fake.press(orders, button(orders, f"Fulfil {order}"), user_id=ORGANISER_ID)
    assert f"Fulfilled {order}" in unbold((await answer(fulfil)).content)
    assert "has been fulfilled" in unbold((await dm_with(fake, MEMBER_ID, order)).content)

    assert await app.services.ledger.check_invariants() == []
    export = await app.services.bounties.export_rows()
    assert [(line[0], line[4], line[9]) for line in export.rows] == [
        (bounty, submission, "approved")]


async def test_reject_opens_a_modal_for_the_reason(fake, bot):
    await start_member(fake, MEMBER_ID, "amy")
    posted = await organiser(fake, "newbounty", {"title": "Logo", "reward": 5})
    bounty = re.search(r"Bounty (B\d+) is open", posted).group(1)
    done = unbold((await answer(await fake.slash(
        "submit", {"id": bounty, "link": "https://example.com/logo"}, user_id=MEMBER_ID))).content)
    submission = re.search(r"Submitted (S\d+) to", done).group(1)
    queue = await answer(await fake.slash("review", user_id=ORGANISER_ID))
    press = await fake.press(queue, button(queue, f"Reject {submission}"), user_id=ORGANISER_ID)
    assert (await press.response())["type"] == MODAL
    assert [item["component"]["custom_id"] for item in press.modal["components"]] == ["reason"]
    # A member who forges the organiser's form is refused by the core, not by the modal.
    forged = await fake.submit_modal(press.modal["custom_id"], {"reason": "nope"},
                                     user_id=MEMBER_ID)
    assert "Only an organiser can do that." in (await answer(forged)).content
    rejected = await fake.submit_modal(press.modal["custom_id"], {"reason": "Too blurry"},
                                       user_id=ORGANISER_ID)
    assert f"Rejected {submission}. I'll tell amy why." in unbold(
        (await answer(rejected)).content)
    notice = await dm_with(fake, MEMBER_ID, "Too blurry")
    assert "was not accepted" in notice.content


def test_more_item_buttons_than_discord_has_rows_are_packed_not_dropped():
    """The mall's page of five rewards has a Redeem row each plus the pager's row: six rows,
    one more than Discord allows. Every button stays; the pager keeps a row of its own."""
    from adapters.discord.render import build_view
    from bot.reply import Button

    items = tuple((Button(f"Redeem R{n}", f"v1:mall:r:{n}:ab"),) for n in range(1, 11))
    pager = (Button("‹ Previous", "v1:pg:mall:1"), Button("Next ›", "v1:pg:mall:3"))
    view = build_view((*items, pager))
    rows: dict[int, list[str]] = {}
    for child in view.children:
        rows.setdefault(child.item.row, []).append(child.item.label)
    assert rows == {0: [f"Redeem R{n}" for n in range(1, 6)],
                    1: [f"Redeem R{n}" for n in range(6, 11)],
                    2: ["‹ Previous", "Next ›"]}
