"""Error replies: what went wrong and how to do it right, in the reader's language."""

from __future__ import annotations

import string

from babel.lists import format_list

from bot.errors import DomainError, Plural
from bot.i18n import N_, Translator
from bot.model import Role
from bot.reply import Reply, Span, Text, bold, code
from bot.spec import CommandSpec
from bot.views.ids import kind_name, kind_names
from bot.views.usage import usage_block

_ROLE_NAMES = {
    "member": N_("member"),
    "ambassador": N_("ambassador"),
    "organiser": N_("organiser"),
}


def role_name(t: Translator, code_: str) -> str:
    return t.gettext(_ROLE_NAMES.get(code_, code_))


def render(t: Translator, exc: DomainError, spec: CommandSpec | None, pressed: bool,
           role: Role | None = None) -> Reply:
    """The message, then (for a usage error) the command's usage as `role` may use it."""
    text = Text()
    _describe(t, exc, text, spec)
    if spec is not None:
        text.line("")
        text.add(*usage_block(t, spec, role))
    notice = text_notice(t, exc, spec) if pressed else None
    return text.reply(error=True, private=True, notice=notice)


def _describe(t: Translator, exc: DomainError, text: Text,
              spec: CommandSpec | None = None) -> None:
    """The error's message (bot.errors declares it), filled with its parameters as the reader
    reads them: numbers in their locale, role codes as role names, lists of choices (and of
    example ids) as their language lists them, id kinds (letters) as translated nouns ("a
    bounty or an event"), and the option by its translated label, in bold (its contract name,
    as written in `name=value`, is `{key}`)."""
    values: dict[str, str | Span] = {}
    for key, value in exc.params.items():
        if key in exc.roles:
            values[key] = role_name(t, str(value))
        elif isinstance(value, int) and not isinstance(value, bool):
            values[key] = t.number(value)
        elif key == "choices" or (key == "example" and not isinstance(value, str)):
            values[key] = choices(t, value)  # ids such as ("B12", "E5"): "B12 or E5"
        elif key == "kinds":
            values[key] = kind_names(t, _items(value))
        elif key == "kind":
            values[key] = kind_name(t, str(value))
        elif key == "suggestions":
            values[key] = t.list(_items(value)) if value else ""
        else:
            values[key] = "" if value is None else str(value)
    name = exc.params.get("option")
    if name:
        values["option"] = bold(option_label(t, spec, str(name)))
        values["key"] = code(f"{name}=")
    values.setdefault("value", "")
    message = exc.template()
    if isinstance(message, Plural):
        count = exc.params.get(message.count, 0)
        template = t.ngettext(message.singular, message.plural, count)
    else:
        template = t.gettext(message)
    text.fmt(template, **_known(template, values))
    for param, note in exc.notes:
        if exc.params.get(param):
            template = t.gettext(note)
            text.line_fmt(template, **_known(template, values))


def option_label(t: Translator, spec: CommandSpec | None, name: str) -> str:
    """An option as the reader's language names it (`reason`, `原因`); its name if unknown."""
    opt = spec.option(name) if spec is not None else None
    return t.gettext(opt.label) if opt is not None else name


def choices(t: Translator, value: object) -> str:
    """`all, month, or week` / `all、month或week`: the values a choice accepts."""
    items = _items(value)
    return format_list(items, style="or", locale=t.locale) if items else ""


def _items(value: object) -> list[str]:
    """A list parameter, given as a sequence or as one comma-separated string."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return [str(part) for part in value]  # type: ignore[attr-defined]


def _known(template: str, values: dict) -> dict:
    """Only the placeholders the (translated) template uses: a missing one renders empty."""
    return {name: values.get(name, "") for name in _placeholders(template)}


def _placeholders(template: str) -> list[str]:
    return [name for _text, name, _spec, _conv in string.Formatter().parse(template) if name]


def text_notice(t: Translator, exc: DomainError, spec: CommandSpec | None = None) -> str:
    text = Text()
    _describe(t, exc, text, spec)
    return Reply(spans=tuple(text.spans)).plain_text[:190]


def unexpected(t: Translator, error_id: str) -> Reply:
    text = Text().fmt(t.gettext("Sorry, something went wrong on my side. If it happens again, "
                                "tell an organiser the error id {id}."), id=code(error_id))
    return text.reply(error=True, private=True,
                      notice=t.gettext("Sorry, something went wrong."))
