"""The command reference, generated from the command registry: `campusbot commands [--markdown]`.

Pure functions from a Registry to text, with no I/O, so docs/commands.md (and a test that keeps it
current) can never disagree with the declarations in bot/commands/. The texts are the English
source strings of the declarations; nothing here is translated.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.ids import kinds_of
from bot.model import Role
from bot.spec import CommandSpec, Kind, Opt, Registry
from bot.views.usage import usage_line

REGENERATE = "campusbot commands --markdown > docs/commands.md"

ROLE_HEADINGS: dict[Role, str] = {
    Role.MEMBER: "Everyone",
    Role.AMBASSADOR: "Ambassadors",
    Role.ORGANISER: "Organisers",
}

INTRO = (
    "Every command the bot knows, generated from the declarations in `bot/commands/` "
    f"(regenerate with `{REGENERATE}`; do not edit by hand). A role's commands are also open to "
    "the roles above it. *Private*: the reply is shown only to the caller. *Dialogue*: sent "
    "without its required arguments, the command asks for them one at a time."
)


def markdown(registry: Registry) -> str:
    """docs/commands.md: the intro, then per role a table and each command's options."""
    out = ["# Commands", "", INTRO]
    for role, heading in ROLE_HEADINGS.items():
        specs = _by_role(registry, role)
        out += ["", f"## {heading}", ""]
        if not specs:
            out.append(f"No {role.code} commands yet.")
            continue
        out += ["| Command | Arguments | What it does |", "| --- | --- | --- |"]
        out += [f"| `/{s.name}` | {_code(usage_line(s))} | {_cell(_described(s, markdown=True))} |"
                for s in specs]
        for spec in specs:
            out += ["", f"### /{spec.name}", ""]
            out += [_option_item(o) for o in spec.options] or ["No arguments."]
    return "\n".join(out) + "\n"


def plain_text(registry: Registry) -> str:
    """`campusbot commands`: one line per command (usage, then what it does), by role."""
    width = max((len(usage_line(s)) for s in registry), default=0) + 2
    out: list[str] = []
    for role, heading in ROLE_HEADINGS.items():
        specs = _by_role(registry, role)
        if not specs:
            continue
        if out:
            out.append("")
        out.append(heading)
        out += [f"  {usage_line(s).ljust(width)}{_described(s)}" for s in specs]
    return "\n".join(out) + "\n"


def _by_role(registry: Registry, role: Role) -> list[CommandSpec]:
    return [spec for spec in registry if spec.role == role]


def _described(spec: CommandSpec, markdown: bool = False) -> str:
    """The help text, then whether the command is private or a dialogue."""
    marks = ", ".join(word for word, on in (("private", spec.private),
                                            ("dialogue", spec.dialogue)) if on)
    if not marks:
        return _one_line(spec.help)
    return f"{_one_line(spec.help)} " + (f"*{marks.capitalize()}.*" if markdown else f"({marks})")


def _option_item(opt: Opt) -> str:
    need = "required" if opt.required else "optional"
    return f"- `{opt.name}` ({need}) — {_sentence(opt.help)} {_sentence(_kind(opt))}"


def _kind(opt: Opt) -> str:
    """What a value of this option looks like, with its bounds and choices."""
    if opt.kind in (Kind.INT, Kind.POINTS):
        noun = "a whole number of points" if opt.kind is Kind.POINTS else "a whole number"
        return noun + _bounds(opt.min, opt.max)
    if opt.kind is Kind.TEXT:
        text = f"text, up to {opt.max_len:,} characters"
        return text + ("; takes the rest of the line" if opt.rest else "")
    if opt.kind is Kind.CHOICE:
        return "one of " + ", ".join(f"`{choice}`" for choice in opt.choices)
    if opt.kind is Kind.MEMBER:
        return ("a member: `@username`, a Discord mention or `platform:id` (such as "
                "`telegram:12345`); on Telegram, replying to their message names them")
    if opt.kind is Kind.ID:
        return _id_kinds(opt)
    if opt.kind is Kind.DURATION:
        return "a duration such as `90m`, `2h` or `1d12h`"
    if opt.kind is Kind.DATETIME:
        return ("a date and time such as `2026-12-01 20:00`, optionally followed by a time zone "
                "(`Asia/Shanghai`, `+08:00`, `UTC`); without one, the caller's time zone")
    if opt.kind is Kind.DATE:
        return "a date such as `2026-12-01`"
    return str(opt.kind)


def _id_kinds(opt: Opt) -> str:
    """"an id: `B12` (a bounty), or `12`" / "an id of a bounty, reward, event or session:
    `B12`, `R3`, `E5` or `T2`" (a bare number is ambiguous there, so it is not offered)."""
    kinds = kinds_of(opt.id_kinds)
    if len(kinds) == 1:
        kind = kinds[0]
        return f"an id: `{kind.example}` ({_a(kind.noun)}) or just `{kind.example[1:]}`"
    return (f"an id of {_a(_or(kind.noun for kind in kinds))}: "
            f"{_or(f'`{kind.example}`' for kind in kinds)}")


def _a(noun: str) -> str:
    return ("an " if noun[:1] in "aeiou" else "a ") + noun


def _or(items: Iterable[str]) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


def _bounds(low: int | None, high: int | None) -> str:
    if low is not None and high is not None:
        return f", {low:,}–{high:,}"
    if low is not None:
        return f", at least {low:,}"
    if high is not None:
        return f", at most {high:,}"
    return ""


def _sentence(text: str) -> str:
    text = _one_line(text)
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _cell(text: str) -> str:
    """Table cell text: a `|` would end the cell, even inside a code span."""
    return text.replace("|", "\\|")


def _code(text: str) -> str:
    return f"`{_cell(text)}`"
