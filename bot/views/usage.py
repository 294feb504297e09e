"""Usage lines and help, built from the command specs so they can never disagree with them."""

from __future__ import annotations

from dataclasses import replace

from bot.i18n import N_, Translator
from bot.model import Role
from bot.reply import Span, code, fill
from bot.spec import CommandSpec, Kind, Opt

# TRANSLATORS: one line of a list: a command or argument, then what it is.
ITEM = N_("{item} — {description}")


def usage_line(spec: CommandSpec, t: Translator | None = None) -> str:
    """`/award @member AMOUNT REASON…`, as docs/commands.md shows it (English option names,
    without a translator), or as /help shows it to a reader, with the options' translated
    labels (`/award @成员 数量 原因…`)."""
    return " ".join([f"/{spec.name}", *(_word(o, t) for o in spec.options)])


def placeholder(opt: Opt, t: Translator | None = None) -> str:
    """One option's word in a usage line, without the brackets of an optional one."""
    if opt.kind == Kind.CHOICE:
        return "|".join(opt.choices)  # the values themselves, which the reader types as shown
    if t is None:  # docs/commands.md: the English contract
        name = "member" if opt.kind == Kind.MEMBER else opt.name
    else:
        name = "_".join(t.gettext(opt.label).split())
    if opt.kind == Kind.MEMBER:
        return "@" + name
    # Upper case stands out as "put yours here" in the scripts that have it (AMOUNT); a script
    # without case (数量) is left as written.
    return name.upper() + ("…" if opt.rest else "")


def _word(opt: Opt, t: Translator | None) -> str:
    word = placeholder(opt, t)
    return word if opt.required else f"[{word}]"


def for_role(spec: CommandSpec, role: Role | None) -> CommandSpec:
    """The spec as someone with `role` may use it: without the options above their role."""
    if role is None or all(opt.role <= role for opt in spec.options):
        return spec
    return replace(spec, options=tuple(opt for opt in spec.options if opt.role <= role))


def item(t: Translator, what: Span | str, description: Span | str) -> list[Span]:
    """`what — description` as the reader's language punctuates it (`what：description`)."""
    return fill(t.gettext(ITEM), item=what, description=description)


def usage_block(t: Translator, spec: CommandSpec, role: Role | None = None) -> list[Span]:
    """Usage, what the command does, and one line per option, as `role` may use them."""
    spec = for_role(spec, role)
    spans = fill(t.gettext("Usage: {usage}"), usage=code(usage_line(spec, t)))
    spans += [Span("\n"), Span(t.gettext(spec.help))]
    for opt in spec.options:
        word = code(placeholder(opt, t).removesuffix("…"))
        spans += [Span("\n• "), *item(t, word, _described(t, opt))]
    return spans


def _described(t: Translator, opt: Opt) -> str:
    """An option's help, with its bounds when it has them: the bounds are declared once, on the
    option, never spelled inside a message."""
    text = t.gettext(opt.help)
    if opt.min is not None and opt.max is not None:
        text = t.gettext("{help} ({min} to {max})").format(help=text, min=t.number(opt.min),
                                                          max=t.number(opt.max))
    return text
