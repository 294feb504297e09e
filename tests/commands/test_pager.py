"""The generic pager: one button action (`v1:pg:<list>:<page>[:<token>]`) for every list, its
filters kept server-side under a short token, and every press checked again."""

from __future__ import annotations

import re

import pytest

from adapters.console.parse import parse_line
from bot.actions import MAX_BYTES, action
from bot.app import App
from bot.commands import FEATURES
from bot.commands.context import Ctx
from bot.i18n import Translator
from bot.model import Actor, Platform, Role
from bot.reply import Reply, Text
from bot.services.pages import LIFETIME, PageFilters, canonical_json
from bot.spec import Opt, Registry, Router
from bot.views.pager import Page, clamp, page_line, page_of, pager_buttons
from tests.commands.conftest import Terminal
from tests.conftest import make_settings

ORG = Role.ORGANISER

# -- a feature of the test's own with two paged lists ---------------------------------------

SPONSORED = [(f"prize {n}", "腾讯" if n % 2 else "Acme") for n in range(1, 14)]
demo = Router("demo")


@demo.command("prizes", "Prizes, optionally of one sponsor.",
              Opt.text("sponsor", "Sponsor", required=False, rest=True))
async def prizes(ctx: Ctx, sponsor: str | None) -> Reply:
    return await prize_pages(ctx, 1, {"sponsor": sponsor} if sponsor else {})


@demo.pager("prizes")
async def prize_pages(ctx: Ctx, page: int, filters: dict[str, str]) -> Reply:
    sponsor = filters.get("sponsor")
    items = [name for name, by in SPONSORED if sponsor in (None, by)]
    shown = page_of(items, page, 5)
    text = Text().line(f"Prizes of {sponsor or 'everyone'}")
    for name in shown.items:
        text.line(name)
    text.line(page_line(ctx.t, shown))
    token = await ctx.services.pages.token_for(filters)
    return text.reply(buttons=pager_buttons(ctx.t, "prizes", shown, token))


@demo.command("audits", "Organisers' list.", role=ORG)
async def audits(ctx: Ctx) -> Reply:
    return await audit_pages(ctx, 1, {})


@demo.pager("audits", role=ORG)
async def audit_pages(ctx: Ctx, page: int, filters: dict[str, str]) -> Reply:
    shown = page_of([f"audit {n}" for n in range(30)], page, 10)
    text = Text().line(", ".join(shown.items)).line(page_line(ctx.t, shown))
    return text.reply(buttons=pager_buttons(ctx.t, "audits", shown))


@pytest.fixture
async def demo_app(sqlite_url, clock):
    application = App(make_settings(sqlite_url), clock=clock,
                      registry=Registry.build((*FEATURES, demo)))
    await application.start()
    yield application
    await application.close()


@pytest.fixture
def demo_term(demo_app) -> Terminal:
    return Terminal(demo_app)


def buttons_of(reply: Reply) -> list[tuple[str, str]]:
    return [(b.label, b.action) for row in reply.buttons for b in row]


async def press(app, user: str, payload: str) -> Reply:
    """`user` presses a button with this payload, made by us or forged."""
    actor = Actor(Platform.CONSOLE, user, username=user)
    return await app.dispatcher.handle(parse_line("/press 1", actor, payload))


def tasks_in(out: str) -> list[int]:
    return [int(n) for n in re.findall(r"\btask (\d+)\b", out)]


# -- /history on the pager ------------------------------------------------------------------


async def test_history_pages_forward_and_back_editing_the_message(term):
    for i in range(25):
        await term.say("boss", f"/award @dave {i + 1} task {i + 1}")
    session, out = await term.session("dave")
    first = await session.handle_line("/history")
    assert not first.edit and "Page 1 of 3" in first.plain_text.splitlines()
    assert [label for label, _ in buttons_of(first)] == ["Older ›"]
    payload = buttons_of(first)[0][1]
    assert re.fullmatch(r"v1:pg:history:2:[A-Za-z0-9]{10}", payload)
    second = await session.handle_line("/press 1")
    assert second.edit and "Page 2 of 3" in second.plain_text.splitlines()
    assert tasks_in(second.plain_text) == list(range(15, 5, -1))
    assert [label for label, _ in buttons_of(second)] == ["‹ Newer", "Older ›"]
    third = await session.handle_line("/press 2")
    assert third.edit and tasks_in(third.plain_text) == [5, 4, 3, 2, 1]
    back = await session.handle_line("/press 1")
    assert back.edit and "Page 2 of 3" in back.plain_text.splitlines()
    # Every page of dave's history names him with the same token.
    tokens = {p.rsplit(":", 1)[1] for r in (first, second, third) for _, p in buttons_of(r)}
    assert len(tokens) == 1
    assert "Page 2 of 3" in out.getvalue()  # what dave's terminal printed


async def test_history_in_chinese_pages_with_translated_labels(term):
    for i in range(12):
        await term.say("boss", f"/award @li {i + 1} task {i + 1}")
    out = await term.say("li", "/history", locale="zh_Hans")
    older = Translator("zh_Hans").gettext("Older ›")
    assert f"[1] {older}" in out


async def test_a_forged_or_unknown_token_gets_the_polite_stale_answer(term, app):
    for i in range(12):
        await term.say("boss", f"/award @dave {i + 1} task {i + 1}")
    await term.say("dave", "/history")
    for payload in ("v1:pg:history:2:NOSUCH", "v1:pg:history:2:NOSUCHTOKE", "v1:pg:history:2",
                    "v1:pg:history:x", "v1:pg:history:0:NOSUCH", "v1:pg:nolist:2",
                    "v1:pg:history:2:a:b"):
        reply = await press(app, "dave", payload)
        assert reply.error and "This button no longer works" in reply.plain_text, payload
        assert "task" not in reply.plain_text and not reply.edit


async def test_a_member_cannot_page_someone_elses_history_with_an_organisers_token(term, app):
    for i in range(12):
        await term.say("boss", f"/award @dave {i + 1} secret {i + 1}")
    session, _out = await term.session("boss", ORG)
    view = await session.handle_line("/history @dave")
    assert "Points history of dave" in view.plain_text
    older = buttons_of(view)[0][1]
    # mallory replays the organiser's button: the token is genuine, the handler refuses her.
    reply = await press(app, "mallory", older)
    assert reply.error and "Only an organiser" in reply.plain_text
    assert "secret" not in reply.plain_text and not reply.edit
    # and dave himself may page his own history with it.
    own = await press(app, "dave", older)
    assert own.edit and "secret 2" in own.plain_text
    # the organiser's press works, and names dave again.
    page = await session.handle_line("/press 1")
    assert page.edit and "Points history of dave" in page.plain_text


async def test_old_history_buttons_are_gone(term, app):
    await term.say("boss", "/award @dave 5 x")
    dave = await app.services.members.resolve(Actor(Platform.CONSOLE, "dave"))
    reply = await press(app, "dave", action("hist", "p", dave.member_id, 1))
    assert "This button no longer works" in reply.plain_text


# -- a list with a filter that cannot ride in a payload --------------------------------------


async def test_a_chinese_filter_travels_as_a_token_and_comes_back_intact(demo_term, demo_app):
    session, _out = await demo_term.session("ann")
    first = await session.handle_line("/prizes 腾讯")
    assert "Prizes of 腾讯" in first.plain_text and "Page 1 of 2" in first.plain_text
    [(label, payload)] = buttons_of(first)
    assert label == "Next ›" and payload.isascii() and "腾讯" not in payload
    assert len(payload.encode()) <= MAX_BYTES
    token = payload.rsplit(":", 1)[1]
    assert await demo_app.services.pages.filters(token) == {"sponsor": "腾讯"}
    second = await session.handle_line("/press 1")
    assert second.edit and "Prizes of 腾讯" in second.plain_text
    assert "Page 2 of 2" in second.plain_text and "Acme" not in second.plain_text
    assert [label for label, _ in buttons_of(second)] == ["‹ Previous"]
    # A list without filters pages without a token.
    everyone = await session.handle_line("/prizes")
    assert buttons_of(everyone)[0][1] == "v1:pg:prizes:2"
    again = await session.handle_line("/press 1")
    assert again.edit and "Prizes of everyone" in again.plain_text


async def test_a_member_pressing_an_organisers_list_is_refused(demo_term, demo_app):
    session, _out = await demo_term.session("boss", ORG)
    first = await session.handle_line("/audits")
    payload = buttons_of(first)[0][1]
    assert payload == "v1:pg:audits:2"
    reply = await press(demo_app, "mallory", payload)
    assert reply.error and "Only an organiser" in reply.plain_text
    assert "audit 1" not in reply.plain_text
    assert (await session.handle_line("/press 1")).edit


async def test_an_expired_token_is_stale_and_one_in_use_lives_on(demo_term, demo_app, clock):
    session, _out = await demo_term.session("ann")
    first = await session.handle_line("/prizes Acme")
    payload = buttons_of(first)[0][1]
    clock.advance(days=20)
    await session.handle_line("/prizes Acme")  # the same token, given a new life
    clock.advance(days=20)
    assert (await press(demo_app, "ann", payload)).edit
    clock.advance(days=31)
    reply = await press(demo_app, "ann", payload)
    assert "This button no longer works" in reply.plain_text


# -- the service and the helpers -------------------------------------------------------------


async def test_the_same_filters_give_the_same_token(app):
    pages: PageFilters = app.services.pages
    assert await pages.token_for({}) is None
    one = await pages.token_for({"sponsor": "腾讯", "status": "open"})
    assert re.fullmatch(r"[A-Za-z0-9]{8,12}", one)
    assert await pages.token_for({"status": "open", "sponsor": "腾讯"}) == one
    other = await pages.token_for({"sponsor": "阿里巴巴", "status": "open"})
    assert other != one
    assert await pages.filters(one) == {"sponsor": "腾讯", "status": "open"}
    assert await pages.filters(other) == {"sponsor": "阿里巴巴", "status": "open"}
    for bad in ("", "NOSUCHTOKE", "a:b", "x" * 40, "短"):
        assert await pages.filters(bad) is None
    with pytest.raises(TypeError):
        await pages.token_for({"member": 5})  # type: ignore[dict-item]


async def test_old_rows_are_deleted_when_new_ones_are_made(app, clock):
    import sqlalchemy as sa

    from bot.storage.schema import page_filters

    pages: PageFilters = app.services.pages
    old = await pages.token_for({"q": "old"})
    clock.advance(days=LIFETIME.days + 1)
    assert await pages.filters(old) is None
    new = await pages.token_for({"q": "new"})
    async with app.db.read() as conn:
        tokens = set((await conn.execute(sa.select(page_filters.c.token))).scalars())
    assert tokens == {new}


def test_canonical_json_keeps_text_as_it_is():
    assert canonical_json({"b": "2", "a": "腾讯"}) == '{"a":"腾讯","b":"2"}'


def test_clamp_and_buttons():
    assert clamp(0, 0, 10) == (1, 1)
    assert clamp(5, 25, 10) == (3, 3)
    assert clamp(-3, 25, 10) == (1, 3)
    assert clamp(2, 25, 10) == (2, 3)
    t = Translator("en")
    assert pager_buttons(t, "bounties", Page((), 1, 1)) == ()
    [row] = pager_buttons(t, "bounties", Page(("x",), 2, 3, 25), "AbCdEf1234")
    assert [(b.label, b.action) for b in row] == [
        ("‹ Previous", "v1:pg:bounties:1:AbCdEf1234"), ("Next ›", "v1:pg:bounties:3:AbCdEf1234")]
    shown = page_of(list(range(12)), 9, 5)
    assert (shown.items, shown.number, shown.pages, shown.total) == ((10, 11), 3, 3, 12)


def test_list_names_are_unique_across_features():
    one, two = Router("one"), Router("two")
    one.pager("things")(prize_pages)
    two.pager("things")(prize_pages)
    with pytest.raises(ValueError, match="paged list things declared twice"):
        Registry.build((one, two))
