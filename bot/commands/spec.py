"""How a command is declared: once, as data plus one handler.

Adapters read these specs to build their menus and slash commands (option types, bounds,
choices, localized descriptions); the core parses every platform's input with the same specs.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.model import Role

if TYPE_CHECKING:
    from bot.commands.context import Ctx
    from bot.reply import Reply

Handler = Callable[..., Awaitable["Reply"]]


class Kind(enum.StrEnum):
    INT = "int"
    POINTS = "points"
    DURATION = "duration"
    DATETIME = "datetime"
    DATE = "date"
    MEMBER = "member"
    CHOICE = "choice"
    TEXT = "text"
    ID = "id"


@dataclass(frozen=True)
class Opt:
    """One argument. `rest` takes the rest of the line (`REASON…` in a usage line)."""

    name: str
    kind: Kind
    help: str
    required: bool = True
    choices: tuple[str, ...] = ()
    min: int | None = None
    max: int | None = None
    max_len: int = 200
    rest: bool = False
    id_prefix: str | None = None

    @classmethod
    def member(cls, name: str, help: str, required: bool = True) -> Opt:
        return cls(name, Kind.MEMBER, help, required)

    @classmethod
    def points(cls, name: str, help: str, required: bool = True) -> Opt:
        return cls(name, Kind.POINTS, help, required, min=1, max=1_000_000)

    @classmethod
    def integer(cls, name: str, help: str, min: int, max: int, required: bool = True) -> Opt:
        return cls(name, Kind.INT, help, required, min=min, max=max)

    @classmethod
    def text(cls, name: str, help: str, max_len: int = 200, required: bool = True,
             rest: bool = False) -> Opt:
        return cls(name, Kind.TEXT, help, required, max_len=max_len, rest=rest)

    @classmethod
    def choice(cls, name: str, help: str, choices: tuple[str, ...],
               required: bool = True) -> Opt:
        return cls(name, Kind.CHOICE, help, required, choices=choices)

    @classmethod
    def ident(cls, name: str, help: str, prefix: str, required: bool = True) -> Opt:
        return cls(name, Kind.ID, help, required, id_prefix=prefix)

    @classmethod
    def when(cls, name: str, help: str, required: bool = True) -> Opt:
        return cls(name, Kind.DATETIME, help, required)

    @classmethod
    def duration(cls, name: str, help: str, required: bool = True) -> Opt:
        return cls(name, Kind.DURATION, help, required)

    @classmethod
    def day(cls, name: str, help: str, required: bool = True) -> Opt:
        return cls(name, Kind.DATE, help, required)


@dataclass(frozen=True)
class CommandSpec:
    """A command as the contract defines it.

    `private`: replies carry personal data, so they are only for the caller.
    `dialogue`: a missing required argument starts a guided dialogue instead of the usage.
    """

    name: str
    help: str
    handler: Handler
    options: tuple[Opt, ...] = ()
    role: Role = Role.MEMBER
    private: bool = False
    dialogue: bool = False

    def option(self, name: str) -> Opt | None:
        return next((o for o in self.options if o.name == name), None)


@dataclass(frozen=True)
class ActionSpec:
    """A button family: payloads `v1:<prefix>:…` go to `handler(ctx, action)`.

    `role` is the least role a presser needs; handlers check more (such as "your own history")
    themselves, because the payload is never trusted.
    """

    prefix: str
    handler: Callable[[Ctx, Any], Awaitable[Reply]]
    role: Role = Role.MEMBER


@dataclass(frozen=True)
class StartPayload:
    """A Telegram deep-link payload `/start` may act on (t.me/<bot>?start=<payload>): the
    whole payload matches `pattern`, and its groups fill the named options of `command`.

    Anyone can post such a link and anyone may tap it, so only payloads declared here run,
    and each runs its command as the person who tapped it would typing it (role checks and
    confirmation buttons included) — never an arbitrary command."""

    pattern: re.Pattern[str]
    command: str
    options: tuple[str, ...] = ()

    def raw(self, payload: str) -> dict[str, str] | None:
        match = self.pattern.fullmatch(payload)
        if match is None:
            return None
        return dict(zip(self.options, match.groups(), strict=True))


@dataclass
class Registry:
    commands: dict[str, CommandSpec] = field(default_factory=dict)
    actions: dict[str, ActionSpec] = field(default_factory=dict)
    start_payloads: list[StartPayload] = field(default_factory=list)

    def add_start_payload(self, payload: StartPayload) -> None:
        self.start_payloads.append(payload)

    def start_command(self, payload: str) -> tuple[str, dict[str, str]] | None:
        """The command (and its raw arguments) a deep-link payload stands for, if any."""
        for known in self.start_payloads:
            raw = known.raw(payload)
            if raw is not None:
                return known.command, raw
        return None

    def deep_link_for(self, command: str) -> str | None:
        """The payload that reopens `command` (without arguments) in a private chat."""
        found = self.start_command(command)
        return command if found and found[0] == command and not found[1] else None

    def add(self, spec: CommandSpec) -> None:
        if spec.name in self.commands:
            raise ValueError(f"command /{spec.name} declared twice")
        self.commands[spec.name] = spec

    def add_action(self, spec: ActionSpec) -> None:
        if spec.prefix in self.actions:
            raise ValueError(f"action prefix {spec.prefix!r} declared twice")
        self.actions[spec.prefix] = spec

    def get(self, name: str) -> CommandSpec | None:
        return self.commands.get(name.lower())

    def __iter__(self):
        return iter(self.commands.values())


REGISTRY = Registry()


def command(name: str, help: str, *options: Opt, role: Role = Role.MEMBER,
            private: bool = False, dialogue: bool = False) -> Callable[[Handler], Handler]:
    """Declare a command in the shared registry; the decorated function is its handler."""

    def register(handler: Handler) -> Handler:
        REGISTRY.add(CommandSpec(name, help, handler, tuple(options), role, private, dialogue))
        return handler

    return register


def button(prefix: str, role: Role = Role.MEMBER) -> Callable:
    def register(handler):
        REGISTRY.add_action(ActionSpec(prefix, handler, role))
        return handler

    return register


def start_payload(pattern: str, command: str, *options: str) -> None:
    """Declare a deep-link payload: `start_payload(r"link-([A-Za-z0-9]{4,16})", "link",
    "code")` lets t.me/<bot>?start=link-CODE run `/link CODE`."""
    REGISTRY.add_start_payload(StartPayload(re.compile(pattern), command, options))
