"""Catalogs: complete, placeholders intact, plurals right, template current."""

from __future__ import annotations

import subprocess
import sys

import pytest
from babel.messages.pofile import read_po

from bot.config import I18nSettings
from bot.i18n import Translator
from bot.i18n_tools import catalog_problems
from bot.paths import locales_dir

ENABLED = I18nSettings().locales


def catalog(locale: str):
    with (locales_dir() / locale / "LC_MESSAGES" / "campusbot.po").open("rb") as fp:
        return read_po(fp, locale=locale)


@pytest.mark.parametrize("locale", ENABLED)
def test_every_message_translated_with_the_same_placeholders(locale):
    """The same rules `campusbot i18n check` applies in CI: nothing untranslated or fuzzy, and
    every translation keeps exactly its msgid's placeholders."""
    assert list(catalog_problems(catalog(locale))) == []


@pytest.mark.parametrize("n", [0, 1, 2, 11, 100])
def test_plurals(n):
    en, zh = Translator("en"), Translator("zh_Hans")
    english = en.ngettext("{n} point", "{n} points", n).format(n=n)
    assert english == (f"{n} point" if n == 1 else f"{n} points")
    assert zh.ngettext("{n} point", "{n} points", n).format(n=n) == f"{n} 积分"


def test_numbers_and_dates_follow_the_locale():
    from datetime import UTC, datetime

    moment = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert Translator("en").number(1234567) == "1,234,567"
    assert Translator("zh_Hans", "Asia/Shanghai").datetime(moment, "short") == "2026/12/1 20:00"
    assert Translator("en", "UTC").datetime(moment, "short") == "12/1/26, 12:00\u202fPM"
    # What replies show: the medium date, never the ambiguous 12/1/26, with the minute.
    assert Translator("en", "UTC").datetime(moment) == "Dec 1, 2026, 12:00\u202fPM"
    assert Translator("zh_Hans", "Asia/Shanghai").datetime(moment) == "2026年12月1日 20:00"


def test_language_names_use_the_brackets_of_their_script():
    en = Translator("en")
    assert en.language_name("zh_Hans") == "中文（简体）"
    assert en.language_name("zh_Hant") == "中文（繁體）"
    assert en.language_name("en") == "English"


def test_template_and_catalogs_are_current():
    result = subprocess.run([sys.executable, "-m", "bot", "i18n", "check"], capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout + result.stderr
