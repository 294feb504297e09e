"""The bounty service on both backends: one credit however many approve at once, two
different organisers above the double-approval limit, links compared normalised, deadlines,
and the export's columns."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot import errors
from bot.commands.bounties import export_bounties
from bot.model import Actor, Platform, Role
from bot.services import bounties as service
from bot.views import bounties as views

ORG = Role.ORGANISER


async def member(app, name: str) -> int:
    caller = await app.services.members.resolve(Actor(Platform.CONSOLE, name, username=name))
    return caller.member_id


async def posted(app, organiser: int, **fields) -> int:
    fields.setdefault("title", "Poster")
    fields.setdefault("reward", 100)
    bounty = await app.services.bounties.create(organiser, ORG, **fields)
    return bounty.id


async def submitted(app, member_id: int, bounty_id: int, link: str) -> int:
    row, _bounty = await app.services.bounties.submit(member_id, bounty_id, link, None,
                                                      "console")
    return row.id


async def attempt(coro):
    try:
        return await coro
    except errors.DomainError as exc:
        return exc


async def test_two_organisers_approving_at_once_credit_once(app):
    boss, judy, alice = [await member(app, n) for n in ("boss", "judy", "alice")]
    b = await posted(app, boss, winners=5)
    s = await submitted(app, alice, b, "https://x.example/1")
    results = await asyncio.gather(*(
        attempt(app.services.bounties.approve(who, ORG, s, notice=views.APPROVED))
        for who in (boss, judy, boss, judy)))
    approved = [r for r in results if isinstance(r, service.Decision)]
    assert len(approved) == 1 and approved[0].state == "approved"
    assert all(isinstance(r, (service.AlreadyDecided, service.AlreadyApprovedByYou))
               for r in results if r not in approved)
    assert (await app.services.ledger.standing(alice)).balance == 100
    assert (await app.services.bounties.get(b)).approved == 1
    assert await app.services.ledger.check_invariants() == []


async def test_concurrent_approvals_respect_the_winner_limit(app):
    boss, judy = await member(app, "boss"), await member(app, "judy")
    b = await posted(app, boss, winners=1)
    subs = [await submitted(app, await member(app, f"m{i}"), b, f"https://x.example/{i}")
            for i in range(3)]
    results = await asyncio.gather(*(attempt(app.services.bounties.approve(
        boss if i % 2 else judy, ORG, s)) for i, s in enumerate(subs)))
    assert sum(isinstance(r, service.Decision) for r in results) == 1
    assert sum(isinstance(r, service.WinnersReached) for r in results) == 2
    bounty = await app.services.bounties.get(b)
    assert bounty.status == "closed" and bounty.approved == 1


async def test_double_approval_needs_two_different_organisers(app):
    app.services.bounties.double_approval_above = 50
    boss, judy, alice = [await member(app, n) for n in ("boss", "judy", "alice")]
    b = await posted(app, boss, reward=100)
    s = await submitted(app, alice, b, "https://x.example/1")
    first = await app.services.bounties.approve(boss, ORG, s)
    assert (first.state, first.approvals, first.needed) == ("waiting", 1, 2)
    with pytest.raises(service.AlreadyApprovedByYou):
        await app.services.bounties.approve(boss, ORG, s)
    assert (await app.services.ledger.standing(alice)).balance == 0
    second = await app.services.bounties.approve(judy, ORG, s)
    assert second.state == "approved" and second.approvals == 2
    assert (await app.services.ledger.standing(alice)).balance == 100


async def test_double_approval_at_once_credits_once(app):
    app.services.bounties.double_approval_above = 50
    boss, judy, alice = [await member(app, n) for n in ("boss", "judy", "alice")]
    b = await posted(app, boss, reward=100)
    s = await submitted(app, alice, b, "https://x.example/1")
    results = await asyncio.gather(*(attempt(app.services.bounties.approve(who, ORG, s))
                                     for who in (boss, judy, boss, judy)))
    states = sorted(r.state for r in results if isinstance(r, service.Decision))
    assert states == ["approved", "waiting"]
    assert (await app.services.ledger.standing(alice)).balance == 100


async def test_members_cannot_decide(app):
    boss, alice = await member(app, "boss"), await member(app, "alice")
    b = await posted(app, boss)
    s = await submitted(app, alice, b, "https://x.example/1")
    with pytest.raises(errors.PermissionDenied):
        await app.services.bounties.approve(alice, Role.MEMBER, s)
    with pytest.raises(errors.PermissionDenied):
        await app.services.bounties.reject(alice, Role.MEMBER, s, "no")
    with pytest.raises(errors.PermissionDenied):
        await app.services.bounties.create(alice, Role.MEMBER, title="x", reward=1)


async def test_same_link_from_two_members_at_once(app):
    boss = await member(app, "boss")
    b = await posted(app, boss, once=False)
    members = [await member(app, f"m{i}") for i in range(4)]
    links = ["https://Site.example/a/", "https://site.example/a?utm_source=t",
             "HTTPS://SITE.EXAMPLE/a#x", "https://site.example/a?gclid=1"]
    results = await asyncio.gather(*(attempt(submitted(app, m, b, link))
                                     for m, link in zip(members, links, strict=True)))
    assert sum(isinstance(r, int) for r in results) == 1
    assert sum(isinstance(r, service.LinkTaken) for r in results) == 3


def test_link_key_normalises():
    key = service.link_key
    assert key("HTTPS://Example.COM/Path/?utm_medium=x&a=1&fbclid=2&si=3&igshid=4#f") == \
        "https://example.com/Path?a=1"
    assert key("https://example.com:443/") == key("https://example.com")
    assert key("https://example.com/a") != key("https://example.com/A")
    assert key("https://example.com/?v=1") != key("https://example.com/?v=2")
    assert len(key("https://example.com/" + "a" * 400)) <= service.KEY_MAX
    with pytest.raises(service.BadLink):
        service.check_link("javascript:alert(1)")
    with pytest.raises(service.BadLink):
        service.check_link("https://")


def test_date_deadline_is_the_end_of_the_day_in_the_zone():
    day = date(2026, 12, 1)
    assert service.end_of_day(day, ZoneInfo("Asia/Shanghai")) == \
        datetime(2026, 12, 1, 15, 59, 59, tzinfo=UTC)
    assert service.end_of_day(day, ZoneInfo("America/New_York")) == \
        datetime(2026, 12, 2, 4, 59, 59, tzinfo=UTC)


async def test_past_deadline_reads_closed(app, clock):
    boss, alice = await member(app, "boss"), await member(app, "alice")
    b = await posted(app, boss, deadline=datetime(2026, 11, 25, 13, 0, tzinfo=UTC))
    assert service.effective_status(await app.services.bounties.get(b), clock()) == "open"
    clock.advance(hours=1, seconds=1)
    bounty = await app.services.bounties.get(b)
    assert bounty.status == "open" and service.effective_status(bounty, clock()) == "closed"
    with pytest.raises(service.BountyExpired):
        await submitted(app, alice, b, "https://x.example/late")
    assert (await app.services.bounties.open_page(None, None, 1, 10)).items == []


async def test_approval_after_the_deadline_still_credits(app, clock):
    boss, alice = await member(app, "boss"), await member(app, "alice")
    b = await posted(app, boss, deadline=datetime(2026, 11, 25, 13, 0, tzinfo=UTC))
    s = await submitted(app, alice, b, "https://x.example/1")
    clock.advance(days=3)
    assert (await app.services.bounties.approve(boss, ORG, s)).state == "approved"


async def test_export_columns_and_filters(app, clock):
    boss, judy, alice = [await member(app, n) for n in ("boss", "judy", "alice")]
    acme = await posted(app, boss, sponsor="Acme", title="Acme poster")
    tencent = await posted(app, boss, sponsor="腾讯", title="海报")
    s1 = await submitted(app, alice, acme, "https://x.example/1")
    s2 = await submitted(app, alice, tencent, "https://x.example/2")
    await app.services.bounties.approve(judy, ORG, s1)
    await app.services.bounties.reject(boss, ORG, s2, "blurry")
    table = await export_bounties(app.services, sponsor=None, since=None)
    assert table.header == ["bounty_id", "bounty_title", "sponsor", "track", "submission_id",
                            "member_id", "member", "link", "note", "state", "reviewers",
                            "points", "reason", "submitted_at", "decided_at"]
    rows = {row[4]: dict(zip(table.header, row, strict=True)) for row in table.rows}
    first = rows[f"S{s1}"]
    assert (first["bounty_id"], first["sponsor"], first["state"], first["reviewers"],
            first["points"], first["member"]) == (f"B{acme}", "Acme", "approved", "judy", 100,
                                                  "alice")
    second = rows[f"S{s2}"]
    assert (second["state"], second["reviewers"], second["reason"]) == ("rejected", "boss",
                                                                        "blurry")
    only = await export_bounties(app.services, sponsor="腾讯", since=None)
    assert [row[4] for row in only.rows] == [f"S{s2}"]
    later = await export_bounties(app.services, sponsor=None, since=date(2026, 11, 26))
    assert later.rows == []
    assert "bounties" in app.registry.exports


async def test_every_organiser_action_is_audited(app):
    boss, alice = await member(app, "boss"), await member(app, "alice")
    b = await posted(app, boss)
    await app.services.bounties.edit(boss, ORG, b, {"title": "New"})
    s = await submitted(app, alice, b, "https://x.example/1")
    await app.services.bounties.approve(boss, ORG, s)
    await app.services.bounties.translate(boss, ORG, "bounty", b, f"B{b}", "zh_Hans",
                                          {"title": "新"})
    await app.services.bounties.close(boss, ORG, b)
    actions = [row.action for row in await app.services.audit.recent(boss)]
    for expected in ("bounty.create", "bounty.edit", "bounty.approve", "bounty.translate",
                     "bounty.close"):
        assert expected in actions
