"""What a handler returns: text as styled spans, buttons, files, and delivery hints.

There is no markup here. Each span says how it looks; the adapter's renderer escapes the text of
every span for its own format (Telegram HTML, Discord markdown, plain console), so user text
can never become markup and translators never see tags.
"""

from __future__ import annotations

import enum
import string
from dataclasses import dataclass, field, replace
from functools import lru_cache


class Style(enum.StrEnum):
    PLAIN = "plain"
    BOLD = "bold"
    ITALIC = "italic"
    CODE = "code"
    LINK = "link"


@dataclass(frozen=True)
class Span:
    text: str
    style: Style = Style.PLAIN
    url: str | None = None


def bold(text: str) -> Span:
    return Span(str(text), Style.BOLD)


def italic(text: str) -> Span:
    return Span(str(text), Style.ITALIC)


def code(text: str) -> Span:
    return Span(str(text), Style.CODE)


def link(text: str, url: str) -> Span:
    return Span(str(text), Style.LINK, url)


@dataclass(frozen=True)
class Button:
    label: str
    action: str


@dataclass(frozen=True)
class Attachment:
    filename: str
    data: bytes


@dataclass(frozen=True)
class Reply:
    """A platform-neutral answer.

    `private`: only the caller may see it (Discord ephemeral; Telegram private chat).
    `edit`: replace the message whose button was pressed (pagination) instead of posting anew.
    `notice`: a short toast for a button press (Telegram answerCallbackQuery text).
    `error`: an error or usage message; Discord shows those to the caller only.
    `ask`: the bot asks a question and waits for the answer (Telegram uses ForceReply so the
    answer reaches it through privacy mode).
    `followups`: further messages sent after this one, each with its own visibility (a
    newcomer's first answer on Discord is followed by a private note on choosing a language).
    """

    spans: tuple[Span, ...] = ()
    buttons: tuple[tuple[Button, ...], ...] = ()
    attachments: tuple[Attachment, ...] = ()
    private: bool = False
    edit: bool = False
    notice: str | None = None
    error: bool = False
    ask: bool = False
    followups: tuple[Reply, ...] = ()

    @property
    def plain_text(self) -> str:
        return "".join(span.text for span in self.spans)

    def with_(self, **changes) -> Reply:
        return replace(self, **changes)


@dataclass
class Text:
    """Builds a reply's spans line by line; views use it instead of concatenating strings."""

    spans: list[Span] = field(default_factory=list)

    def add(self, *parts: str | Span) -> Text:
        for part in parts:
            self.spans.append(part if isinstance(part, Span) else Span(str(part)))
        return self

    def line(self, *parts: str | Span) -> Text:
        if self.spans:
            self.spans.append(Span("\n"))
        return self.add(*parts)

    def fmt(self, template: str, **values: str | Span | int) -> Text:
        """Add a translated template, keeping each `{name}` value as its own span."""
        return self.add(*fill(template, **values))

    def line_fmt(self, template: str, **values: str | Span | int) -> Text:
        if self.spans:
            self.spans.append(Span("\n"))
        return self.fmt(template, **values)

    def reply(self, **kwargs) -> Reply:
        return Reply(spans=tuple(self.spans), **kwargs)


def fill(template: str, **values: str | Span | int) -> list[Span]:
    """Split a translated template at its placeholders; values become separate spans.

    A placeholder the translation lost is simply absent; one it invented is kept literally, so a
    broken catalog shows odd text rather than crashing a reply.
    """
    parts = _parse(template)
    if parts is None:  # a stray brace in a translation: show it as written
        return [Span(template)]
    spans: list[Span] = []
    for literal, name, _spec, _conv in parts:
        if literal:
            spans.append(Span(literal))
        if name is None:
            continue
        if name in values:
            value = values[name]
            spans.append(value if isinstance(value, Span) else Span(str(value)))
        else:
            spans.append(Span("{" + name + "}"))
    return spans


@lru_cache(maxsize=1024)
def _parse(template: str) -> tuple[tuple[str, str | None, str | None, str | None], ...] | None:
    """Templates come from the catalogs, so there are few of them: parse each once."""
    try:
        return tuple(string.Formatter().parse(template))
    except ValueError:
        return None
