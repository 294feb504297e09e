"""Catalogs, locale negotiation and the per-reader Translator.

A Translator is bound to one reader (their locale and time zone) and passed explicitly: there is
no module-level "current language", so a reminder job can render for 500 members in 500 locales
with the same view code a command uses.
"""

from __future__ import annotations

import gettext
import io
import logging
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, tzinfo
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel import dates as babel_dates
from babel import lists as babel_lists
from babel import numbers as babel_numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot.paths import locales_dir

DOMAIN = "campusbot"
log = logging.getLogger(__name__)

# Platform tags that Babel's own parsing does not map to our locale identifiers.
_ALIASES = {
    "zh": "zh_Hans", "zh_cn": "zh_Hans", "zh_sg": "zh_Hans", "zh_hans": "zh_Hans",
    "zh_hans_cn": "zh_Hans", "zh_tw": "zh_Hant", "zh_hk": "zh_Hant", "zh_mo": "zh_Hant",
    "zh_hant": "zh_Hant", "zh_hant_tw": "zh_Hant", "zh_hant_hk": "zh_Hant",
    "pt_br": "pt", "pt_pt": "pt", "es_419": "es", "es_es": "es", "in": "id",
}


# Languages whose text puts full-width brackets round a qualifier: 中文（简体）.
_FULL_WIDTH = frozenset({"zh", "ja"})


def N_(message: str) -> str:
    """Mark a literal for extraction; it is translated later, for each reader."""
    return message


CONTEXT_GLUE = "\x04"  # how gettext itself joins a msgctxt to its msgid in a compiled catalog


def NC_(context: str, message: str) -> str:
    """Mark a literal that one word in English means two things in other languages (a bounty's
    "reward" is points, the mall's is a prize): Translator.gettext reads it with its context."""
    return f"{context}{CONTEXT_GLUE}{message}"


def is_known_locale(identifier: str) -> bool:
    try:
        Locale.parse(identifier)
    except (UnknownLocaleError, ValueError, TypeError):
        return False
    return True


def negotiate(tag: str | None, enabled: Sequence[str]) -> str | None:
    """Map a platform hint (`zh-CN`, `pt-BR`, `en-US`, `zh_Hant`) to an enabled locale, or None."""
    if not tag:
        return None
    return _negotiate(tag, tuple(enabled))


@lru_cache(maxsize=256)
def _negotiate(tag: str, enabled: tuple[str, ...]) -> str | None:
    """Every update negotiates its sender's hint; the hints are a few dozen tags."""
    key = tag.strip().replace("-", "_").lower()
    if not key:
        return None
    by_lower = {loc.lower(): loc for loc in enabled}
    for candidate in (key, _ALIASES.get(key)):
        if candidate and candidate.lower() in by_lower:
            return by_lower[candidate.lower()]
    language = key.split("_")[0]
    alias = _ALIASES.get(language, language)
    return by_lower.get(alias.lower())


@lru_cache(maxsize=64)
def _catalog(locale: str) -> gettext.NullTranslations:
    po = locales_dir() / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po.exists():
        return gettext.NullTranslations()
    mo = po.with_suffix(".mo")
    if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
        return gettext.GNUTranslations(io.BytesIO(compile_catalog(po, mo)))
    with mo.open("rb") as fp:
        return gettext.GNUTranslations(fp)


def compile_catalog(po: Path, mo: Path | None = None) -> bytes:
    """Compile one .po; write the .mo beside it when the folder is writable.

    `.mo` files are never committed, so a fresh clone compiles here on first use; a read-only
    install still works from the in-memory result.
    """
    with po.open("rb") as fp:
        catalog = read_po(fp, locale=po.parent.parent.name, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    data = buffer.getvalue()
    if mo is not None:
        try:
            mo.write_bytes(data)
        except OSError as exc:
            log.debug("could not write %s (%s); using the compiled catalog in memory", mo, exc)
    return data


def compile_all() -> list[Path]:
    written = []
    for po in sorted(locales_dir().glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        mo = po.with_suffix(".mo")
        compile_catalog(po, mo)
        written.append(mo)
    _catalog.cache_clear()
    return written


class Translator:
    """Everything a view needs to speak to one reader: messages, numbers, dates, lists."""

    def __init__(self, locale: str, tz: tzinfo | str = "UTC"):
        self.locale = locale
        self.tz = ZoneInfo(tz) if isinstance(tz, str) else tz
        self._catalog = _catalog(locale)
        self._babel = Locale.parse(locale)

    def gettext(self, message: str) -> str:
        if CONTEXT_GLUE in message:  # marked with NC_
            context, _, text = message.partition(CONTEXT_GLUE)
            return self._catalog.pgettext(context, text)
        return self._catalog.gettext(message)

    __call__ = gettext

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._catalog.ngettext(singular, plural, n)

    def pgettext(self, context: str, message: str) -> str:
        return self._catalog.pgettext(context, message)

    def number(self, value: int | float) -> str:
        return _format_number(value, self.locale)

    def datetime(self, value: datetime, fmt: str = "medium") -> str:
        """`Dec 2, 2026, 4:02 AM`, `2026年12月2日 04:02`: by default the locale's medium date
        (never the ambiguous numeric short one, 12/2/26) with the time to the minute."""
        if fmt != "medium":
            return babel_dates.format_datetime(value, fmt, tzinfo=self.tz, locale=self._babel)
        # As babel_dates.format_datetime joins a date and a time, with a short (minute) time.
        pattern = str(self._babel.datetime_formats["medium"]).replace("'", "")
        if value.tzinfo is None:  # as Babel reads a naive time: UTC
            value = value.replace(tzinfo=UTC)
        day = babel_dates.format_date(value.astimezone(self.tz), "medium", locale=self._babel)
        clock = babel_dates.format_time(value, "short", tzinfo=self.tz, locale=self._babel)
        return pattern.replace("{0}", clock).replace("{1}", day)

    def date(self, value: date | datetime, fmt: str = "medium") -> str:
        if isinstance(value, datetime):
            value = value.astimezone(self.tz).date()
        return babel_dates.format_date(value, fmt, locale=self._babel)

    def time(self, value: datetime, fmt: str = "short") -> str:
        return babel_dates.format_time(value, fmt, tzinfo=self.tz, locale=self._babel)

    def list(self, items: Iterable[str]) -> str:
        return babel_lists.format_list(list(items), locale=self._babel)

    def language_name(self, locale: str) -> str:
        """A locale's name in its own language, as a language menu shows it."""
        name = Locale.parse(locale).get_display_name(locale) or locale
        if locale.split("_")[0] in _FULL_WIDTH:
            # CLDR writes "中文 (简体)"; Chinese and Japanese text brackets it full width.
            name = name.replace(" (", "（").replace("(", "（").replace(")", "）")
        return name


@lru_cache(maxsize=256)
def translator(locale: str, tz: str = "UTC") -> Translator:
    return Translator(locale, tz)


@lru_cache(maxsize=4096)
def _format_number(value: int | float, locale: str) -> str:
    """Babel's formatting costs ~20 µs a number; balances and ranks repeat all day."""
    return babel_numbers.format_decimal(value, locale=locale)
