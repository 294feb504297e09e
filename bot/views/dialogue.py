"""The questions a guided dialogue asks, and the Form that asks them all at once."""

from __future__ import annotations

import re

from bot.i18n import Translator
from bot.reply import Form, FormField, Reply, Span, Text, bold, code
from bot.spec import CommandSpec, Kind, Opt

# Discord's limits, the strictest of the platforms that show forms: ≤ 5 inputs, a label of
# ≤ 45 characters, a description of ≤ 100, a title of ≤ 45
# (https://discord.com/developers/docs/components/reference#label).
MAX_FIELDS = 5
MAX_LABEL = 45
MAX_HELP = 100
MAX_TITLE = 45
# One argument of a button payload (bot.actions): `<option>.<value>`, a short token.
_TOKEN = re.compile(r"[A-Za-z0-9_.\-]{1,32}")


def ask(t: Translator, spec: CommandSpec, opt: Opt) -> Reply:
    text = Text().fmt(t.gettext("/{command}: please send {option} ({help})."), command=spec.name,
                      option=bold(t.gettext(opt.label)), help=t.gettext(opt.help))
    text.line_fmt(t.gettext("Send {cancel} to stop."), cancel=code("/cancel"))
    return text.reply(ask=True)


def reask(t: Translator, spec: CommandSpec, opt: Opt, reason: str) -> Reply:
    """An answer that did not convert: why (the error's own sentence), then the same question;
    the dialogue stays open."""
    question = ask(t, spec, opt)
    return question.with_(spans=(Span(reason), Span("\n"), *question.spans))


def form_for(t: Translator, spec: CommandSpec, raw: dict[str, str]) -> Form:
    """The Form for what `raw` leaves out of `spec`: short given values ride along as fixed
    arguments (they must fit the 64-byte payload), longer ones become prefilled fields."""
    given = {o.name: value for o in spec.options if (value := (raw.get(o.name) or "").strip())}
    fixed = {name: value for name, value in given.items() if _TOKEN.fullmatch(f"{name}.{value}")}
    while fixed:
        try:
            Form("", spec.name, fixed=fixed).payload()
            break
        except ValueError:  # over 64 bytes: the longest value moves into the form
            del fixed[max(fixed, key=lambda name: len(fixed[name]))]
    if not fixed:
        Form("", spec.name).payload()  # a command name the codec refuses is a bug: say so now
    fields = [_field(t, opt, given.get(opt.name, "")) for opt in spec.options
              if opt.name not in fixed]
    if len(fields) > MAX_FIELDS:
        # Needed first, then what was already written, then the optional rest.
        rank = sorted(range(len(fields)), key=lambda i: (
            0 if fields[i].required and not fields[i].value else 1 if fields[i].value else 2, i))
        keep = set(rank[:MAX_FIELDS])
        fields = [f for i, f in enumerate(fields) if i in keep]
    return Form(title=_cut(f"/{spec.name}", MAX_TITLE), command=spec.name, fields=tuple(fields),
                fixed=fixed)


def _field(t: Translator, opt: Opt, value: str) -> FormField:
    if opt.kind is Kind.TEXT:
        max_len, long = opt.max_len, opt.rest or opt.max_len > 100
    else:
        max_len, long = (20 if opt.kind in (Kind.INT, Kind.POINTS) else 100), False
    return FormField(name=opt.name, label=_cut(t.gettext(opt.label), MAX_LABEL),
                     help=_cut(t.gettext(opt.help), MAX_HELP), required=opt.required,
                     long=long, max_len=max_len, value=value[:max_len])


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"
