"""Organisers' texts as each reader reads them: their locale's translation, else the original
with a short note that no translation exists yet."""

from __future__ import annotations

import unicodedata

from bot.i18n import Translator
from bot.reply import Span, italic


def localized(t: Translator, texts: dict[tuple[int, str], str], object_id: int, field: str,
              original: str, default_locale: str) -> list[Span]:
    """The text of `field` of object `object_id` for this reader, as spans (the original is
    user text: a plain span the renderers escape)."""
    translated = texts.get((object_id, field))
    if translated is not None or t.locale == default_locale:
        return [Span(translated if translated is not None else original)]
    note = t.gettext("(not translated into {language} yet)").format(
        language=t.language_name(t.locale))
    return [Span(original), Span(_gap(note)), italic(note)]


def _gap(note: str) -> str:
    """A space before the note, but none before a full-width bracket (Chinese and Japanese
    typography puts no space there: “Poster（尚未翻译…）”)."""
    return "" if note and unicodedata.east_asian_width(note[0]) in ("F", "W") else " "



def noticed(t: Translator, params: dict, field: str) -> str:
    """A notice's copy of an organiser's text (`params[field]`, the original) in the reader's
    language when the notice carries that translation (`params[field + "s"]`, by locale)."""
    return (params.get(f"{field}s") or {}).get(t.locale) or params.get(field, "")
