"""What the scheduler tells organisers: a job that came due while the bot was down."""

from __future__ import annotations

from datetime import datetime

from bot.i18n import Translator
from bot.reply import Reply, Text, bold, code
from bot.spec import NoticeKind


def missed(t: Translator, params: dict) -> Reply:
    what = t.gettext(params["what"]) if params.get("what") else t.gettext("a scheduled job")
    minutes = int(params.get("minutes", 0))
    text = Text().fmt(
        t.ngettext("Missed: {what} ({ref}) was due at {time}, while the bot was not running. "
                   "It is more than {minutes} minute late, so it was not done.",
                   "Missed: {what} ({ref}) was due at {time}, while the bot was not running. "
                   "It is more than {minutes} minutes late, so it was not done.", minutes),
        what=bold(what), ref=code(params.get("ref", "")),
        time=t.datetime(datetime.fromisoformat(params["due"])), minutes=t.number(minutes))
    text.line(t.gettext("Do it by hand if it still matters."))
    return text.reply(private=True)


MISSED = NoticeKind("scheduler.missed", missed)
