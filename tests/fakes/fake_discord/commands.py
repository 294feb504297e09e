"""Application commands: what ``tree.sync()`` stores, its routes, and invocations' options.

Why: slash-command tests depend on the bot having synced its commands, with Discord's rules
for ids and versions (so that a sync that changed nothing is recognisable), and on each
invocation carrying options typed by that schema together with Discord's ``resolved`` data.
"""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .protocol import EVERYONE_PERMISSIONS, JSON, ApiError
from .validation import (
    COMMAND_FIELDS,
    FormErrors,
    command_signature,
    validate_command,
    validate_command_list,
)

if TYPE_CHECKING:
    from .rest import FakeRequest, RouteResult
    from .server import FakeDiscord


@dataclass
class SyncRecord:
    """One bulk overwrite (``tree.sync()``); ``changed`` is False when nothing differed."""

    guild_id: int | None
    names: tuple[str, ...]
    changed: bool
    timestamp: float = field(default_factory=time.monotonic)


class CommandsMixin:
    """The command registry and option building; part of FakeDiscord (server.py).

    Uses ``_commands`` and ``syncs``, which FakeDiscord's constructor creates, and the users
    and guilds of StateMixin for ``resolved`` data.
    """

    def commands(self, guild_id: int | None = None) -> list[JSON]:
        """The stored commands of one scope (global when ``guild_id`` is None), as copies."""
        return copy.deepcopy(self._commands.get(guild_id, []))

    @property
    def sync_count(self) -> int:
        """How many bulk overwrites (``tree.sync()`` calls) reached the fake."""
        return len(self.syncs)

    def _find_command(self, name: str, guild_id: int | None) -> tuple[JSON | None, int | None]:
        """Return the registered command and its scope (guild id or None for global)."""
        scopes: list[int | None] = [guild_id, None] if guild_id is not None else [None]
        for scope in scopes:
            for command in self._commands.get(scope, []):
                if command["name"] == name and command.get("type", 1) == 1:
                    if scope is None and not _usable_in(command, guild_id):
                        continue
                    return command, scope
        return None, None

    def _build_options(
        self,
        command: JSON | None,
        path: list[str],
        given: Mapping[str, Any] | Sequence[JSON],
        focused: str | None,
        guild_id: int | None,
    ) -> tuple[list[JSON], JSON]:
        schema = (command or {}).get("options") or []
        resolved: JSON = {}
        if not isinstance(given, Mapping):
            leaf = [dict(option) for option in given]
        else:
            for part in path[1:]:
                match = next(
                    (o for o in schema if o["name"] == part and o["type"] in (1, 2)), None
                )
                if match is None and command is not None:
                    raise ValueError(f"/{' '.join(path)}: no sub-command {part!r}")
                schema = (match or {}).get("options") or []
            leaf = self._leaf_options(
                schema, given, focused, guild_id, resolved, strict=command is not None
            )
        levels = zip(path[1:], _sub_types(len(path) - 1), strict=True)
        for part, kind in reversed(list(levels)):
            leaf = [{"type": kind, "name": part, "options": leaf}]
        return leaf, resolved

    def _leaf_options(
        self,
        schema: list[JSON],
        given: Mapping[str, Any],
        focused: str | None,
        guild_id: int | None,
        resolved: JSON,
        *,
        strict: bool,
    ) -> list[JSON]:
        by_name = {o["name"]: o for o in schema}
        if strict:
            unknown = set(given) - set(by_name)
            missing = [o["name"] for o in schema if o.get("required") and o["name"] not in given]
            if unknown:
                raise ValueError(f"unknown options {sorted(unknown)}; schema has {list(by_name)}")
            if missing and focused is None:
                raise ValueError(f"missing required options {missing}")
        built: list[JSON] = []
        for key, value in given.items():
            kind = by_name[key]["type"] if key in by_name else _infer_type(value)
            option: JSON = {"name": key, "type": kind}
            if key == focused:
                option.update(value=str(value), focused=True)
            else:
                option["value"] = self._option_value(kind, value, guild_id, resolved)
            built.append(option)
        return built

    def _option_value(self, kind: int, value: Any, guild_id: int | None, resolved: JSON) -> Any:
        if kind == 4:
            return int(value)
        if kind == 10:
            return float(value)
        if kind == 5:
            return bool(value)
        if kind not in (6, 7, 8, 9):
            return str(value)
        snowflake = int(value)
        guild = self._guilds.get(guild_id) if guild_id is not None else None
        if kind == 8 or (kind == 9 and guild and snowflake in guild.roles):
            if guild is None or snowflake not in guild.roles:
                raise ValueError(f"unknown role {snowflake}")
            resolved.setdefault("roles", {})[str(snowflake)] = copy.deepcopy(
                guild.roles[snowflake]
            )
        elif kind == 7:
            channel = guild.channels.get(snowflake) if guild else None
            if channel is None:
                raise ValueError(f"unknown channel {snowflake}")
            entry = {k: channel[k] for k in ("id", "name", "type") if k in channel}
            entry.update(permissions=str(EVERYONE_PERMISSIONS), parent_id=channel.get("parent_id"))
            resolved.setdefault("channels", {})[str(snowflake)] = entry
        else:
            user = self._users.get(snowflake) or self.add_user(snowflake)
            resolved.setdefault("users", {})[str(snowflake)] = copy.deepcopy(user)
            if guild is not None:
                member = guild.members.get(snowflake) or self.add_member(guild.id, snowflake)
                entry = copy.deepcopy(member)
                entry["permissions"] = str(self._permissions(guild, snowflake, member["roles"]))
                resolved.setdefault("members", {})[str(snowflake)] = entry
        return str(snowflake)


def _usable_in(command: JSON, guild_id: int | None) -> bool:
    """Whether a global command shows up in a guild (context 0) or the bot's DM (context 1)."""
    contexts = command.get("contexts")
    if guild_id is None:
        if command.get("dm_permission") is False:
            return False
        return contexts is None or 1 in contexts
    return contexts is None or 0 in contexts


def _sub_types(depth: int) -> list[int]:
    return [1] if depth == 1 else [2, 1][:depth]


def _infer_type(value: Any) -> int:
    if isinstance(value, bool):
        return 5
    if isinstance(value, int):
        return 4
    if isinstance(value, float):
        return 10
    return 3


def _scope(fake: FakeDiscord, m: re.Match[str]) -> int | None:
    if int(m["app"]) != fake.application_id:
        raise ApiError(403, 50001, "Missing Access")
    guild = m.groupdict().get("guild")
    if guild is None:
        return None
    if int(guild) not in fake._guilds:
        raise ApiError(403, 50001, "Missing Access")
    return int(guild)


def _store_command(
    fake: FakeDiscord, scope: int | None, command: JSON, previous: JSON | None
) -> tuple[JSON, bool]:
    """Build the stored form; keep id and version when nothing changed."""
    stored = {key: copy.deepcopy(command.get(key)) for key in COMMAND_FIELDS if key in command}
    stored.setdefault("type", 1)
    stored.setdefault("description", "")
    stored.setdefault("default_member_permissions", None)
    stored.setdefault("nsfw", False)
    if not stored.get("options"):
        stored.pop("options", None)
    changed = previous is None or command_signature(previous) != command_signature(stored)
    stored["id"] = previous["id"] if previous else str(fake.snowflakes.next())
    stored["version"] = str(fake.snowflakes.next()) if changed else previous["version"]
    stored["application_id"] = str(fake.application_id)
    if scope is not None:
        stored["guild_id"] = str(scope)
    return stored, changed


async def _list_commands(
    fake: FakeDiscord, req: FakeRequest, m: re.Match[str], r: web.Request
) -> RouteResult:
    return 200, fake.commands(_scope(fake, m))


async def _put_commands(
    fake: FakeDiscord, req: FakeRequest, m: re.Match[str], r: web.Request
) -> RouteResult:
    scope = _scope(fake, m)
    validate_command_list(req.json)
    old = {(c.get("type", 1), c["name"]): c for c in fake._commands.get(scope, [])}
    stored: list[JSON] = []
    changed = len(old) != len(req.json)
    for command in req.json:
        previous = old.get((command.get("type", 1), command["name"]))
        item, item_changed = _store_command(fake, scope, command, previous)
        stored.append(item)
        changed = changed or item_changed
    fake._commands[scope] = stored
    fake.syncs.append(SyncRecord(scope, tuple(c["name"] for c in stored), changed))
    return 200, copy.deepcopy(stored)


async def _post_command(
    fake: FakeDiscord, req: FakeRequest, m: re.Match[str], r: web.Request
) -> RouteResult:
    scope = _scope(fake, m)
    errors = FormErrors()
    command = req.json if isinstance(req.json, dict) else {}
    validate_command(command, errors, ())
    errors.raise_if_any()
    commands = fake._commands.setdefault(scope, [])
    key = (command.get("type", 1), command.get("name"))
    previous = next((c for c in commands if (c.get("type", 1), c["name"]) == key), None)
    if previous is None and sum(1 for c in commands if c.get("type", 1) == key[0]) >= (
        100 if key[0] == 1 else 5
    ):
        raise ApiError(400, 30032, "Maximum number of application commands reached")
    stored, _ = _store_command(fake, scope, command, previous)
    if previous is None:
        commands.append(stored)
        return 201, copy.deepcopy(stored)
    commands[commands.index(previous)] = stored
    return 200, copy.deepcopy(stored)


def _command_by_id(fake: FakeDiscord, scope: int | None, command_id: str) -> JSON:
    for command in fake._commands.get(scope, []):
        if command["id"] == command_id:
            return command
    raise ApiError(404, 10063, "Unknown application command")


async def _get_command(
    fake: FakeDiscord, req: FakeRequest, m: re.Match[str], r: web.Request
) -> RouteResult:
    return 200, copy.deepcopy(_command_by_id(fake, _scope(fake, m), m["command"]))


async def _patch_command(
    fake: FakeDiscord, req: FakeRequest, m: re.Match[str], r: web.Request
) -> RouteResult:
    scope = _scope(fake, m)
    previous = _command_by_id(fake, scope, m["command"])
    merged = {**previous, **(req.json or {})}
    errors = FormErrors()
    validate_command(merged, errors, ())
    errors.raise_if_any()
    stored, _ = _store_command(fake, scope, merged, previous)
    commands = fake._commands[scope]
    commands[commands.index(previous)] = stored
    return 200, copy.deepcopy(stored)


async def _delete_command(
    fake: FakeDiscord, req: FakeRequest, m: re.Match[str], r: web.Request
) -> RouteResult:
    scope = _scope(fake, m)
    fake._commands[scope].remove(_command_by_id(fake, scope, m["command"]))
    return None
