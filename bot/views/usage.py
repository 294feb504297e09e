"""Usage lines and help, built from the command specs so they can never disagree with them."""

from __future__ import annotations

from bot.commands.spec import CommandSpec, Kind, Opt
from bot.i18n import Translator
from bot.reply import Span, code


def usage_line(spec: CommandSpec) -> str:
    """`/award @member AMOUNT REASON…`, as /help and docs/commands.md show it."""
    return " ".join([f"/{spec.name}", *(_word(o) for o in spec.options)])


def _word(opt: Opt) -> str:
    if opt.kind == Kind.MEMBER:
        word = "@member"
    elif opt.kind == Kind.CHOICE:
        word = "|".join(opt.choices)
    else:
        word = opt.name.upper() + ("…" if opt.rest else "")
    return word if opt.required else f"[{word}]"


def usage_block(t: Translator, spec: CommandSpec) -> list[Span]:
    spans: list[Span] = [Span(t.gettext("Usage:") + " "), code(usage_line(spec)), Span("\n"),
                         Span(t.gettext(spec.help))]
    for opt in spec.options:
        spans += [Span("\n• "), code(opt.name), Span(" — " + t.gettext(opt.help))]
    return spans
