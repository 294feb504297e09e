"""Bounties through the console: posting, listing, submitting, reviewing, deciding."""

from __future__ import annotations

import re

from bot.i18n import Translator
from bot.model import Role
from bot.reply import Button

ORG = Role.ORGANISER
ORG2 = "judy"  # a second organiser (the console trusts the role it is started with)


def bounty_id(out: str) -> str:
    return re.search(r"Bounty (B\d+) is", out).group(1)


def submission_id(out: str) -> str:
    return re.search(r"Submitted (S\d+) to", out).group(1)


async def new(term, args: str, user: str = "boss") -> str:
    out = await term.say(user, f"/newbounty {args}")
    return bounty_id(out)


async def balance(term, user: str) -> str:
    return await term.say(user, "/points")


async def test_create_list_and_details(term):
    out = await term.say("boss", '/newbounty title="Poster for the fair" reward=500 '
                                 'sponsor=Acme track=graphic winners=3')
    assert "is open: Poster for the fair" in out
    b = bounty_id(out)
    out = await term.say("alice", "/bounties")
    assert f"{b} Poster for the fair" in out and "500 points" in out
    assert "3 winners left" in out and "no deadline" in out
    out = await term.say("alice", f"/bounty {b}")
    assert "Sponsor — Acme" in out and "One submission per member." in out
    assert "[1] Submit" in out


async def test_newbounty_asks_for_what_is_missing(term):
    out = await term.say("boss", "/newbounty")
    assert "/newbounty: please send" in out and "title" in out
    out = await term.say("boss", "Logo design")
    assert "reward" in out
    out = await term.say("boss", "250")
    assert "is open: Logo design" in out


async def test_members_cannot_post_or_review(term):
    assert "Only an organiser can do that." in await term.say("mallory",
                                                              "/newbounty title=x reward=5")
    assert "Only an organiser can do that." in await term.say("mallory", "/review")
    assert "Only an organiser can do that." in await term.say("mallory", "/approve S1")


async def test_submit_review_approve_credits_once(term):
    b = await new(term, "title=Video reward=100")
    sub = submission_id(await term.say("alice", f"/submit {b} https://youtu.be/abc nice one"))
    out = await term.say("boss", "/review")
    assert sub in out and "https://youtu.be/abc" in out and "waiting for" in out
    assert f"[1] Approve {sub}" in out and f"[2] Reject {sub}" in out
    out = await term.say("boss", "/press 1")
    assert f"Approved {sub}: alice received 100 points." in out
    out = await term.say("boss", f"/approve {sub}")
    assert f"Submission {sub} is already approved." in out
    out = await term.say(ORG2, f"/approve {sub}", role=ORG)
    assert "already approved" in out
    opened = await term.opened("alice")
    assert f"[to alice] Your submission {sub} to {b} “Video” was approved" in opened
    assert "Balance: 100 points" in await balance(term, "alice")
    out = await term.say("alice", "/mysubmissions")
    assert sub in out and "approved" in out and "+100 points" in out


async def test_reject_asks_reason_and_tells_member(term):
    b = await new(term, "title=Song reward=50")
    sub = submission_id(await term.say("alice", f"/submit {b} https://sound.example/x"))
    await term.say("boss", "/review")
    out = await term.say("boss", "/press 2")
    assert f"Why is {sub} not accepted?" in out and f"/reject {sub} REASON" in out
    out = await term.say("boss", "too short, please make it 30 s")
    assert f"Rejected {sub}. I'll tell alice why." in out
    opened = await term.opened("alice")
    assert "was not accepted" in opened and "Reason: too short, please make it 30 s" in opened
    out = await term.say("boss", f"/approve {sub}")
    assert f"Submission {sub} was already rejected." in out
    out = await term.say("alice", "/mysubmissions")
    assert "not accepted" in out and "too short" in out


async def test_submit_button_gives_the_command_and_takes_the_link(term):
    b = await new(term, "title=Essay reward=20")
    await term.say("alice", f"/bounty {b}")
    out = await term.say("alice", "/press 1")
    assert f"/submit {b} LINK [NOTE…]" in out
    out = await term.say("alice", "https://blog.example/essay my first essay")
    assert f"to {b}" in out and "Submitted S" in out
    out = await term.say("alice", "/mysubmissions")
    assert "https://blog.example/essay" in out


async def test_duplicate_links_are_normalised(term):
    b = await new(term, "title=Clip reward=10 once=no")
    await term.say("alice", f"/submit {b} https://Example.com/Clip/?utm_source=x&v=1#top")
    for link in ("HTTPS://EXAMPLE.COM/Clip?v=1&fbclid=abc", "https://example.com/Clip?v=1/"):
        out = await term.say("bob", f"/submit {b} {link}")
        if "v=1/" in link:  # a different query value: a different link
            assert "Submitted" in out
        else:
            assert f"That link was already submitted to bounty {b}." in out
    out = await term.say("alice", f"/submit {b} https://example.com/Clip?v=1&si=zz")
    assert "already submitted" in out
    out = await term.say("bob", f"/submit {b} ftp://example.com/clip")
    assert "must be a web address starting with http:// or https://" in out
    assert "Usage: /submit" in out


async def test_once_only_and_states(term):
    b = await new(term, "title=Once reward=10")
    await term.say("alice", f"/submit {b} https://a.example/1")
    out = await term.say("alice", f"/submit {b} https://a.example/2")
    assert f"You already have a submission to bounty {b}, and it takes one per member." in out
    many = await new(term, "title=Many reward=10 once=no")
    await term.say("alice", f"/submit {many} https://a.example/1")
    assert "Submitted" in await term.say("alice", f"/submit {many} https://a.example/2")

    draft = await new(term, "title=Draft reward=10")
    assert "updated (draft)" in await term.say("boss", f"/editbounty {draft} status=draft")
    out = await term.say("alice", f"/submit {draft} https://a.example/3")
    assert f"Bounty {draft} is not open for submissions yet." in out
    await term.say("boss", f"/closebounty {b}")
    out = await term.say("bob", f"/submit {b} https://b.example/1")
    assert f"Bounty {b} is closed and takes no more submissions." in out
    out = await term.say("bob", "/bounties")
    assert "Many" in out and "Once" not in out and "Draft" not in out


async def test_winner_limit_closes_the_bounty(term):
    b = await new(term, "title=Two reward=10 winners=2")
    subs = [submission_id(await term.say(user, f"/submit {b} https://w.example/{user}"))
            for user in ("alice", "bob", "carol")]
    await term.say("boss", f"/approve {subs[0]}")
    assert "1 winner left" in await term.say("dave", f"/bounty {b}")
    out = await term.say("boss", f"/approve {subs[1]}")
    assert f"Bounty {b} has all its winners now, so it is closed." in out
    out = await term.say("boss", f"/approve {subs[2]}")
    assert f"Bounty {b} already has all its winners, so submission {subs[2]} can't" in out
    out = await term.say("dave", f"/submit {b} https://w.example/dave")
    assert f"Bounty {b} is closed" in out
    assert "Balance: 0 points" in await balance(term, "carol")


async def test_date_deadline_ends_the_day_in_the_organisers_zone(term, clock):
    # The clock is 2026-11-25 12:00 UTC. In Shanghai (UTC+8) the 26th ends at 15:59:59 UTC.
    await term.say("boss", "/timezone Asia/Shanghai")
    b = await new(term, "title=Deadline reward=10 deadline=2026-11-26 once=no")
    await term.say("alice", "/timezone America/New_York")
    out = await term.say("alice", f"/bounty {b}")
    assert "Nov 26, 2026, 10:59\u202fAM" in out  # the same instant, in alice's zone
    clock.advance(hours=27, minutes=59, seconds=59)  # 2026-11-26 15:59:59 UTC
    assert "Submitted" in await term.say("alice", f"/submit {b} https://d.example/1")
    clock.advance(seconds=1)
    out = await term.say("alice", f"/submit {b} https://d.example/2")
    assert f"The deadline of bounty {b} has passed" in out
    assert b not in await term.say("alice", "/bounties")
    assert "Status — closed" in await term.say("alice", f"/bounty {b}")


async def test_date_deadline_in_a_zone_west_of_utc(term, clock):
    await term.say("boss", "/timezone America/Los_Angeles")  # UTC-8 in November
    b = await new(term, "title=West reward=10 deadline=2026-11-25")
    clock.advance(hours=19, minutes=59, seconds=59)  # 2026-11-26 07:59:59 UTC
    assert "Submitted" in await term.say("alice", f"/submit {b} https://d.example/1")
    clock.advance(seconds=1)
    assert "has passed" in await term.say("bob", f"/submit {b} https://d.example/2")


async def test_time_deadline_with_zone_and_bad_deadlines(term):
    out = await term.say("boss", '/newbounty title=T reward=5 deadline="2026-12-01 20:00 UTC"')
    assert "until Dec 1, 2026, 8:00\u202fPM" in out
    out = await term.say("boss", "/newbounty title=T reward=5 deadline=tomorrow")
    assert "Write the deadline as a date and time" in out
    out = await term.say("boss", "/newbounty title=T reward=5 deadline=2020-01-01")
    assert "That deadline has already passed" in out


async def test_deadlines_a_clock_change_skips_or_repeats_are_refused(term):
    out = await term.say("boss", '/newbounty title=T reward=5 '
                                 'deadline="2027-03-28 01:30 Europe/Lisbon"')
    assert out.startswith("2027-03-28 01:30 does not exist in Europe/Lisbon: the clocks jump "
                          "forward over it that night.")
    out = await term.say("boss", '/newbounty title=T reward=5 '
                                 'deadline="2027-10-31 01:30 Europe/Lisbon"')
    assert out.startswith("2027-10-31 01:30 happens twice in Europe/Lisbon, when the clocks go "
                          "back that night. Write it with its offset, such as "
                          "2027-10-31 01:30+01:00 or 2027-10-31 01:30+00:00.")
    out = await term.say("boss", '/newbounty title=T reward=5 '
                                 'deadline="2027-10-31 01:30+00:00"')
    assert "is open" in out and "until Oct 31, 2027, 1:30\u202fAM" in out


async def test_double_approval_needs_two_organisers(app, term):
    from dataclasses import replace

    from bot.config import BountiesSettings

    app.services.bounties.double_approval_above = 100
    app.services.settings = replace(app.services.settings,
                                    bounties=BountiesSettings(double_approval_above=100))
    b = await new(term, "title=Big reward=500")
    sub = submission_id(await term.say("alice", f"/submit {b} https://big.example/1"))
    out = await term.say("boss", f"/approve {sub}")
    assert f"{sub}: approved by 1 of 2." in out
    out = await term.say("boss", f"/approve {sub}")
    assert f"You already approved submission {sub}." in out
    assert "Balance: 0 points" in await balance(term, "alice")
    out = await term.say("boss", "/review")
    assert "approved by 1 of 2" in out
    out = await term.say(ORG2, f"/approve {sub}", role=ORG)
    assert f"Approved {sub}: alice received 500 points." in out
    assert "Balance: 500 points" in await balance(term, "alice")
    small = await new(term, "title=Small reward=100")
    sub = submission_id(await term.say("alice", f"/submit {small} https://s.example/1"))
    assert "received 100 points" in await term.say("boss", f"/approve {sub}")


async def test_member_pressing_approve_is_refused(term):
    b = await new(term, "title=Press reward=10")
    sub = submission_id(await term.say("alice", f"/submit {b} https://p.example/1"))
    session, _out = await term.session("mallory")
    session.buttons = [Button("Approve", f"v1:rv:ap:{sub[1:]}")]
    out = await term.say("mallory", "/press 1")
    assert "Only an organiser can do that." in out
    assert "Balance: 0 points" in await balance(term, "alice")


async def test_forged_payloads_get_the_stale_answer(term):
    stale = "This button no longer works. Please run the command again."
    session, _out = await term.session("boss")
    for payload in ("v1:rv:ap:999", "v1:rv:ap:x", "v1:rv:zz:1", "v1:bty:sub:999",
                    "v1:bty:sub:1:2", "v1:pg:bounties:1:nosuchtoken"):
        session.buttons = [Button("x", payload)]
        assert stale in await term.say("boss", "/press 1"), payload


async def test_decision_notice_in_chinese(term):
    b = await new(term, "title=Poster reward=30")
    await term.say("li", "/language zh_Hans")
    out = await term.say("li", f"/submit {b} https://li.example/1")
    sub = re.search(r"(S\d+)", out).group(1)
    await term.say("boss", f"/reject {sub} 太模糊")
    opened = await term.opened("li")
    assert "[to li] 原因：" in opened and "太模糊" in opened
    b2 = await new(term, "title=Poster2 reward=30")
    out = await term.say("li", f"/submit {b2} https://li.example/2")
    sub = re.search(r"(S\d+)", out).group(1)
    await term.say("boss", f"/approve {sub}")
    opened = await term.opened("li")
    assert "30 积分" in opened and "你的余额：30 积分" in opened


async def test_translations_shown_per_reader(term):
    b = await new(term, "title=Poster reward=30 description=\"Make a poster\"")
    out = await term.say("boss", f'/translate {b} zh_Hans title="海报" description="做一张海报"')
    assert "Saved the" in out
    await term.say("li", "/language zh_Hans")
    assert "海报" in await term.say("li", "/bounties")
    out = await term.say("li", f"/bounty {b}")
    assert "海报" in out and "做一张海报" in out
    out = await term.say("alice", f"/bounty {b}")
    assert "Poster" in out and "海报" not in out
    # The decision's notice names the bounty in its reader's language too.
    for user in ("li", "alice"):
        out = await term.say(user, f"/submit {b} https://p.example/{user}")
        sub = re.search(r"S\d+", out).group(0)
        await term.say("boss", f"/approve {sub}")
    assert "“海报”" in await term.opened("li") and "“Poster”" in await term.opened("alice")
    out = await term.say("boss", f"/translate {b.removeprefix('B')} zh_Hans title=x")
    assert "A bare number could be" in out
    out = await term.say("boss", f"/translate {b} fr title=x")
    assert "This bot does not speak “fr”" in out
    out = await term.say("boss", f"/translate {b} zh_Hans name=x")
    assert "has no text called name" in out
    out = await term.say("boss", "/translate R999 zh_Hans name=x")
    assert "R999" in out or "could not find" in out


def press(out: str, label: str) -> str:
    """The console line that presses the button labelled `label` in `out`."""
    number = re.search(rf"\[(\d+)\] {re.escape(label)}", out)
    assert number, f"no button {label!r} in:\n{out}"
    return f"/press {number.group(1)}"


async def test_sponsor_filter_pages_with_chinese_name(term):
    for n in range(24):
        await new(term, f"title=T{n} reward=5 sponsor={'腾讯' if n % 2 else 'Acme'}")
    out = await term.say("alice", "/bounties sponsor=腾讯")
    assert "Only: 腾讯" in out and "Page 1 of 2" in out
    assert "T23\n" in out and "T22\n" not in out and "T3\n" not in out
    out = await term.say("alice", press(out, "Older ›"))
    # The second page keeps the filter (it rides as a server-side token, not as the name).
    assert "Only: 腾讯" in out and "Page 2 of 2" in out
    assert "T3\n" in out and "T1\n" in out and "T2\n" not in out and "T23\n" not in out
    out = await term.say("alice", "/bounties")
    assert "Page 1 of 3" in out
    out = await term.say("alice", "/bounties track=video")
    assert "No open bounties right now." in out


async def test_editbounty_changes_and_audits(app, term):
    b = await new(term, "title=Old reward=5 sponsor=Acme")
    out = await term.say("boss", f'/editbounty {b} title="New" reward=7 sponsor=- winners=2')
    assert "updated (open): New" in out and "7 points" in out and "2 winners left" in out
    out = await term.say("boss", f"/editbounty {b}")
    assert "Give at least one field to change" in out
    actions = [row.action for row in await app.services.audit.recent()]
    assert "bounty.edit" in actions and "bounty.create" in actions


def fixed_words(template: str) -> list[str]:
    """A translation's pieces between its placeholders, which a reply built from it shows."""
    return [w for w in re.split(r"\{[a-z_]+\}", template) if w.strip()]


async def test_the_whole_way_in_chinese_on_the_console(term, app):
    """/bounties → Submit button → link → Approve button → notice → /redeem → fulfilled, read
    in Chinese; the balance is its ledger's sum and the export lists the submission."""
    zh = Translator("zh_Hans").gettext
    b = await new(term, "title=Poster reward=80")
    await term.say("boss", '/newreward name="Campus hoodie" cost=50 stock=1')
    out = await term.say("li", "/bounties", locale="zh_Hans")
    assert zh("Open bounties") in out and "Poster（" in out  # the untranslated note, unspaced
    out = await term.say("li", press(out, zh("Submit to {id}").format(id=b)), locale="zh_Hans")
    assert f"/submit {b}" in out
    out = await term.say("li", "https://example.com/li-poster", locale="zh_Hans")
    sub = re.search(r"S\d+", out).group(0)
    out = await term.say("boss", "/review")
    out = await term.say("boss", press(out, f"Approve {sub}"))
    assert f"Approved {sub}: li received 80 points." in out
    out = await term.say("li", "/redeem R1", locale="zh_Hans")
    assert "O1" in out and "30" in out
    await term.say("boss", "/fulfil O1")
    _session, seen = await term.session("li", locale="zh_Hans")
    # Notices reach li's open terminal, or the next one if it closed before they came.
    opened = seen.getvalue() + await term.opened("li", locale="zh_Hans")
    approved = zh("Your submission {submission} to {bounty} “{title}” was approved: you "
                  "received {points}!")
    fulfilled = zh("Your order {order} ({name}) has been fulfilled. Enjoy!")
    assert fixed_words(approved) and all(w in opened for w in fixed_words(approved))
    assert all(w in opened for w in fixed_words(fulfilled)) and "O1" in opened and sub in opened
    assert await app.services.ledger.check_invariants() == []
    export = await app.services.bounties.export_rows()
    assert [(line[4], line[7], line[9]) for line in export.rows] == [
        (sub, "https://example.com/li-poster", "approved")]
