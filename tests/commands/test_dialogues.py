"""Guided dialogues through the console and the dispatcher, with a test-only dialogue command.

No feature declares a `dialogue` command yet, so `wishes` (below) does: `/wish AMOUNT TITLE…`
asks for what is missing and echoes its arguments. The App gets the real FEATURES plus it.
"""

from __future__ import annotations

import pytest

from bot import actions
from bot.app import App
from bot.commands import FEATURES
from bot.i18n import translator
from bot.model import Actor, ChatKind, ChatRef, Invocation, Platform
from bot.reply import Button, Form, FormField, Reply, Text, is_form_payload
from bot.spec import Opt, Registry, Router
from bot.views.dialogue import MAX_FIELDS, form_for
from tests.commands.conftest import Terminal
from tests.conftest import make_settings

NOT_ANSWERING = "Commands start with / — send /help to see them."  # no dialogue is open

wishes = Router("wishes")


@wishes.command("wish", "Make a wish.",
                Opt.points("amount", "how many points it is worth"),
                Opt.text("title", "what you wish for", max_len=60, rest=True),
                dialogue=True)
async def wish(ctx, amount, title) -> Reply:
    return Text().add(f"wish: {title} for {amount}").reply()


@wishes.command("wishes", "Wish buttons.")
async def wish_buttons(ctx) -> Reply:
    return Text().add("Wishes").reply(buttons=((Button("Seven", actions.action("wish", "7")),),))


@wishes.button("wish")
async def wish_pressed(ctx, action) -> Reply:
    """A button whose follow-up needs text: the shape of a future Submit → link."""
    return Text().add("Worth seven points.").reply(form=Form(
        title="Wish", command="wish", fixed={"amount": action.args[0] if action.args else "7"},
        fields=(FormField("title", "Title", "what you wish for", long=True, max_len=60),)))


def wish_registry(*routers: Router) -> Registry:
    return Registry.build([*FEATURES, wishes, *routers])


@pytest.fixture
async def wish_app(sqlite_url, clock):
    application = App(make_settings(sqlite_url), clock=clock, registry=wish_registry())
    await application.start()
    yield application
    await application.close()


@pytest.fixture
def term(wish_app) -> Terminal:
    return Terminal(wish_app)


def invocation(text: str = "", *, command: str | None = None, named=None,
               action: str | None = None, user: str = "alice") -> Invocation:
    actor = Actor(Platform.CONSOLE, user, username=user)
    chat = ChatRef(Platform.CONSOLE, user, ChatKind.PRIVATE)
    return Invocation(actor, chat, f"console:{text}{command}{action}", command=command,
                      text=text, named=dict(named or {}), action=action)


# -- the console: one question at a time ----------------------------------------------------------


async def test_a_bad_answer_is_asked_again_with_the_reason(term):
    out = await term.say("alice", "/wish")
    assert out.startswith("/wish: please send amount (how many points it is worth).")
    assert "Send /cancel to stop." in out
    out = await term.say("alice", "lots")
    assert out.startswith("Write the amount as a whole number, such as 50 (you wrote “lots”).")
    assert "/wish: please send amount" in out  # the same question again
    assert "Usage:" not in out
    out = await term.say("alice", "0")
    assert out.startswith("The amount must be from 1 to 1,000,000.")
    assert "/wish: please send amount" in out
    out = await term.say("alice", "5")
    assert out.startswith("/wish: please send title (what you wish for).")
    assert await term.say("alice", "a bike") == "wish: a bike for 5"
    # The dialogue is over: plain text is no answer to anything now.
    assert await term.say("alice", "more") == NOT_ANSWERING


async def test_a_given_argument_is_not_asked_for(term):
    out = await term.say("alice", "/wish 12")
    assert out.startswith("/wish: please send title")
    assert await term.say("alice", "a kite") == "wish: a kite for 12"


async def test_a_wrong_given_argument_is_a_usage_error_at_once(term):
    out = await term.say("alice", "/wish amount=ten")
    assert out.startswith("Write the amount as a whole number")
    assert "Usage: /wish" in out
    assert await term.say("alice", "a kite") == NOT_ANSWERING  # no dialogue was started


async def test_cancel_ends_the_dialogue(term):
    await term.say("alice", "/wish")
    assert await term.say("alice", "/cancel") == "Cancelled."
    assert await term.say("alice", "5") == NOT_ANSWERING
    assert await term.say("alice", "/cancel") == "There is nothing to cancel."


async def test_cancel_after_a_bad_answer(term):
    await term.say("alice", "/wish")
    await term.say("alice", "many")
    assert await term.say("alice", "/cancel") == "Cancelled."


async def test_another_command_leaves_the_dialogue(term):
    await term.say("alice", "/wish")
    assert "Balance: 0 points" in await term.say("alice", "/points")
    assert await term.say("alice", "5") == NOT_ANSWERING


async def test_dialogues_are_per_member(term):
    await term.say("alice", "/wish")
    await term.say("bob", "/wish 3")
    assert (await term.say("alice", "9")).startswith("/wish: please send title")
    assert await term.say("bob", "a book") == "wish: a book for 3"
    assert await term.say("alice", "a boat") == "wish: a boat for 9"


async def test_a_button_that_needs_text_asks_for_it(term):
    out = await term.say("alice", "/wishes")
    assert "[1] Seven" in out
    out = await term.say("alice", "/press 1")
    assert out.startswith("Worth seven points.\n/wish: please send title")
    assert await term.say("alice", "a kite") == "wish: a kite for 7"


# -- the dispatcher: the Form ---------------------------------------------------------------------


async def test_the_reply_carries_a_form_of_the_missing_fields(wish_app):
    reply = await wish_app.dispatcher.handle(invocation(command="wish"))
    assert reply.ask and not reply.error
    assert reply.plain_text.startswith("/wish: please send amount")
    form = reply.form
    assert form is not None and form.command == "wish" and form.fixed == {}
    assert [(f.name, f.label, f.required) for f in form.fields] == [
        ("amount", "amount", True), ("title", "title", True)]
    assert form.fields[0].help == "how many points it is worth"
    assert form.fields[1].long and form.fields[1].max_len == 60  # takes the rest of a line
    assert form.payload() == "v1:form:wish"
    assert is_form_payload(form.payload())


async def test_known_arguments_ride_along_as_fixed(wish_app):
    reply = await wish_app.dispatcher.handle(invocation("12", command="wish"))
    assert reply.form.fixed == {"amount": "12"}
    assert [f.name for f in reply.form.fields] == ["title"]
    assert reply.form.payload() == "v1:form:wish:amount.12"
    assert Form.target(reply.form.payload()) == ("wish", {"amount": "12"})


async def test_a_form_submission_runs_the_command(wish_app):
    named = {"amount": "4", "title": "a drum"}
    reply = await wish_app.dispatcher.handle(invocation(command="wish", named=named))
    assert reply.plain_text == "wish: a drum for 4"


async def test_a_form_button_reopens_the_form_and_never_runs_it(wish_app):
    reply = await wish_app.dispatcher.handle(invocation(action="v1:form:wish:amount.3"))
    assert reply.form.fixed == {"amount": "3"}
    assert [f.name for f in reply.form.fields] == ["title"]
    stale = await wish_app.dispatcher.handle(invocation(action="v1:form:nosuch"))
    assert stale.error and stale.form is None
    tampered = await wish_app.dispatcher.handle(invocation(action="v1:form:wish:amount"))
    assert tampered.error and tampered.form is None


async def test_a_button_reply_keeps_its_form_and_asks(wish_app):
    reply = await wish_app.dispatcher.handle(invocation(action="v1:wish:7"))
    assert reply.ask and reply.form.title == "Wish" and reply.form.fixed == {"amount": "7"}
    answer = await wish_app.dispatcher.handle(invocation("a kite"))
    assert answer.plain_text == "wish: a kite for 7"


def test_form_for_translates_and_keeps_to_discord_limits():
    big = Router("big")

    @big.command("big", "Many fields.",
                 *(Opt.text(f"f{i}", "help " * 40, label="a long label " * 5,
                            required=i % 2 == 0) for i in range(8)),
                 dialogue=True)
    async def handler(ctx, **kwargs) -> Reply:
        return Reply()

    spec = Registry.build([big]).get("big")
    form = form_for(translator("en"), spec, {"f1": "written already", "f3": "x" * 40})
    assert len(form.fields) == MAX_FIELDS
    assert all(len(f.label) <= 45 and len(f.help) <= 100 for f in form.fields)
    names = [f.name for f in form.fields]
    # the required ones (f0 f2 f4 f6) first, then one already written; spec order kept
    assert names == ["f0", "f1", "f2", "f4", "f6"]
    assert form.fields[1].value == "written already"  # spaces: not a payload token
    assert form.fixed == {}  # "x"*40 does not fit a payload part either, and f3 was dropped
    zh = form_for(translator("zh_Hans"), Registry.build([*FEATURES]).get("award"), {})
    assert [f.label for f in zh.fields][:2] == ["成员", "数量"]
