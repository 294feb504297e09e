"""The command menu — Discord's slash-command tree — generated from the core registry (the
Telegram adapter's menus.py does the same for its command menus): no command is written twice.

Why an explicit signature: discord.py reads a command's options from its callback's signature
(`inspect.signature`, annotations such as `app_commands.Range[int, 1, 1000]` or `discord.User`)
and from attributes the public decorators (`describe`, `choices`, `autocomplete`) put on the
function. We build one generic callback per spec and give it a generated `__signature__`, so
the options come from discord.py's own, documented annotation handling
(https://discordpy.readthedocs.io/en/stable/interactions/api.html#range) rather than from
hand-made payloads or private `CommandParameter` fields.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import discord
from discord import app_commands
from discord.app_commands import locale_str

from bot.model import Role
from bot.spec import CommandSpec, Kind, Opt, Registry

OnCommand = Callable[[discord.Interaction, CommandSpec, dict[str, Any]], Awaitable[None]]
# (interaction, the id option, what the member typed so far) -> the choices to show.
Suggest = Callable[[discord.Interaction, Opt, str], Awaitable[list[app_commands.Choice[str]]]]

# Descriptions are 1-100 characters
# (https://discord.com/developers/docs/interactions/application-commands#application-command-object).
MAX_DESCRIPTION = 100
# Id options whose lists can be long get autocomplete: a feature declares a suggester per id
# letter in the core (Router.suggest, collected in Registry.suggesters), and an option of
# several kinds (Opt.id_kinds "BRET" for /translate) asks each of its letters' suggesters.
# Features never import this adapter.
# Who sees a staff command in the picker by default; server admins can change it per command in
# Server Settings → Integrations. The core checks the caller's role again either way.
STAFF_PERMISSIONS = {
    Role.AMBASSADOR: discord.Permissions(manage_messages=True),
    Role.ORGANISER: discord.Permissions(manage_guild=True),
}


def annotation(opt: Opt) -> Any:
    """The discord.py annotation for one option kind: numbers and text carry their bounds
    (https://discordpy.readthedocs.io/en/stable/interactions/api.html#range)."""
    if opt.kind in (Kind.INT, Kind.POINTS):
        return app_commands.Range[int, opt.min, opt.max]
    if opt.kind is Kind.MEMBER:
        return discord.User
    if opt.kind is Kind.TEXT:
        return app_commands.Range[str, 1, opt.max_len]
    if opt.kind is Kind.CHOICE:
        return str
    # Ids are strings so "B12" and "12" both work; times, dates and durations are text the
    # core reads in the caller's time zone.
    return app_commands.Range[str, 1, 64]


def _signature(spec: CommandSpec) -> inspect.Signature:
    """A dialogue command's options are all optional in the picker: `/newbounty` alone opens
    the form of what is missing (a modal); the core still requires them."""
    params = [inspect.Parameter("interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                annotation=discord.Interaction)]
    for opt in spec.options:
        default = inspect.Parameter.empty if opt.required and not spec.dialogue else None
        params.append(inspect.Parameter(opt.name, inspect.Parameter.KEYWORD_ONLY,
                                        annotation=annotation(opt), default=default))
    return inspect.Signature(params)


def _decorate(func: Callable, spec: CommandSpec, suggested: frozenset[str],
              on_suggest: Suggest | None) -> Callable:
    if not spec.options:
        return func
    func = app_commands.describe(**{
        o.name: locale_str(o.help[:MAX_DESCRIPTION]) for o in spec.options})(func)
    choices = {o.name: [app_commands.Choice(name=locale_str(c), value=c) for c in o.choices]
               for o in spec.options if o.kind is Kind.CHOICE and o.choices}
    if choices:
        func = app_commands.choices(**choices)(func)
    suggest = {o.name: _completer(o, on_suggest) for o in spec.options
               if on_suggest is not None and o.kind is Kind.ID and suggested & set(o.id_kinds)}
    if suggest:
        func = app_commands.autocomplete(**suggest)(func)
    return func


def _completer(opt: Opt, on_suggest: Suggest) -> Callable:
    async def complete(interaction: discord.Interaction,
                       current: str) -> list[app_commands.Choice[str]]:
        return await on_suggest(interaction, opt, current)

    return complete


def make_command(spec: CommandSpec, on_command: OnCommand,
                 suggested: frozenset[str] = frozenset(),
                 on_suggest: Suggest | None = None) -> app_commands.Command:
    async def callback(interaction: discord.Interaction, **options: Any) -> None:
        await on_command(interaction, spec, options)

    callback.__signature__ = _signature(spec)  # type: ignore[attr-defined]
    callback.__name__ = callback.__qualname__ = f"slash_{spec.name}"
    staff = spec.role > Role.MEMBER
    command = app_commands.Command(
        name=spec.name, description=locale_str(spec.help[:MAX_DESCRIPTION]),
        callback=_decorate(callback, spec, suggested, on_suggest),
        # Member commands also work in a DM with the bot; staff commands are for servers.
        allowed_contexts=app_commands.AppCommandContext(guild=True, dm_channel=not staff),
    )
    # Hidden from members in the picker (https://discord.com/developers/docs/interactions/
    # application-commands#permissions); the core still checks the role.
    command.default_permissions = STAFF_PERMISSIONS.get(spec.role)
    return command


def build_tree(client: discord.Client, registry: Registry, on_command: OnCommand,
               on_suggest: Suggest | None = None) -> app_commands.CommandTree:
    tree = app_commands.CommandTree(client)
    suggested = frozenset(registry.suggesters)
    for spec in registry:
        tree.add_command(make_command(spec, on_command, suggested, on_suggest))
    return tree


async def payload(tree: app_commands.CommandTree,
                  guild: discord.abc.Snowflake | None) -> list[dict[str, Any]]:
    """The JSON `tree.sync(guild=…)` would PUT, translations included."""
    commands = tree.get_commands(guild=guild)
    if tree.translator is None:
        return [command.to_dict(tree) for command in commands]
    return [await command.get_translated_payload(tree, tree.translator) for command in commands]


def schema_hash(data: list[Mapping[str, Any]]) -> str:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()
