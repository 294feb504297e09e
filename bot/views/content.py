"""Organisers' texts as each reader reads them: their locale's translation, else the original
with a short note that no translation exists yet."""

from __future__ import annotations

from bot.i18n import Translator
from bot.reply import Span, italic


def localized(t: Translator, texts: dict[tuple[int, str], str], object_id: int, field: str,
              original: str, default_locale: str) -> list[Span]:
    """The text of `field` of object `object_id` for this reader, as spans (the original is
    user text: a plain span the renderers escape)."""
    translated = texts.get((object_id, field))
    if translated is not None or t.locale == default_locale:
        return [Span(translated if translated is not None else original)]
    return [Span(original), Span(" "), italic(t.gettext("(not translated into {language} yet)")
                                              .format(language=t.language_name(t.locale)))]
