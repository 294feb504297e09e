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

from bot import actions


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
class FormField:
    """One input of a Form: `name` is the command option it fills; `label` (≤ 45 characters)
    and `help` (≤ 100) are already in the reader's language; `value` is a prefilled answer."""

    name: str
    label: str
    help: str = ""
    required: bool = True
    long: bool = False
    max_len: int = 200
    value: str = ""


# Form payloads are `v1:form:<command>[:<option>.<value>…]`, made by the button codec.
FORM_PREFIX = "form"


@dataclass(frozen=True)
class Form:
    """Everything a command still needs, asked at once where the platform can (a Discord modal);
    text-only platforms ask the Reply's question instead, one field at a time.

    Submitting it runs `command` with `fixed` (raw arguments already known, such as
    {"id": "B12"}) and the fields' answers as named options, through the dispatcher as if
    typed: the role and every value are checked again.
    """

    title: str
    command: str
    fields: tuple[FormField, ...] = ()
    fixed: dict[str, str] = field(default_factory=dict)

    def payload(self) -> str:
        """The command and the fixed arguments, for a modal's custom_id or a button (≤ 64
        bytes); ValueError when a fixed value is not a short token (see form_for)."""
        return actions.action(FORM_PREFIX, self.command,
                              *(f"{name}.{value}" for name, value in self.fixed.items()))

    @staticmethod
    def target(payload: str) -> tuple[str, dict[str, str]]:
        """(command, fixed) from a payload; actions.BadPayload for anything else."""
        action = actions.decode(payload)
        if action.prefix != FORM_PREFIX:
            raise actions.BadPayload(payload)
        fixed: dict[str, str] = {}
        for arg in action.args:
            name, dot, value = arg.partition(".")
            if not (name and dot and value):
                raise actions.BadPayload(payload)
            fixed[name] = value
        return action.verb, fixed


def is_form_payload(payload: str) -> bool:
    return payload.startswith(f"{actions.VERSION}:{FORM_PREFIX}:")


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
    `form`: the inputs a command still needs; Discord opens it as a modal, other platforms
    show the spans (the dialogue's first question) and take the answers one at a time.
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
    form: Form | None = None

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
