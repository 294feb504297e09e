"""A Discord interaction as an Invocation: who, where, in which language, with which options.

Options reach the core as named strings (`{"member": "discord:<id>", "amount": "10"}`), so the
core converts them with the same parsers as every other platform.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import discord

from bot.config import DiscordSettings
from bot.model import Actor, ChatKind, ChatRef, Invocation, Platform, Role, Target


def platform_role(user: discord.abc.User, settings: DiscordSettings) -> Role:
    """The highest role the configured Discord roles give; only members of a guild have roles.

    A Discord role gives its rights on Discord only: it is per update, never stored.
    """
    get_role = getattr(user, "get_role", None)  # a Member; a User (in a DM) has no roles
    if get_role is None:
        return Role.MEMBER
    # get_role is a lookup in the member's sorted role ids; `roles` would build a sorted list.
    if any(get_role(role_id) for role_id in settings.organiser_role_ids):
        return Role.ORGANISER
    if any(get_role(role_id) for role_id in settings.ambassador_role_ids):
        return Role.AMBASSADOR
    return Role.MEMBER


def actor_for(interaction: discord.Interaction, settings: DiscordSettings) -> Actor:
    user = interaction.user
    return Actor(
        platform=Platform.DISCORD, user_id=str(user.id), username=user.name,
        display_name=user.display_name,
        # discord.Locale's value is the IETF tag ("zh-CN"); the core negotiates it.
        locale_hint=interaction.locale.value if interaction.locale else None,
        platform_role=platform_role(user, settings),
    )


def chat_for(interaction: discord.Interaction) -> ChatRef:
    in_dm = interaction.guild_id is None
    guild_locale = interaction.guild_locale.value if interaction.guild_locale else None
    return ChatRef(Platform.DISCORD, str(interaction.channel_id or interaction.user.id),
                   ChatKind.PRIVATE if in_dm else ChatKind.GROUP,
                   locale=None if in_dm else guild_locale)


# discord.abc.User is a runtime-checkable Protocol, slow in isinstance; options hold these.
_USERS = (discord.User, discord.Member)


def option_text(value: Any) -> str:
    """One option value as the text the core parses: users become `discord:<id>`."""
    if isinstance(value, _USERS):
        return f"discord:{value.id}"
    return str(value)


def vouched_users(options: Mapping[str, Any]) -> tuple[Target, ...]:
    """Users picked in user options exist: Discord resolved them. Bots are never members."""
    return tuple(Target(Platform.DISCORD, str(value.id), username=value.name,
                        display_name=value.display_name)
                 for value in options.values()
                 if isinstance(value, _USERS) and not value.bot)


def command_invocation(interaction: discord.Interaction, command: str,
                       options: Mapping[str, Any], settings: DiscordSettings) -> Invocation:
    named = {name: option_text(value) for name, value in options.items() if value is not None}
    return Invocation(actor_for(interaction, settings), chat_for(interaction),
                      key=f"discord:{interaction.id}", command=command, named=named,
                      mentions=vouched_users(options))


def form_values(data: Mapping[str, Any] | None) -> dict[str, str]:
    """A modal submission's answers by input custom_id (the option names): text inputs sit in
    labels (type 18) or, in older layouts, action rows (type 1)."""
    values: dict[str, str] = {}

    def walk(items: Any) -> None:
        for item in items or []:
            if not isinstance(item, Mapping):
                continue
            if item.get("type") == 1:
                walk(item.get("components"))
            elif item.get("type") == 18:
                walk([item.get("component")])
            elif isinstance(item.get("custom_id"), str) and isinstance(item.get("value"), str):
                values[item["custom_id"]] = item["value"]

    walk((data or {}).get("components"))
    return values


def form_invocation(interaction: discord.Interaction, command: str, fixed: Mapping[str, str],
                    settings: DiscordSettings) -> Invocation:
    """A submitted form as the command it asked for: answers left empty were not given; the
    fixed arguments from the custom_id win over any input of the same name."""
    answers = {name: value for name, value in form_values(interaction.data).items()
               if value.strip()}
    return Invocation(actor_for(interaction, settings), chat_for(interaction),
                      key=f"discord:{interaction.id}", command=command,
                      named={**answers, **fixed})


def press_invocation(interaction: discord.Interaction, payload: str,
                     settings: DiscordSettings) -> Invocation:
    return Invocation(actor_for(interaction, settings), chat_for(interaction),
                      key=f"discord:{interaction.id}", action=payload)
