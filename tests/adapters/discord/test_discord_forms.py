"""Forms on Discord: a dialogue command or a button that needs text opens a modal; its
submission runs the command; id options get autocomplete from the core's suggesters.

The App runs the real FEATURES plus the test-only `wishes` feature (tests/commands/
test_dialogues.py) and `picks`, a command with an id option and a suggester for bounties.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

import pytest_asyncio

from bot.app import App
from bot.config import DatabaseSettings
from bot.reply import Reply, Text
from bot.spec import Opt, Router
from tests.commands.test_dialogues import wish_pressed, wish_registry

from .conftest import MEMBER_ID, make_settings

MODAL = 9
LABEL, TEXT_INPUT, PARAGRAPH = 18, 4, 2

picks = Router("picks")
BOUNTIES = [("B12 — Film the open day", "B12"), ("B13 — Bike repair stand", "B13"),
            ("B14 — Library tour", "B14")]
ASKED: list[tuple[str, int]] = []


@picks.suggest("B")
async def suggest_bounties(services, text: str, member) -> list[tuple[str, str]]:
    ASKED.append((text, member.member_id))
    return [(label, value) for label, value in BOUNTIES if text.lower() in label.lower()]


@picks.command("pick", "Pick a bounty.", Opt.ident("bounty", "the bounty", ["B"]))
async def pick(ctx, bounty) -> Reply:
    return Text().add(f"picked {bounty}").reply()


@picks.button("slow")
async def slow_wish(ctx, action) -> Reply:
    """The wish button, answered after the adapter has deferred."""
    await asyncio.sleep(0.05)
    return await wish_pressed(ctx, action)


@pytest_asyncio.fixture
async def forms_app(tmp_path, fake) -> AsyncIterator[App]:
    settings = make_settings(tmp_path, fake)
    settings = dataclasses.replace(
        settings, database=DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path}/forms.db"))
    core = App(settings, registry=wish_registry(picks))
    await core.start()
    yield core
    await core.close()


@pytest_asyncio.fixture
async def forms_bot(start_adapter, forms_app, fake):
    adapter = await start_adapter(forms_app)
    await fake.wait_connected()
    return adapter


def inputs(modal: dict) -> list[dict]:
    """The modal's text inputs, each with its label's text and description."""
    found = []
    for item in modal["components"]:
        assert item["type"] == LABEL
        found.append({**item["component"], "label": item["label"],
                      "description": item.get("description")})
    return found


async def readable(record):
    message = await record.readable()
    assert record.acknowledged and record.rejections == []
    return message


def synced(fake, name: str) -> dict:
    from .conftest import GUILD_ID

    return next(c for c in fake.commands(GUILD_ID) if c["name"] == name)


async def test_dialogue_options_are_optional_in_the_picker_only(fake, forms_bot):
    wish = {o["name"]: o for o in synced(fake, "wish")["options"]}
    assert not wish["amount"].get("required") and not wish["title"].get("required")
    award = {o["name"]: o for o in synced(fake, "award")["options"]}
    assert award["amount"]["required"]  # not a dialogue command: unchanged


async def test_a_dialogue_command_with_nothing_opens_a_modal(fake, forms_bot):
    record = await fake.slash("wish", user_id=MEMBER_ID)
    response = await record.response()
    assert response["type"] == MODAL and record.rejections == []
    modal = record.modal
    assert modal["title"] == "/wish" and modal["custom_id"] == "v1:form:wish"
    fields = inputs(modal)
    assert [(f["custom_id"], f["label"], f["type"], f["required"]) for f in fields] == [
        ("amount", "amount", TEXT_INPUT, True), ("title", "title", TEXT_INPUT, True)]
    assert fields[0]["description"] == "how many points it is worth"
    assert fields[1]["style"] == PARAGRAPH and fields[1]["max_length"] == 60
    submitted = await fake.submit_modal("v1:form:wish", {"amount": "5", "title": "a bike"},
                                        user_id=MEMBER_ID)
    message = await readable(submitted)
    assert message.content == "wish: a bike for 5" and not message.ephemeral


async def test_given_options_ride_in_the_custom_id(fake, forms_bot):
    record = await fake.slash("wish", {"amount": 12}, user_id=MEMBER_ID)
    await record.response()
    assert record.modal["custom_id"] == "v1:form:wish:amount.12"
    assert [f["custom_id"] for f in inputs(record.modal)] == ["title"]
    submitted = await fake.submit_modal("v1:form:wish:amount.12", {"title": "a kite"},
                                        user_id=MEMBER_ID)
    assert (await readable(submitted)).content == "wish: a kite for 12"


async def test_all_options_given_runs_at_once(fake, forms_bot):
    record = await fake.slash("wish", {"amount": 3, "title": "a drum"}, user_id=MEMBER_ID)
    assert (await readable(record)).content == "wish: a drum for 3"
    assert record.modal is None


async def test_a_slow_core_still_opens_the_modal(fake, forms_app, start_adapter):
    await start_adapter(forms_app, fast_answer=0.0)  # everything else is deferred at once
    await fake.wait_connected()
    record = await fake.slash("wish", user_id=MEMBER_ID)
    assert (await record.response())["type"] == MODAL and record.rejections == []


async def test_a_bad_value_in_the_modal_explains_it(fake, forms_bot):
    await (await fake.slash("wish", user_id=MEMBER_ID)).response()
    submitted = await fake.submit_modal("v1:form:wish", {"amount": "lots", "title": "a bike"},
                                        user_id=MEMBER_ID)
    message = await readable(submitted)
    assert message.ephemeral
    assert message.content.startswith("Write the **amount** as a whole number")


async def test_a_form_submitted_after_a_restart_still_runs(fake, forms_app, start_adapter):
    first = await start_adapter(forms_app)
    await fake.wait_connected()
    await (await fake.slash("wish", {"amount": 8}, user_id=MEMBER_ID)).response()
    await first.stop()
    await start_adapter(forms_app)
    await fake.wait_connected()
    submitted = await fake.submit_modal("v1:form:wish:amount.8", {"title": "a lamp"},
                                        user_id=MEMBER_ID)
    assert (await readable(submitted)).content == "wish: a lamp for 8"


async def test_a_modal_we_did_not_make_gets_a_polite_answer(fake, forms_bot):
    submitted = await fake.submit_modal("garbage", {"title": "x"}, user_id=MEMBER_ID)
    message = await readable(submitted)
    assert "no longer works" in message.content and message.ephemeral


async def test_a_button_that_needs_text_opens_a_modal(fake, forms_bot):
    message = await readable(await fake.slash("wishes", user_id=MEMBER_ID))
    press = await fake.press(message, message.custom_ids[0], user_id=MEMBER_ID)
    assert (await press.response())["type"] == MODAL and press.rejections == []
    assert press.modal["title"] == "Wish"
    assert press.modal["custom_id"] == "v1:form:wish:amount.7"
    assert [f["custom_id"] for f in inputs(press.modal)] == ["title"]
    submitted = await fake.submit_modal("v1:form:wish:amount.7", {"title": "a hat"},
                                        user_id=MEMBER_ID)
    assert (await readable(submitted)).content == "wish: a hat for 7"


async def test_a_late_form_comes_with_a_button_that_opens_it(fake, forms_app, start_adapter):
    await start_adapter(forms_app, fast_answer=0.0)  # the press is deferred before the form
    await fake.wait_connected()
    message = await readable(await fake.slash("wishes", user_id=MEMBER_ID))
    press = await fake.press(message, "v1:slow:7", user_id=MEMBER_ID)
    late = await readable(press)
    assert press.callback_type == 6
    assert "Worth seven points." in late.content
    assert "v1:form:wish:amount.7" in late.custom_ids
    opened = await fake.press(late, "v1:form:wish:amount.7", user_id=MEMBER_ID)
    assert (await opened.response())["type"] == MODAL and opened.rejections == []
    assert [f["custom_id"] for f in inputs(opened.modal)] == ["title"]


async def test_id_options_autocomplete_from_the_core(fake, forms_bot):
    bounty = synced(fake, "pick")["options"][0]
    assert bounty["autocomplete"] is True
    assert not any(o.get("autocomplete") for o in synced(fake, "wish")["options"])
    ASKED.clear()
    record = await fake.autocomplete("pick", {"bounty": "bi"}, user_id=MEMBER_ID)
    response = await record.response()
    assert response["type"] == 8 and record.rejections == []
    assert record.choices == [{"name": "B13 — Bike repair stand", "value": "B13"}]
    assert [text for text, _member in ASKED] == ["bi"]
    everything = await fake.autocomplete("pick", {"bounty": ""}, user_id=MEMBER_ID)
    await everything.response()
    assert [c["value"] for c in everything.choices] == ["B12", "B13", "B14"]
