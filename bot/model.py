"""The neutral nouns the core and the adapters share: who acted, where, and what they asked.

Adapters build these from platform updates; the core never sees a platform object.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

# Points amounts are whole numbers from 1 to this, in every command and service.
MAX_POINTS = 1_000_000


class Platform(enum.StrEnum):
    TELEGRAM = "telegram"
    DISCORD = "discord"
    CONSOLE = "console"


class Role(enum.IntEnum):
    """Ordered, so `role >= Role.AMBASSADOR` reads as the contract says."""

    MEMBER = 0
    AMBASSADOR = 1
    ORGANISER = 2

    @property
    def code(self) -> str:
        return self.name.lower()

    @classmethod
    def from_code(cls, code: str) -> Role:
        return cls[code.upper()]


class ChatKind(enum.StrEnum):
    PRIVATE = "private"
    GROUP = "group"
    CHANNEL = "channel"


@dataclass(frozen=True)
class Actor:
    """A platform account as the adapter saw it on this update."""

    platform: Platform
    user_id: str
    username: str | None = None
    display_name: str | None = None
    locale_hint: str | None = None
    # Roles the platform itself vouches for on this update (Discord role ids mapped by config).
    platform_role: Role = Role.MEMBER
    # Only the console may set this: the operator's own terminal is trusted.
    trusted_role: Role | None = None

    @property
    def account_id(self) -> str:
        return f"{self.platform}:{self.user_id}"


@dataclass(frozen=True)
class ChatRef:
    platform: Platform
    chat_id: str
    kind: ChatKind = ChatKind.PRIVATE
    locale: str | None = None
    title: str | None = None

    @property
    def ref(self) -> str:
        return f"{self.platform}:{self.chat_id}"


@dataclass(frozen=True)
class Target:
    """A member someone pointed at: by username, platform id, or by replying to their message."""

    platform: Platform
    user_id: str | None = None
    username: str | None = None
    display_name: str | None = None


@dataclass(frozen=True)
class Invocation:
    """One thing a person asked of the bot: a command, a button press, or a dialogue answer.

    `key` is stable across redeliveries of the same platform update, so state-changing
    commands can use it as their idempotency key.
    """

    actor: Actor
    chat: ChatRef
    key: str
    command: str | None = None
    text: str = ""
    named: dict[str, str] = field(default_factory=dict)
    action: str | None = None
    reply_to: Target | None = None
    # Accounts the platform itself vouches for in this update (a Discord user option): the core
    # may add them as members on first reference. The author of `reply_to` is vouched too.
    # Ids typed as text never are, so nobody can conjure members out of made-up numbers.
    mentions: tuple[Target, ...] = ()

    def vouched(self, target: Target) -> Target | None:
        """The platform's own record of `target`, when the platform vouches for it."""
        for known in (*self.mentions, self.reply_to):
            if (known is not None and known.platform == target.platform
                    and known.user_id is not None and known.user_id == target.user_id):
                return known
        return None
