"""Entity ids: `B12` out, `B12`/`b12`/`12` in, and the errors a member reads when it's wrong."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot import reference
from bot.commands.parse import convert
from bot.errors import UsageError
from bot.i18n import Translator
from bot.ids import BadId, EntityId, IdKind, format_id, parse_id
from bot.model import Platform
from bot.reply import Reply
from bot.spec import CommandSpec, Kind, Opt
from bot.views import errors as error_views
from bot.views.ids import KIND_NAMES, kind_name, kind_names
from bot.views.usage import placeholder, usage_line

B, R, E, T = IdKind.BOUNTY, IdKind.REWARD, IdKind.EVENT, IdKind.SESSION
TRANSLATE = (B, R, E, T)


# -- bot.ids ----------------------------------------------------------------------------------

def test_eight_kinds_with_their_letters_and_names():
    assert {k.value: k.noun for k in IdKind} == {
        "B": "bounty", "S": "submission", "R": "reward", "O": "order", "E": "event",
        "T": "session", "A": "announcement", "C": "channel"}
    assert [k.example for k in IdKind] == ["B12", "S7", "R3", "O9", "E5", "T2", "A4", "C1"]
    assert set(KIND_NAMES) == set(IdKind)


def test_formatting():
    assert format_id(B, 12) == "B12"
    assert format_id("t", 2) == "T2"
    assert str(EntityId(IdKind.ANNOUNCEMENT, 4)) == "A4"
    assert f"{EntityId(IdKind.CHANNEL, 1)}" == "C1"
    with pytest.raises(ValueError):
        format_id("X", 1)


@pytest.mark.parametrize("text", ["B12", "b12", "12", "  B12 ", "\tb12\n", "B012"])
def test_each_accepted_form_with_one_kind(text):
    assert parse_id(text, [B]) == EntityId(B, 12)
    assert parse_id(text, "B") == EntityId(B, 12)  # letters work as kinds too


def test_letter_picks_among_several_kinds():
    assert parse_id("r3", TRANSLATE) == EntityId(R, 3)
    assert parse_id("T2", "BRET") == EntityId(T, 2)
    assert parse_id("999999999999", [IdKind.ORDER]) == EntityId(IdKind.ORDER, 999999999999)


def test_bare_number_with_several_kinds_is_ambiguous():
    with pytest.raises(BadId) as caught:
        parse_id("12", TRANSLATE)
    assert caught.value.reason == "ambiguous"
    assert caught.value.kinds == TRANSLATE
    assert isinstance(caught.value, ValueError)


def test_wrong_kind():
    with pytest.raises(BadId) as caught:
        parse_id("R3", [B])
    assert caught.value.reason == "wrong_kind"
    assert caught.value.found == EntityId(R, 3)
    assert caught.value.kinds == (B,)


@pytest.mark.parametrize("text", [
    "", "B", "#12", "B#12", "B 12", "BB12", "12B", "B-1", "B1.5", "B0", "0", "X12", "B١٢",
    "B" + "1" * 13, "1" * 13, "bounty", "B12;",
])
def test_junk_is_not_an_id(text):
    with pytest.raises(BadId) as caught:
        parse_id(text, [B])
    assert caught.value.reason == "not_an_id"


def test_an_id_needs_a_known_kind():
    with pytest.raises(ValueError):
        parse_id("B1", [])
    with pytest.raises(ValueError):
        parse_id("B1", ["Q"])


# -- Opt.ident and the converter --------------------------------------------------------------

BOUNTY = Opt.ident("bounty", "The bounty.", [B])
TARGET = Opt.ident("id", "What to translate.", TRANSLATE)
SPEC = CommandSpec("translate", "Translate something.", handler=None, options=(TARGET,))
BOUNTY_SPEC = CommandSpec("bounty", "Show a bounty.", handler=None, options=(BOUNTY,))
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def parsed(opt: Opt, value: str):
    return convert(opt, value, platform=Platform.CONSOLE, tz=UTC, now=NOW)


def problem(opt: Opt, value: str) -> UsageError:
    with pytest.raises(UsageError) as caught:
        parsed(opt, value)
    return caught.value


def test_ident_option():
    assert TARGET.kind is Kind.ID and TARGET.id_kinds == ("B", "R", "E", "T")
    assert Opt.ident("x", "x", "be").id_kinds == ("B", "E")
    with pytest.raises(ValueError):
        Opt.ident("x", "x", [])
    with pytest.raises(ValueError):
        Opt.ident("x", "x", ["B12"])


def test_converter_returns_an_entity_id():
    assert parsed(BOUNTY, "12") == EntityId(B, 12)
    assert parsed(BOUNTY, "b12") == EntityId(B, 12)
    assert parsed(TARGET, "E5") == EntityId(E, 5)


def test_converter_problems():
    error = problem(TARGET, "12")
    assert error.params == {"option": "id", "problem": "ambiguous_id", "value": "12",
                            "kinds": ("B", "R", "E", "T"),
                            "example": ("B12", "R12", "E12", "T12")}
    error = problem(BOUNTY, "R3")
    assert error.params == {"option": "bounty", "problem": "wrong_id_kind", "value": "R3",
                            "kind": "R", "kinds": ("B",), "example": ("B12",)}
    error = problem(TARGET, "#12")
    assert error.params == {"option": "id", "problem": "bad_id", "value": "#12",
                            "example": ("B12", "R3", "E5", "T2")}
    assert problem(BOUNTY, "1" * 50).params["value"] == "1" * 40
    assert problem(BOUNTY, "  ").params["problem"] == "missing"


# -- what a member reads ------------------------------------------------------------------------

EN = Translator("en")


def first_line(error: UsageError, spec: CommandSpec) -> str:
    reply: Reply = error_views.render(EN, error, spec, pressed=False)
    return reply.plain_text.splitlines()[0]


def test_ambiguous_message():
    assert first_line(problem(TARGET, "12"), SPEC) == (
        "A bare number could be a bounty, a reward, an event, or an event session: write the "
        "id with its letter, such as B12, R12, E12, or T12.")


def test_wrong_kind_message():
    assert first_line(problem(BOUNTY, "r3"), BOUNTY_SPEC) == (
        "R3 is a reward, but the bounty must be a bounty, such as B12.")
    two = Opt.ident("id", "x", [B, E])
    spec = CommandSpec("x", "x", handler=None, options=(two,))
    assert first_line(problem(two, "A4"), spec) == (
        "A4 is an announcement, but the id must be a bounty or an event, such as B12 or E5.")


def test_bad_id_message():
    assert first_line(problem(BOUNTY, "#12"), BOUNTY_SPEC) == (
        "Write the bounty as an id such as B12 (you wrote “#12”).")
    assert first_line(problem(TARGET, "B#12"), SPEC) == (
        "Write the id as an id such as B12, R3, E5, or T2 (you wrote “B#12”).")


def test_usage_follows_and_the_placeholder_stays_id():
    text = error_views.render(EN, problem(TARGET, "12"), SPEC, pressed=False).plain_text
    assert "/translate ID" in text
    assert placeholder(TARGET) == "ID" and usage_line(SPEC) == "/translate ID"


def test_kind_names_are_a_translated_list():
    assert kind_name(EN, "E") == "an event"
    assert kind_names(EN, "BR") == "a bounty or a reward"
    zh = Translator("zh_Hans")
    assert "或" in kind_names(zh, "BR")  # Chinese lists its alternatives its own way


# -- docs/commands.md -----------------------------------------------------------------------------

def test_reference_describes_id_options():
    assert reference._kind(BOUNTY) == "an id: `B12` (a bounty) or just `12`"
    assert reference._kind(Opt.ident("e", "x", [E])) == "an id: `E5` (an event) or just `5`"
    assert reference._kind(TARGET) == (
        "an id of a bounty, reward, event or session: `B12`, `R3`, `E5` or `T2`")
