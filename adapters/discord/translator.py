"""Localized slash-command descriptions from our gettext catalogs.

discord.py asks an `app_commands.Translator` for every `locale_str` in the tree, once for each of
Discord's client locales, when it builds the sync payload; returning None leaves that locale out
(https://discordpy.readthedocs.io/en/stable/interactions/api.html#translator). Command and
option names are never translated: the contract keeps them English on every platform.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.app_commands import TranslationContextLocation as Where

from bot.i18n import translator

# Discord client locales -> our Babel identifiers. Discord has no Arabic or Malay client locale
# (https://discord.com/developers/docs/reference#locales), so those members use /language.
LOCALES: dict[discord.Locale, str] = {
    discord.Locale.chinese: "zh_Hans",  # zh-CN
    discord.Locale.taiwan_chinese: "zh_Hant",  # zh-TW
    discord.Locale.american_english: "en",
    discord.Locale.british_english: "en",
    discord.Locale.indonesian: "id",
    discord.Locale.brazil_portuguese: "pt",
    discord.Locale.vietnamese: "vi",
    discord.Locale.korean: "ko",
    discord.Locale.japanese: "ja",
    discord.Locale.spain_spanish: "es",
    discord.Locale.latin_american_spanish: "es",
}

# Discord's limits: descriptions and choice names 1-100 characters
# (https://discord.com/developers/docs/interactions/application-commands#application-command-object).
MAX_TEXT = 100
_TRANSLATED = (Where.command_description, Where.parameter_description, Where.choice_name,
               Where.group_description)


class CatalogTranslator(app_commands.Translator):
    """Answers from the gettext catalog of each enabled locale; None for everything else."""

    def __init__(self, enabled: tuple[str, ...]):
        self.enabled = enabled

    async def translate(self, string: app_commands.locale_str, locale: discord.Locale,
                        context: app_commands.TranslationContextTypes) -> str | None:
        ours = LOCALES.get(locale)
        if ours is None or ours not in self.enabled or context.location not in _TRANSLATED:
            return None
        text = translator(ours).gettext(string.message)
        # An untranslated msgid would only repeat the default description: leave it out, which
        # also keeps the synced JSON (and its hash) free of noise.
        if text == string.message:
            return None
        return text[:MAX_TEXT]
