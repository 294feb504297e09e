"""Command menus (setMyCommands): members see member commands, staff see what they may use.

Telegram picks the most specific list for a user: chat scope, then the default scope, each first
in the user's language and then without one
(https://core.telegram.org/bots/api#determining-list-of-commands). So each list is written for
every enabled language *and* once without a language.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from telegram import Bot, BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from telegram.error import TelegramError

from bot.config import Settings
from bot.i18n import translator
from bot.model import Role
from bot.spec import CommandSpec, Registry

log = logging.getLogger(__name__)

MAX_COMMANDS = 100  # per scope and language
MAX_DESCRIPTION = 256


def menu_languages(locales: Iterable[str]) -> dict[str, str]:
    """Telegram's two-letter language_code -> our locale. zh_Hans and zh_Hant share `zh`
    (ISO 639-1 has no script), and zh_Hans takes it."""
    languages: dict[str, str] = {}
    for locale in locales:
        code = locale.split("_")[0].lower()
        if len(code) != 2:
            continue
        if code not in languages or locale == "zh_Hans":
            languages[code] = locale
    return languages


def bot_commands(specs: Iterable[CommandSpec], locale: str) -> list[BotCommand]:
    t = translator(locale)
    commands = []
    for spec in specs:
        description = t.gettext(spec.help).strip()[:MAX_DESCRIPTION] or spec.name
        commands.append(BotCommand(spec.name, description))
    if len(commands) > MAX_COMMANDS:
        log.warning("menu has %d commands; Telegram shows only %d", len(commands), MAX_COMMANDS)
    return commands[:MAX_COMMANDS]


def staff(settings: Settings) -> dict[int, Role]:
    """Telegram users the config names as ambassadors or organisers ("telegram:ID")."""
    found: dict[int, Role] = {}
    for role, accounts in ((Role.AMBASSADOR, settings.roles.ambassadors),
                           (Role.ORGANISER, settings.roles.organisers)):
        for account in accounts:
            platform, _, user_id = account.partition(":")
            if platform == "telegram" and user_id.isdigit():
                found[int(user_id)] = max(role, found.get(int(user_id), Role.MEMBER))
    return found


async def set_menus(bot: Bot, registry: Registry, settings: Settings) -> int:
    """Write every menu; returns how many lists were set. A failure is logged, never fatal:
    the commands work without a menu."""
    specs = list(registry)
    languages = menu_languages(settings.i18n.locales)
    default_locale = settings.i18n.default_locale
    written = 0
    members = [s for s in specs if s.role == Role.MEMBER]
    written += await _write(bot, members, BotCommandScopeDefault(), languages, default_locale)
    # Staff menus go to each configured person's private chat. Not the chat-administrators
    # scope: group admins are not necessarily organisers, and the menu should only offer what
    # the core will allow (the core checks the role again on every command anyway).
    for user_id, role in staff(settings).items():
        allowed = [s for s in specs if s.role <= role]
        written += await _write(bot, allowed, BotCommandScopeChat(user_id), languages,
                                default_locale)
    return written


async def _write(bot: Bot, specs: list[CommandSpec], scope, languages: dict[str, str],
                 default_locale: str) -> int:
    written = 0
    for code, locale in [*languages.items(), ("", default_locale)]:
        try:
            await bot.set_my_commands(bot_commands(specs, locale), scope=scope,
                                      language_code=code or None)
            written += 1
        except TelegramError as exc:
            log.warning("setMyCommands for %s (%s) failed: %s", scope.type, code or "default",
                        exc)
    return written
