"""Guided dialogues: a command marked *dialogue* asks for each missing argument in turn.

State is kept per (platform, chat, user) in memory: a dialogue is a few messages long, and losing
one to a restart costs the user a retyped command, never a half-written change (nothing is
written until the command runs with all its arguments).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from bot.model import Invocation

TIMEOUT_SECONDS = 15 * 60


@dataclass
class Pending:
    command: str
    raw: dict[str, str]
    asking: str
    expires: float = field(default_factory=lambda: time.monotonic() + TIMEOUT_SECONDS)


class Dialogues:
    def __init__(self) -> None:
        self._pending: dict[tuple[str, str, str], Pending] = {}

    @staticmethod
    def _key(inv: Invocation) -> tuple[str, str, str]:
        return (str(inv.actor.platform), inv.chat.chat_id, inv.actor.user_id)

    def start(self, inv: Invocation, command: str, raw: dict[str, str], asking: str) -> None:
        self._pending[self._key(inv)] = Pending(command, dict(raw), asking)

    def take(self, inv: Invocation) -> Pending | None:
        """The caller's open dialogue, removed; None when there is none or it timed out."""
        pending = self._pending.pop(self._key(inv), None)
        if pending and pending.expires < time.monotonic():
            return None
        return pending

    def cancel(self, inv: Invocation) -> bool:
        return self.take(inv) is not None
