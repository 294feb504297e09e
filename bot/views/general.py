"""Everyone's basics that more than one command or notice shows."""

from __future__ import annotations

from collections.abc import Sequence

from bot.i18n import Translator, translator
from bot.reply import Reply, Span, Text, bold


def language_lines(text: Text, locales: Sequence[str]) -> Text:
    """One line per enabled language, each written in that language: a reader who does not
    understand the rest still finds theirs."""
    for locale in locales:
        other = translator(locale)
        text.line_fmt(other.gettext("{language}: choose this language with /language {code}"),
                      language=other.language_name(locale), code=locale)
    return text


def language_note(locales: Sequence[str]) -> Reply:
    """A newcomer's first answer on a platform whose client may not tell us their language
    (Discord has no Arabic or Malay client locale): how to choose one, only for them."""
    return language_lines(Text(), locales).reply(private=True)


def created_accounts(t: Translator, reply: Reply, names: list[str]) -> Reply:
    """A console organiser named someone no account had used yet: say it was created, so a
    typo (@bbo for @bob) does not go unnoticed."""
    text = Text()
    for name in names:
        text.line_fmt(t.gettext("Created the console account {name}."), name=bold(name))
    return reply.with_(spans=(*reply.spans, Span("\n"), *text.spans))
