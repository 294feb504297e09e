"""Our own pacing of Bot API calls, plugged in through PTB's public `BaseRateLimiter` interface.

Why not PTB's `AIORateLimiter`: its `max_retries` defaults to 0 (one 429
loses the message); after a 429 it may release paused requests before `retry_after` has passed;
it throttles every call with a `chat_id` (getChat, sendChatAction too), has no per-private-chat
limit and lets a group take 20 messages at once. Here only calls that put text in a chat are
paced, each against three windows (overall, per private chat, per group), a 429 pauses exactly
the chat it came from until `retry_after` has passed, and the request is then sent again.

Limits: https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this
Rate limiter API: https://docs.python-telegram-bot.org/en/v22.8/telegram.ext.baseratelimiter.html
AIORateLimiter: https://docs.python-telegram-bot.org/en/v22.8/telegram.ext.aioratelimiter.html
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypedDict

from telegram.error import NetworkError, RetryAfter
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)

# Calls that make a message appear or change in a chat: these count against flood limits.
PACED_ENDPOINTS = frozenset({
    "sendMessage", "sendDocument", "sendPhoto", "copyMessage", "forwardMessage",
    "editMessageText", "editMessageReplyMarkup", "editMessageCaption",
})


class PaceArgs(TypedDict, total=False):
    """Per-call options: `rate_limit_args={"max_retries": 0}` hands a 429 back to the caller
    (the outbox schedules the retry itself instead of holding its loop)."""

    max_retries: int


@dataclass(frozen=True)
class Limits:
    """Flood limits; defaults follow `telegram.constants.FloodLimit` and the Bot FAQ."""

    @classmethod
    def from_settings(cls, settings) -> Limits:
        """The `[telegram]` keys: messages_per_second and the per-chat windows."""
        return cls(per_second=settings.messages_per_second,
                   private_burst=settings.private_chat_burst,
                   private_period=settings.private_chat_period_seconds,
                   group_per_minute=settings.group_messages_per_minute)

    per_second: float = 30.0  # all chats together ([telegram] messages_per_second)
    private_burst: int = 3  # "about one message per second" into one chat, short bursts allowed
    private_period: float = 3.0
    group_per_minute: int = 20  # 20 messages per minute into one group
    max_retries: int = 3  # sends again after this many 429s before giving up


class Unsent(NetworkError):
    """A paced message given up at shutdown: its chat's turn was further away than the grace.

    A NetworkError, so a caller that would retry a failed send later (the outbox) does so."""

    def __init__(self, wait: float):
        super().__init__(f"not sent: the bot is stopping and this chat's turn was {wait:.0f} s "
                         "away")


class Window:
    """A sliding window that hands out send times: at most `limit` in any `period` seconds.

    Reservations are made synchronously (no await between reading and booking), so concurrent
    senders can't both take the last slot.
    """

    def __init__(self, limit: int, period: float):
        self.limit = max(1, limit)
        self.period = period
        self.times: deque[float] = deque()
        self.paused_until = 0.0

    def earliest(self, now: float) -> float:
        while self.times and self.times[0] <= now - self.period:
            self.times.popleft()
        at = max(now, self.paused_until, self.times[-1] if self.times else now)
        if len(self.times) >= self.limit:
            at = max(at, self.times[-self.limit] + self.period)
        return at

    def book(self, at: float) -> None:
        self.times.append(at)


def overall_window(per_second: float) -> Window:
    """Spread the overall budget evenly over the second, in slots of at least one message."""
    limit = max(1, int(per_second))
    return Window(limit, limit / per_second)


class Pacer(BaseRateLimiter[PaceArgs]):
    def __init__(self, limits: Limits, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep):
        """`clock` tells the time the windows book slots in; `sleep` is the only way the pacer
        lets time pass (waiting for a slot, or for `retry_after` on an unpaced call).

        Both are injectable so tests can run the pacer on a fake clock and check the send times
        it books without waiting or measuring wall time; production uses the defaults, the
        event loop's monotonic clock and `asyncio.sleep`.
        """
        self.limits = limits
        self.clock = clock
        self.sleep = sleep
        self.overall = overall_window(limits.per_second)
        self.chats: dict[str, Window] = {}
        self._stopping = asyncio.Event()
        self._give_up_at = 0.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        self.chats.clear()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: PaceArgs | None,
    ) -> Any:
        chat = data.get("chat_id")
        paced = endpoint in PACED_ENDPOINTS and chat is not None
        retries = (rate_limit_args or {}).get("max_retries", self.limits.max_retries)
        attempt = 0
        while True:
            if paced:
                await self.wait_turn(str(chat))
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                seconds = retry_seconds(exc)
                self.pause(str(chat) if chat is not None else None, seconds)
                if attempt >= retries:
                    raise
                attempt += 1
                log.warning("429 on %s for chat %s: waiting %.1fs (retry %d of %d)", endpoint,
                            chat, seconds, attempt, retries)
                if not paced:
                    await self.sleep(seconds)

    async def wait_turn(self, chat: str) -> None:
        """Wait for the chat's slot, then for an overall slot.

        Two steps, so a group waiting a minute for its turn never holds up the other chats; the
        chat's booked time may be early by the overall wait, which is a fraction of a second.
        """
        await self._take(self._chat_window(chat))
        await self._take(self.overall)

    async def _take(self, window: Window) -> None:
        now = self.clock()
        at = window.earliest(now)
        window.book(at)
        await self._sleep_until(at)

    async def _sleep_until(self, at: float) -> None:
        """Sleep until `at`; once the bot is stopping, give up if that lies past the grace."""
        while (now := self.clock()) < at:
            if self._stopping.is_set():
                if at > self._give_up_at:
                    raise Unsent(at - now)
                await self.sleep(at - now)
                return
            await self._nap(at - now)

    async def _nap(self, seconds: float) -> None:
        """Sleep `seconds` (by `self.sleep`), or less if `stopping()` is called meanwhile."""
        stop = asyncio.ensure_future(self._stopping.wait())
        nap = asyncio.ensure_future(self.sleep(seconds))
        try:
            await asyncio.wait((stop, nap), return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
            nap.cancel()

    def stopping(self, grace: float) -> None:
        """Shutdown: what is due within `grace` seconds still goes, later messages are given
        up (Unsent). PTB's stop waits for every running handler, and a group's next turn may
        be a minute away."""
        self._give_up_at = self.clock() + grace
        self._stopping.set()

    def pause(self, chat: str | None, seconds: float) -> None:
        """After a 429 nothing more goes to that chat (or anywhere, without one) until then."""
        until = self.clock() + seconds
        target = self._chat_window(chat) if chat is not None else self.overall
        target.paused_until = max(target.paused_until, until)

    def _chat_window(self, chat: str) -> Window:
        window = self.chats.get(chat)
        if window is None:
            if len(self.chats) > 10_000:
                self._forget_idle()
            if chat.startswith("-"):  # groups, supergroups and channels have negative ids
                window = Window(self.limits.group_per_minute, 60.0)
            else:
                window = Window(self.limits.private_burst, self.limits.private_period)
            self.chats[chat] = window
        return window

    def _forget_idle(self) -> None:
        now = self.clock()
        for chat in [c for c, w in self.chats.items()
                     if (not w.times or w.times[-1] <= now - w.period)
                     and w.paused_until <= now]:
            del self.chats[chat]


def retry_seconds(exc: RetryAfter) -> float:
    """`RetryAfter.retry_after` is an int or a timedelta depending on PTB_TIMEDELTA (v22.2+)."""
    value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
