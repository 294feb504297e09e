"""Entity ids as members see and type them: a letter and a number (`B12`, `E5`).

The product contract: B bounty, S submission, R reward, O order, E event, T event session
(a track slot), A announcement, C channel. Input accepts `B12`, `b12`, or `12` where only one
kind fits; where several do (`/translate` takes B, R, E or T) a bare number is refused as
ambiguous. A leaf: it imports nothing of the bot, so specs, parsing and views can all use it.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass

# Database ids are positive; twelve digits is far beyond any table and keeps `int()` cheap.
MAX_DIGITS = 12
_ID = re.compile(rf"([A-Za-z]?)([0-9]{{1,{MAX_DIGITS}}})")  # ASCII only


class IdKind(enum.StrEnum):
    """The kinds of object with a member-facing id; the value is the id's letter."""

    BOUNTY = "B"
    SUBMISSION = "S"
    REWARD = "R"
    ORDER = "O"
    EVENT = "E"
    SESSION = "T"
    ANNOUNCEMENT = "A"
    CHANNEL = "C"

    @property
    def noun(self) -> str:
        """The readable English name: "bounty", "session" (views translate bot.views.ids)."""
        return self.name.lower()

    @property
    def example(self) -> str:
        """The contract's example id of this kind (`B12`, `T2`), for usage and errors."""
        return format_id(self, _EXAMPLE_NUMBERS[self])

    @classmethod
    def of(cls, kind: IdKind | str) -> IdKind:
        """A kind from itself or its letter, either case; ValueError for anything else."""
        if isinstance(kind, cls):
            return kind
        return cls(str(kind).upper())


_EXAMPLE_NUMBERS = {
    IdKind.BOUNTY: 12, IdKind.SUBMISSION: 7, IdKind.REWARD: 3, IdKind.ORDER: 9,
    IdKind.EVENT: 5, IdKind.SESSION: 2, IdKind.ANNOUNCEMENT: 4, IdKind.CHANNEL: 1,
}


@dataclass(frozen=True, order=True)
class EntityId:
    kind: IdKind
    number: int

    def __str__(self) -> str:
        return format_id(self.kind, self.number)


def format_id(kind: IdKind | str, number: int) -> str:
    """`format_id(IdKind.BOUNTY, 12)` -> "B12"."""
    return f"{IdKind.of(kind).value}{int(number)}"


class BadId(ValueError):
    """Text that is not an id of the allowed kinds. `reason` is "not_an_id" (junk, `#12`,
    13+ digits), "ambiguous" (a bare number where several kinds are allowed) or "wrong_kind"
    (`R3` where only bounties are); `kinds` are the allowed kinds, `found` what was read."""

    def __init__(self, reason: str, kinds: tuple[IdKind, ...], text: str,
                 found: EntityId | None = None):
        super().__init__(f"{reason}: {text!r} (allowed: {''.join(kinds)})")
        self.reason = reason
        self.kinds = kinds
        self.text = text
        self.found = found


def kinds_of(kinds: Iterable[IdKind | str]) -> tuple[IdKind, ...]:
    """Kinds or letters as a tuple of IdKind, in the given order, without repeats."""
    out = tuple(dict.fromkeys(IdKind.of(kind) for kind in kinds))
    if not out:
        raise ValueError("an id needs at least one kind")
    return out


def parse_id(text: str, kinds: Iterable[IdKind | str]) -> EntityId:
    """`B12`, `b12` or, when exactly one kind is allowed, `12`; whitespace around is ignored.
    Anything else (`#12`, `B#12`, `B 12`, 13+ digits, zero) raises BadId."""
    allowed = kinds_of(kinds)
    text = text.strip()
    match = _ID.fullmatch(text)
    if not match or int(match.group(2)) == 0:
        raise BadId("not_an_id", allowed, text)
    letter, number = match.group(1).upper(), int(match.group(2))
    if not letter:
        if len(allowed) > 1:
            raise BadId("ambiguous", allowed, text)
        return EntityId(allowed[0], number)
    try:
        kind = IdKind(letter)
    except ValueError:
        raise BadId("not_an_id", allowed, text) from None
    if kind not in allowed:
        raise BadId("wrong_kind", allowed, text, EntityId(kind, number))
    return EntityId(kind, number)
