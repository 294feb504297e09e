"""The questions a guided dialogue asks."""

from __future__ import annotations

from bot.i18n import Translator
from bot.reply import Reply, Text, bold, code
from bot.spec import CommandSpec, Opt


def ask(t: Translator, spec: CommandSpec, opt: Opt) -> Reply:
    text = Text().fmt(t.gettext("/{command}: please send {option} ({help})."), command=spec.name,
                      option=bold(t.gettext(opt.label)), help=t.gettext(opt.help))
    text.line_fmt(t.gettext("Send {cancel} to stop."), cancel=code("/cancel"))
    return text.reply(ask=True)
