"""How features declare what they add: commands, buttons, deep-link payloads, notice kinds.

A leaf module: it imports nothing of the command layer, the services or the views, so views
and adapters can read the specs (menus, slash commands, usage lines, docs/commands.md) without
pulling in the code that runs them. Each feature module holds one `Router` and declares on it,
as aiogram's routers or Errbot's plugins do; `bot.commands.FEATURES` lists the routers in menu
order and `Registry.build` joins them. Nothing is registered by importing a module.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.model import MAX_POINTS, Role

# A handler takes the invocation's context (bot.commands.context.Ctx) and typed arguments and
# returns a bot.reply.Reply; typed loosely here so this module stays a leaf.
Handler = Callable[..., Awaitable[Any]]
Render = Callable[[Any, dict], Any]  # (Translator, params) -> Reply
# Autocomplete for one id kind: `async def (services, text, member) -> [(label, value), …]`,
# given the services container, what the member typed so far and their resolved Caller.
Suggester = Callable[[Any, str, Any], Awaitable[list[tuple[str, str]]]]


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
    id_kinds: tuple[str, ...] = ()  # Kind.ID: the letters it accepts (bot.ids.IdKind)
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
    def ident(cls, name: str, help: str, kinds: Iterable[str], required: bool = True, *,
              label: str = "", role: Role = Role.MEMBER) -> Opt:
        """An entity id (`B12`) of one of `kinds`: bot.ids.IdKind members or their letters
        (IdKind is a StrEnum, so this leaf needs no import). With several kinds a bare number
        is refused as ambiguous; bot.commands.parse turns the value into a bot.ids.EntityId."""
        letters = tuple(dict.fromkeys(str(kind).upper() for kind in kinds))
        if not letters or not all(len(x) == 1 and x.isascii() and x.isalpha() for x in letters):
            raise ValueError(f"Opt.ident {name!r}: kinds must be id letters such as 'B'")
        return cls(name, Kind.ID, help, required, id_kinds=letters, label=label, role=role)

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
class PagerSpec:
    """A paged list: every page button of every list is `v1:pg:<name>:<page>[:<token>]`, one
    action (bot.commands.pages) that goes to `handler(ctx, page, filters)`.

    `role` is the least role a presser needs; the handler checks the objects the filters name
    (such as "your own history") itself, because the payload is never trusted.
    """

    name: str
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


@dataclass(frozen=True)
class Table:
    """Rows with a header: what an export returns, written as CSV by bot.csvfile (to a file
    by `campusbot export`, as an attachment by a chat command)."""

    header: list[str]
    rows: list[list[Any]]


class ExportType(enum.StrEnum):
    DATE = "date"
    STR = "str"
    INT = "int"


# Taken by `campusbot export KIND` itself (and its namespace).
_RESERVED_EXPORT_OPTIONS = frozenset({"out", "config", "verbose", "help", "kind", "command",
                                      "handler"})


@dataclass(frozen=True)
class ExportOpt:
    """One option of an export: `campusbot export KIND --NAME VALUE` (underscores become
    dashes), given to its `run` as `NAME=value` (None when left out)."""

    name: str
    type: ExportType
    help: str
    required: bool = False

    def __post_init__(self) -> None:
        if not self.name.isidentifier() or self.name in _RESERVED_EXPORT_OPTIONS:
            raise ValueError(f"export option {self.name!r}: not a usable name")

    @classmethod
    def day(cls, name: str, help: str, required: bool = False) -> ExportOpt:
        return cls(name, ExportType.DATE, help, required)

    @classmethod
    def text(cls, name: str, help: str, required: bool = False) -> ExportOpt:
        return cls(name, ExportType.STR, help, required)

    @classmethod
    def integer(cls, name: str, help: str, required: bool = False) -> ExportOpt:
        return cls(name, ExportType.INT, help, required)

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def metavar(self) -> str:
        return {ExportType.DATE: "YYYY-MM-DD", ExportType.INT: "N"}.get(self.type, "TEXT")

    def parse(self, text: str | None) -> Any:
        """The typed value, or a ValueError that names the option and the format it wants."""
        if text is None or self.type == ExportType.STR:
            return text
        shown = json.dumps(text, ensure_ascii=False)
        try:
            if self.type == ExportType.DATE:
                return date.fromisoformat(text.strip())
            return int(text.strip())
        except ValueError:
            wanted = ("a date like 2026-12-01 (YYYY-MM-DD)" if self.type == ExportType.DATE
                      else "a whole number")
            raise ValueError(f"{self.flag}: expected {wanted}, got {shown}") from None


@dataclass(frozen=True)
class ExportSpec:
    """`campusbot export KIND`: `run(services, **options)` returns the Table written as CSV."""

    kind: str
    help: str
    run: Handler
    options: tuple[ExportOpt, ...] = ()

    def __post_init__(self) -> None:
        names = [o.name for o in self.options]
        if len(set(names)) != len(names):
            raise ValueError(f"export {self.kind}: an option declared twice")


# A job kind's handler: async (services, conn, job) -> None (see Router.job).
JobHandler = Callable[..., Awaitable[None]]


@dataclass(frozen=True)
class JobSpec:
    kind: str
    handler: JobHandler
    label: str


@dataclass(frozen=True)
class Recurring:
    """A job every install has: `rule(settings)` such as "daily 09:00", in `timezone(settings)`."""

    kind: str
    ref: str
    rule: Callable[[Any], str]
    timezone: Callable[[Any], str]


class Router:
    """What one feature declares, in the order it declares it."""

    def __init__(self, name: str):
        self.name = name
        self.commands: list[CommandSpec] = []
        self.actions: list[ActionSpec] = []
        self.start_payloads: list[StartPayload] = []
        self.notices: list[NoticeKind] = []
        self.pagers: list[PagerSpec] = []
        self.exports: list[ExportSpec] = []
        self.suggesters: list[tuple[str, Suggester]] = []
        self.jobs: list[JobSpec] = []
        self.recurring: list[Recurring] = []

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

    def pager(self, name: str, role: Role = Role.MEMBER) -> Callable[[Handler], Handler]:
        """Declare a paged list; the decorated `async def (ctx, page, filters) -> Reply`
        answers its page buttons (bot.views.pager.pager_buttons makes them)."""

        def declare(handler: Handler) -> Handler:
            self.pagers.append(PagerSpec(name, handler, role))
            return handler

        return declare

    def start_payload(self, pattern: str, command: str, *options: str) -> None:
        """`start_payload(r"link-([A-Za-z0-9]{4,16})", "link", "code")` lets
        t.me/<bot>?start=link-CODE run `/link CODE`."""
        self.start_payloads.append(StartPayload(re.compile(pattern), command, options))

    def notice(self, *kinds: NoticeKind) -> None:
        """Declare the notice kinds this feature queues, so deliverers can render them."""
        self.notices.extend(kinds)

    def export(self, kind: str, help: str,
               *options: ExportOpt) -> Callable[[Handler], Handler]:
        """Declare `campusbot export KIND`; the decorated `async def run(services, **options)
        -> Table` reads its rows (through a service)."""

        def declare(run: Handler) -> Handler:
            self.exports.append(ExportSpec(kind, help, run, tuple(options)))
            return run

        return declare

    def job(self, kind: str, label: str) -> Callable[[JobHandler], JobHandler]:
        """Declare a kind of scheduled job: the decorated `async def (services, conn, job)`
        runs inside the transaction that claims the job (bot.scheduler), so what it writes
        (outbox rows with their dedupe keys, state changes) commits with the claim or not at
        all. Its effects must be keyed by (job, occurrence): a crash before the commit runs it
        again. `label` (N_-marked, "a bounty's deadline") names the kind to organisers when
        one of its jobs is missed."""

        def declare(handler: JobHandler) -> JobHandler:
            self.jobs.append(JobSpec(kind, handler, label))
            return handler

        return declare

    def every(self, kind: str, ref: str, rule: Callable[[Any], str],
              timezone: Callable[[Any], str]) -> None:
        """Declare a recurring job the bot always has (a daily digest): at start-up the
        scheduler makes sure it exists, with the rule and zone the settings give now."""
        self.recurring.append(Recurring(kind, ref, rule, timezone))

    def suggest(self, kind: str) -> Callable[[Suggester], Suggester]:
        """Declare the autocomplete of ids of one kind (`"B"`, or bot.ids.IdKind.BOUNTY): the
        decorated `async def (services, text, member) -> [(label, value), …]` offers what
        `member` may pick for `text` (Discord asks it for every Opt.ident of that kind)."""
        letter = str(kind).upper()
        if not (len(letter) == 1 and letter.isascii() and letter.isalpha()):
            raise ValueError(f"suggest {kind!r}: the kind must be an id letter such as 'B'")

        def declare(suggester: Suggester) -> Suggester:
            self.suggesters.append((letter, suggester))
            return suggester

        return declare


@dataclass
class Registry:
    """Every feature's declarations, joined; names must be unique across features."""

    commands: dict[str, CommandSpec] = field(default_factory=dict)
    actions: dict[str, ActionSpec] = field(default_factory=dict)
    start_payloads: list[StartPayload] = field(default_factory=list)
    notices: dict[str, NoticeKind] = field(default_factory=dict)
    pagers: dict[str, PagerSpec] = field(default_factory=dict)
    exports: dict[str, ExportSpec] = field(default_factory=dict)
    suggesters: dict[str, Suggester] = field(default_factory=dict)  # id letter -> suggester
    jobs: dict[str, JobSpec] = field(default_factory=dict)  # job kind -> its handler
    recurring: list[Recurring] = field(default_factory=list)

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
            for pager in router.pagers:
                _unique(registry.pagers, pager.name, pager, "paged list ")
            for export in router.exports:
                _unique(registry.exports, export.kind, export, "export ")
            for letter, suggester in router.suggesters:
                _unique(registry.suggesters, letter, suggester, "suggester for ids ")
            for job in router.jobs:
                _unique(registry.jobs, job.kind, job, "job kind ")
            registry.start_payloads.extend(router.start_payloads)
            registry.recurring.extend(router.recurring)
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
