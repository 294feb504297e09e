"""The one codec for button payloads.

A payload is `v1:<prefix>:<verb>[:<arg>…]`, at most 64 bytes so it fits Telegram's
callback_data (Discord allows 100). It names an action, never a permission: whoever presses a
button is checked again by the core, and the object it names is read fresh from the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

VERSION = "v1"
MAX_BYTES = 64
_PART = re.compile(r"^[A-Za-z0-9_.\-]{1,32}$")


class BadPayload(ValueError):
    """A payload we did not make, or made by an older version: answered politely, never run."""


@dataclass(frozen=True)
class Action:
    prefix: str
    verb: str
    args: tuple[str, ...] = ()

    def encode(self) -> str:
        parts = (VERSION, self.prefix, self.verb, *self.args)
        for part in parts:
            if not _PART.match(part):
                raise ValueError(f"action part {part!r} is not a short token")
        payload = ":".join(parts)
        if len(payload.encode()) > MAX_BYTES:
            raise ValueError(f"action payload over {MAX_BYTES} bytes: {payload}")
        return payload

    def int_arg(self, index: int) -> int:
        """An integer argument, or BadPayload: tampered payloads must not raise anything else."""
        try:
            return int(self.args[index])
        except (IndexError, ValueError) as exc:
            raise BadPayload(f"argument {index} of {self}") from exc


def action(prefix: str, verb: str, *args: object) -> str:
    return Action(prefix, verb, tuple(str(a) for a in args)).encode()


def decode(payload: str) -> Action:
    if not payload or len(payload.encode()) > MAX_BYTES:
        raise BadPayload("empty or too long")
    parts = payload.split(":")
    if len(parts) < 3 or parts[0] != VERSION or not all(_PART.match(p) for p in parts):
        raise BadPayload(payload)
    return Action(parts[1], parts[2], tuple(parts[3:]))
