"""Any text to any command gets a message, never a traceback and never a half-done change."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.commands import load_registry
from bot.model import Actor, ChatRef, Invocation, Platform, Role

COMMANDS = sorted(spec.name for spec in load_registry())
counter = itertools.count()

texts = st.one_of(
    st.text(max_size=200),
    st.text(alphabet=st.sampled_from('@:="<>&*_`~|\\ \n\t\x00\u202e\u200f'
                                     "0123456789abcB-+/📚🎉مرحبا中文"), max_size=80),
    st.builds(lambda s: s * 10_000, st.sampled_from(["a", "1", "😀", "\u202e", '"'])),
    st.lists(st.sampled_from(["@bob", "telegram:1", "<@123>", "999999999999999", "-1",
                              "amount=5", 'reason="x y"', "2026-12-01", "20:00", "+08:00",
                              "Asia/Shanghai", "week", "organiser", "zh_Hans"]),
             max_size=6).map(" ".join),
)


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(command=st.sampled_from(COMMANDS), text=texts)
async def test_every_command_answers_any_text(sqlite_app, command, text):
    boss = Actor(Platform.CONSOLE, "fuzzer", username="fuzzer", trusted_role=Role.ORGANISER)
    inv = Invocation(boss, ChatRef(Platform.CONSOLE, "fuzzer"), f"fuzz:{next(counter)}",
                     command=command, text=text)
    reply = await sqlite_app.dispatcher.handle(inv)
    assert reply is not None and reply.plain_text.strip()
    assert "error id" not in reply.plain_text, reply.plain_text
    assert await sqlite_app.services.ledger.check_invariants() == []
