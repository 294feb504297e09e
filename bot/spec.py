"""How features declare what they add: commands, buttons, deep-link payloads, notice kinds.

A leaf module: it imports nothing of the command layer, the services or the views, so views
and adapters can read the specs (menus, slash commands, usage lines, docs/commands.md) without
pulling in the code that runs them. Each feature module holds one `Router` and declares on it,
as aiogram's routers or Errbot's plugins do; `bot.commands.FEATURES` lists the routers in menu
order and `Registry.build` joins them. Nothing is registered by importing a module.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from bot.model import MAX_POINTS, Role

# A handler takes the invocation's context (bot.commands.context.Ctx) and typed arguments and
# returns a bot.reply.Reply; typed loosely here so this module stays a leaf.
Handler = Callable[..., Awaitable[Any]]
Render = Callable[[Any, dict], Any]  # (Translator, params) -> Reply


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
    """One argument. `rest` takes the rest of the line (`REASON…` in a usage line).

    `label` is the argument's name as a reader says it, a short noun marked with N_ ("amount",
    "reason"): usage lines, help and error messages show it translated (`/award @成员 数量 原因…`),
    while `name` stays the contract's key (`amount=5`, Discord's option name, docs). Without a
    label the name stands in. `role` is the least role that may give the option at all (an
    organiser's `/points @member`): /help hides it from others and the dispatcher refuses them.
    """

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
    label: str = ""
    role: Role = Role.MEMBER

    def __post_init__(self) -> None:
        if not self.label:
            object.__setattr__(self, "label", self.name.replace("_", " "))

    @classmethod
    def member(cls, name: str, help: str, required: bool = True, *, label: str = "",
               role: Role = Role.MEMBER) -> Opt:
        return cls(name, Kind.MEMBER, help, required, label=label, role=role)

    @classmethod
    def points(cls, name: str, help: str, required: bool = True, *, label: str = "",
               role: Role = Role.MEMBER) -> Opt:
        return cls(name, Kind.POINTS, help, required, min=1, max=MAX_POINTS, label=label,
                   role=role)

    @classmethod
    def integer(cls, name: str, help: str, min: int, max: int, required: bool = True, *,
                label: str = "", role: Role = Role.MEMBER) -> Opt:
        return cls(name, Kind.INT, help, required, min=min, max=max, label=label, role=role)

    @classmethod
    def text(cls, name: str, help: str, max_len: int = 200, required: bool = True,
             rest: bool = False, *, label: str = "", role: Role = Role.MEMBER) -> Opt:
        return cls(name, Kind.TEXT, help, required, max_len=max_len, rest=rest, label=label,
                   role=role)

    @classmethod
    def choice(cls, name: str, help: str, choices: tuple[str, ...],
               required: bool = True, *, label: str = "", role: Role = Role.MEMBER) -> Opt:
        return cls(name, Kind.CHOICE, help, required, choices=choices, label=label, role=role)

    @classmethod
    def ident(cls, name: str, help: str, prefix: str, required: bool = True, *,
              label: str = "", role: Role = Role.MEMBER) -> Opt:
        return cls(name, Kind.ID, help, required, id_prefix=prefix, label=label, role=role)

    @classmethod
    def when(cls, name: str, help: str, required: bool = True, *, label: str = "",
             role: Role = Role.MEMBER) -> Opt:
        return cls(name, Kind.DATETIME, help, required, label=label, role=role)

    @classmethod
    def duration(cls, name: str, help: str, required: bool = True, *, label: str = "",
                 role: Role = Role.MEMBER) -> Opt:
        return cls(name, Kind.DURATION, help, required, label=label, role=role)

    @classmethod
    def day(cls, name: str, help: str, required: bool = True, *, label: str = "",
            role: Role = Role.MEMBER) -> Opt:
        return cls(name, Kind.DATE, help, required, label=label, role=role)


@dataclass(frozen=True)
class CommandSpec:
    """A command as the contract defines it.

    `private`: replies carry personal data, so they are only for the caller.
    `dialogue`: a missing required argument starts a guided dialogue instead of the usage.
    `offers_language`: the reply already lets the reader choose a language, so a newcomer's
    first answer needs no note about /language.
    """

    name: str
    help: str
    handler: Handler
    options: tuple[Opt, ...] = ()
    role: Role = Role.MEMBER
    private: bool = False
    dialogue: bool = False
    offers_language: bool = False

    def option(self, name: str) -> Opt | None:
        return next((o for o in self.options if o.name == name), None)


@dataclass(frozen=True)
class ActionSpec:
    """A button family: payloads `v1:<prefix>:…` go to `handler(ctx, action)`.

    `role` is the least role a presser needs; handlers check more (such as "your own history")
    themselves, because the payload is never trusted.
    """

    prefix: str
    handler: Handler
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


@dataclass(frozen=True)
class NoticeKind:
    """A message the outbox can carry: rows hold `name` and parameters, never text, and
    `render(t, params)` writes it for each recipient in their own language when it is sent."""

    name: str
    render: Render


class Router:
    """What one feature declares, in the order it declares it."""

    def __init__(self, name: str):
        self.name = name
        self.commands: list[CommandSpec] = []
        self.actions: list[ActionSpec] = []
        self.start_payloads: list[StartPayload] = []
        self.notices: list[NoticeKind] = []

    def command(self, name: str, help: str, *options: Opt, role: Role = Role.MEMBER,
                private: bool = False, dialogue: bool = False,
                offers_language: bool = False) -> Callable[[Handler], Handler]:
        """Declare a command; the decorated function is its handler."""

        def declare(handler: Handler) -> Handler:
            self.commands.append(CommandSpec(name, help, handler, tuple(options), role,
                                             private, dialogue, offers_language))
            return handler

        return declare

    def button(self, prefix: str, role: Role = Role.MEMBER) -> Callable[[Handler], Handler]:
        """Declare the handler of every button whose payload starts `v1:<prefix>:`."""

        def declare(handler: Handler) -> Handler:
            self.actions.append(ActionSpec(prefix, handler, role))
            return handler

        return declare

    def start_payload(self, pattern: str, command: str, *options: str) -> None:
        """`start_payload(r"link-([A-Za-z0-9]{4,16})", "link", "code")` lets
        t.me/<bot>?start=link-CODE run `/link CODE`."""
        self.start_payloads.append(StartPayload(re.compile(pattern), command, options))

    def notice(self, *kinds: NoticeKind) -> None:
        """Declare the notice kinds this feature queues, so deliverers can render them."""
        self.notices.extend(kinds)


@dataclass
class Registry:
    """Every feature's declarations, joined; names must be unique across features."""

    commands: dict[str, CommandSpec] = field(default_factory=dict)
    actions: dict[str, ActionSpec] = field(default_factory=dict)
    start_payloads: list[StartPayload] = field(default_factory=list)
    notices: dict[str, NoticeKind] = field(default_factory=dict)

    @classmethod
    def build(cls, routers: Iterable[Router]) -> Registry:
        registry = cls()
        for router in routers:
            for spec in router.commands:
                _unique(registry.commands, spec.name, spec, "command /")
            for action in router.actions:
                _unique(registry.actions, action.prefix, action, "button prefix ")
            for kind in router.notices:
                _unique(registry.notices, kind.name, kind, "notice kind ")
            registry.start_payloads.extend(router.start_payloads)
        return registry

    def get(self, name: str) -> CommandSpec | None:
        return self.commands.get(name.lower())

    def __iter__(self):
        return iter(self.commands.values())

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


def _unique(table: dict, key: str, value: Any, what: str) -> None:
    if key in table:
        raise ValueError(f"{what}{key} declared twice")
    table[key] = value
