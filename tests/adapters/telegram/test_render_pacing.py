"""Pure parts of the adapter: HTML rendering and splitting, pacing windows, command parsing."""

from __future__ import annotations

import asyncio

import pytest

from adapters.telegram import render
from adapters.telegram.menus import menu_languages
from adapters.telegram.pacing import Limits, Pacer, Unsent, Window
from adapters.telegram.parse import split_command
from bot.config import TelegramSettings
from bot.reply import Reply, Span, Style, bold, link
from tests.adapters.telegram.conftest import FakeClock
from tests.fakes.telegram_api import parse_html


def test_every_span_is_escaped_and_styled() -> None:
    spans = (Span("a < b & c"), bold("<i>"), link("x", 'https://e.com/?q="1"&r=2'),
             link("bad", "javascript:alert(1)"), Span("`x`", Style.CODE))
    [html] = render.chunks(spans)
    plain, _ = parse_html(html)
    assert plain == "a < b & c<i>xbad`x`"
    assert 'href="https://e.com/?q=&quot;1&quot;&amp;r=2"' in html


@pytest.mark.parametrize("line_len", [10, 999, 5000])
def test_long_replies_split_under_the_limit_and_never_inside_a_tag(line_len: int) -> None:
    spans: list[Span] = []
    for n in range(60):
        spans += [Span("\n") if spans else Span(""), bold(f"{n}:"), Span("é<&" * (line_len // 3))]
    parts = render.chunks(tuple(spans))
    assert len(parts) == 1 if line_len < 50 else len(parts) > 1  # short lines fit in one
    total = ""
    for part in parts:
        plain, _ = parse_html(part)  # raises on a cut tag or bad escaping
        assert render.units(plain) <= render.MAX_TEXT
        total += plain
    assert total.replace("\n", "") == "".join(s.text for s in spans).replace("\n", "")


def test_group_error_keeps_the_first_line() -> None:
    reply = Reply(spans=(bold("amount"), Span(" is missing."), Span("\n"), Span("Usage: …")))
    assert render.first_line(reply).plain_text == "amount is missing."


def test_window_spaces_bursts_and_obeys_pauses() -> None:
    window = Window(limit=2, period=1.0)
    slots = []
    for _ in range(5):
        at = window.earliest(10.0)
        window.book(at)
        slots.append(at)
    assert slots == [10.0, 10.0, 11.0, 11.0, 12.0]
    window.paused_until = 20.0
    assert window.earliest(10.0) == 20.0


def test_pacer_windows_come_from_telegram_settings() -> None:
    settings = TelegramSettings(messages_per_second=50, private_chat_burst=4,
                                private_chat_period_seconds=2, group_messages_per_minute=7)
    pacer = Pacer(Limits.from_settings(settings))
    group, private = pacer._chat_window("-1001"), pacer._chat_window("42")
    assert (group.limit, group.period) == (7, 60.0)
    assert (private.limit, private.period) == (4, 2)
    assert (pacer.overall.limit, pacer.overall.period) == (50, 1.0)


async def spin(condition) -> bool:
    """Let the other tasks run (no time passes on the fake clock) until `condition()` holds."""
    for _ in range(100):
        if condition():
            return True
        await asyncio.sleep(0)
    return bool(condition())


async def test_stopping_gives_up_only_turns_past_the_grace() -> None:
    clock = FakeClock()
    start = clock.now
    pacer = Pacer(Limits(group_per_minute=1, private_burst=1, private_period=0.5),
                  clock=clock, sleep=clock.sleep)
    await pacer.wait_turn("-100")
    await pacer.wait_turn("7")
    group = asyncio.create_task(pacer.wait_turn("-100"))
    private = asyncio.create_task(pacer.wait_turn("7"))
    try:
        assert await spin(lambda: len(clock.wakeups) == 2)
        assert list(pacer.chats["-100"].times) == [start, start + 60.0]  # a minute away
        assert list(pacer.chats["7"].times) == [start, start + 0.5]
        pacer.stopping(grace=1.0)
        # Given up at once: the clock has not moved, so it did not wait for the minute.
        assert await spin(group.done) and clock.now == start
        with pytest.raises(Unsent, match="turn was 60 s away"):
            group.result()
        assert not private.done()  # due within the grace: it waits for its slot ...
        clock.advance(0.5)
        assert await spin(private.done)
        private.result()  # ... and is sent then
        # The overall window saw the two first sends and the private one, at its slot.
        assert list(pacer.overall.times) == [start, start, start + 0.5]
    finally:
        group.cancel()
        private.cancel()


async def test_stopping_wakes_a_wait_on_the_real_clock_too() -> None:
    """The production defaults (monotonic clock, asyncio.sleep): a turn a minute away is given
    up as soon as stopping() is called, within a few turns of the event loop."""
    pacer = Pacer(Limits(group_per_minute=1))
    await pacer.wait_turn("-100")
    group = asyncio.create_task(pacer.wait_turn("-100"))
    try:
        assert await spin(lambda: len(pacer.chats["-100"].times) == 2) and not group.done()
        pacer.stopping(grace=1.0)
        assert await spin(group.done)
        with pytest.raises(Unsent, match="not sent: the bot is stopping"):
            group.result()
    finally:
        group.cancel()


def test_commands_and_menu_languages() -> None:
    assert split_command("/award@campus_bot @bob 5 x y") == ("award", "@bob 5 x y")
    assert split_command("/Points") == ("points", "")
    assert menu_languages(["en", "zh_Hant", "zh_Hans"]) == {"en": "en", "zh": "zh_Hans"}
