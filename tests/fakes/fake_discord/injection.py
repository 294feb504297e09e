"""What simulated users do: slash commands, autocomplete, button presses, modal submissions.

Why: tests drive the bot the way a Discord user would. This builds the INTERACTION_CREATE
payload Discord would send (user, member, permissions, channel, locale, the message pressed
on, the modal's layout) and refuses what a real client cannot do, such as an unknown locale
or pressing on somebody else's ephemeral message.
"""

from __future__ import annotations

import copy
import secrets
from collections.abc import Iterable, Mapping, Sequence
from types import EllipsisType
from typing import Any

from .interactions import FakeInteraction
from .messages import FakeMessage
from .protocol import (
    DEFAULT_USER_ID,
    DEFAULT_USERNAME,
    DM_APP_PERMISSIONS,
    JSON,
    LOCALES,
    SELECT_TYPES,
)


class InjectionMixin:
    """``slash``, ``autocomplete``, ``press`` and ``submit_modal``; part of FakeDiscord.

    Builds on the users and guilds of StateMixin, the command registry of CommandsMixin and
    ``_send_interaction`` of InteractionsMixin.
    """

    async def slash(
        self,
        name: str,
        options: Mapping[str, Any] | Sequence[JSON] | None = None,
        *,
        user_id: int = DEFAULT_USER_ID,
        username: str | None = None,
        locale: str = "en-US",
        guild_id: int | EllipsisType | None = ...,
        channel_id: int | None = None,
        roles: Iterable[int] = (),
        resolved_users: Mapping[int, str] | None = None,
        member_permissions: int | str | None = None,
        app_permissions: int | str | None = None,
    ) -> FakeInteraction:
        """Invoke a chat-input command as a user would (INTERACTION_CREATE type 2).

        ``name`` may be qualified (``"event create"``) for sub-commands. ``options`` is a
        mapping of option name to value (types come from the synced schema) or raw option
        dicts. ``guild_id=...`` means the first configured guild, ``None`` a DM with the bot.
        """
        return await self._command_interaction(
            2,
            name,
            options,
            None,
            user_id=user_id,
            username=username,
            locale=locale,
            guild_id=guild_id,
            channel_id=channel_id,
            roles=roles,
            resolved_users=resolved_users,
            member_permissions=member_permissions,
            app_permissions=app_permissions,
        )

    async def autocomplete(
        self,
        name: str,
        options: Mapping[str, Any] | Sequence[JSON],
        *,
        focused: str | None = None,
        user_id: int = DEFAULT_USER_ID,
        username: str | None = None,
        locale: str = "en-US",
        guild_id: int | EllipsisType | None = ...,
        channel_id: int | None = None,
        roles: Iterable[int] = (),
    ) -> FakeInteraction:
        """Ask for autocomplete choices (type 4); ``focused`` defaults to the last option."""
        if focused is None and isinstance(options, Mapping) and options:
            focused = list(options)[-1]
        return await self._command_interaction(
            4,
            name,
            options,
            focused,
            user_id=user_id,
            username=username,
            locale=locale,
            guild_id=guild_id,
            channel_id=channel_id,
            roles=roles,
            resolved_users=None,
            member_permissions=None,
            app_permissions=None,
        )

    async def press(
        self,
        message: FakeMessage | int,
        custom_id: str,
        *,
        user_id: int = DEFAULT_USER_ID,
        username: str | None = None,
        locale: str = "en-US",
        values: Sequence[str] | None = None,
        component_type: int | None = None,
        roles: Iterable[int] = (),
        member_permissions: int | str | None = None,
    ) -> FakeInteraction:
        """Press a button (or choose in a select) on a message the bot sent (type 3).

        The ``custom_id`` need not be on the message, so tampered or stale ids can be tried.
        An ephemeral message can only be used by the user it was shown to.
        """
        target = self._message(message) if isinstance(message, int) else message
        if target.deleted:
            raise ValueError(f"message {target.id} was deleted; nobody can press on it")
        if target.ephemeral and target.interaction_id is not None:
            owner = self._interactions_by_id[target.interaction_id].user_id
            if owner != user_id:
                raise ValueError(f"message {target.id} is ephemeral and only {owner} sees it")
        component = target.find_component(custom_id)
        if component_type is None:
            if component is not None:
                component_type = int(component["type"])
            else:
                component_type = 2 if values is None else 3
        data: JSON = {"custom_id": custom_id, "component_type": component_type}
        if component_type in SELECT_TYPES:
            data["values"] = list(values or [])
        payload = self._interaction_payload(
            3,
            data,
            guild_id=target.guild_id,
            channel_id=target.channel_id,
            user_id=user_id,
            username=username,
            locale=locale,
            roles=roles,
            member_permissions=member_permissions,
            app_permissions=None,
        )
        payload["message"] = target.to_api()
        return await self._send_interaction(payload, target)

    async def submit_modal(
        self,
        custom_id: str,
        values: Mapping[str, str | Sequence[str]],
        *,
        user_id: int = DEFAULT_USER_ID,
        username: str | None = None,
        locale: str = "en-US",
        guild_id: int | EllipsisType | None = ...,
        channel_id: int | None = None,
        roles: Iterable[int] = (),
    ) -> FakeInteraction:
        """Submit a modal (type 5); ``values`` maps each input's custom_id to its value(s).

        When the bot showed a modal with this ``custom_id``, its layout (labels or action
        rows), guild, channel and message are reused.
        """
        shown = self._shown_modal(custom_id, user_id)
        source: FakeMessage | None = None
        if shown is not None:
            guild_id, channel_id = shown.guild_id, shown.channel_id
            source = shown.source_message
            components = _modal_submission(shown.modal or {}, values)
        else:
            components = [
                {"type": 1, "components": [_submitted_input(key, value)]}
                for key, value in values.items()
            ]
        guild = self._default_guild(guild_id)
        data = {"custom_id": custom_id, "components": components}
        payload = self._interaction_payload(
            5,
            data,
            guild_id=guild,
            channel_id=channel_id,
            user_id=user_id,
            username=username,
            locale=locale,
            roles=roles,
            member_permissions=None,
            app_permissions=None,
        )
        if source is not None:
            payload["message"] = source.to_api()
        return await self._send_interaction(payload, source)

    def _interaction_payload(
        self,
        kind: int,
        data: JSON,
        *,
        guild_id: int | None,
        channel_id: int | None,
        user_id: int,
        username: str | None,
        locale: str,
        roles: Iterable[int],
        member_permissions: int | str | None,
        app_permissions: int | str | None,
    ) -> JSON:
        if locale not in LOCALES:
            # Discord clients only send their 32 locales (no Arabic, no Malay, no "en").
            raise ValueError(f"Discord never sends locale {locale!r}; see LOCALES")
        user = self.add_user(user_id, username) if username else self._users.get(user_id)
        if user is None:
            user = self.add_user(user_id, DEFAULT_USERNAME if user_id == DEFAULT_USER_ID else None)
        interaction_id = self.snowflakes.next()
        payload: JSON = {
            "id": str(interaction_id),
            "application_id": str(self.application_id),
            "type": kind,
            "data": data,
            "token": _interaction_token(interaction_id),
            "version": 1,
            "locale": locale,
            "entitlements": [],
            "entitlement_sku_ids": [],
            "attachment_size_limit": 10 * 1024 * 1024,
        }
        if guild_id is None:
            channel = self._dm_channel_json(user_id)
            if channel_id is not None and channel_id != int(channel["id"]):
                raise ValueError("a DM interaction happens in the user's DM channel with the bot")
            payload.update(
                channel_id=channel["id"],
                channel=channel,
                user=copy.deepcopy(user),
                context=1,
                authorizing_integration_owners={"0": "0"},
                app_permissions=str(app_permissions or DM_APP_PERMISSIONS),
            )
            return payload
        guild = self._guild(guild_id)
        channel = (
            guild.channels.get(channel_id)
            if channel_id is not None
            else next((c for c in guild.channels.values() if c["type"] == 0), None)
        )
        if channel is None:
            raise ValueError(f"guild {guild_id} has no channel {channel_id}")
        role_ids = [int(r) for r in roles]
        if user_id in guild.members and not role_ids:
            role_ids = [int(r) for r in guild.members[user_id]["roles"]]
        self.add_member(guild_id, user_id, roles=role_ids)
        if member_permissions is None:
            member_permissions = self._permissions(guild, user_id, role_ids)
        member = self._full_member(guild, user_id)
        member["permissions"] = str(int(member_permissions))
        bot_permissions = self._permissions(
            guild, self.bot_user_id, guild.members[self.bot_user_id]["roles"]
        )
        interaction_channel = copy.deepcopy(channel)
        interaction_channel["permissions"] = member["permissions"]
        payload.update(
            guild_id=str(guild_id),
            channel_id=channel["id"],
            channel=interaction_channel,
            member=member,
            guild_locale=guild.locale,
            context=0,
            guild={"id": str(guild_id), "locale": guild.locale, "features": []},
            authorizing_integration_owners={"0": str(guild_id)},
            app_permissions=str(int(app_permissions or bot_permissions)),
        )
        return payload

    async def _command_interaction(
        self,
        kind: int,
        name: str,
        options: Mapping[str, Any] | Sequence[JSON] | None,
        focused: str | None,
        *,
        user_id: int,
        username: str | None,
        locale: str,
        guild_id: int | EllipsisType | None,
        channel_id: int | None,
        roles: Iterable[int],
        resolved_users: Mapping[int, str] | None,
        member_permissions: int | str | None,
        app_permissions: int | str | None,
    ) -> FakeInteraction:
        guild = self._default_guild(guild_id)
        path = name.split()
        command, scope = self._find_command(path[0], guild)
        if command is None and self.require_registered_commands:
            where = f"guild {guild} or globally" if guild is not None else "globally (DM)"
            raise LookupError(
                f"/{path[0]} is not registered {where}; sync the command tree "
                f"first\n{self.summary()}"
            )
        for user, nick in (resolved_users or {}).items():
            self.add_user(user, nick)
        built, resolved = self._build_options(command, path, options or {}, focused, guild)
        data: JSON = {
            "id": command["id"] if command else str(self.snowflakes.next()),
            "name": path[0],
            "type": 1,
            "options": built,
        }
        if resolved and kind == 2:
            data["resolved"] = resolved
        if scope is not None or (command is None and guild is not None):
            data["guild_id"] = str(guild)
        payload = self._interaction_payload(
            kind,
            data,
            guild_id=guild,
            channel_id=channel_id,
            user_id=user_id,
            username=username,
            locale=locale,
            roles=roles,
            member_permissions=member_permissions,
            app_permissions=app_permissions,
        )
        return await self._send_interaction(payload, None)

    def _shown_modal(self, custom_id: str, user_id: int) -> FakeInteraction | None:
        for rec in reversed(self.interactions):
            shown = rec.modal is not None and rec.modal.get("custom_id") == custom_id
            if shown and rec.user_id == user_id:
                return rec
        return None


def _interaction_token(interaction_id: int) -> str:
    return f"aW50ZXJhY3Rpb24{interaction_id}{secrets.token_urlsafe(24)}"


def _submitted_input(custom_id: str, value: str | Sequence[str]) -> JSON:
    if isinstance(value, str):
        return {"type": 4, "custom_id": custom_id, "value": value}
    return {"type": 3, "custom_id": custom_id, "values": list(value)}


def _modal_submission(modal: JSON, values: Mapping[str, str | Sequence[str]]) -> list[JSON]:
    """Mirror the shown modal's layout (labels or action rows) with the user's values."""
    expected: list[str] = []
    result: list[JSON] = []
    for item in modal.get("components") or []:
        if item.get("type") == 18:
            inner = item.get("component") or {}
            if "custom_id" in inner:
                expected.append(inner["custom_id"])
                value = values.get(inner["custom_id"], "")
                result.append(
                    {"type": 18, "component": _submitted_input(inner["custom_id"], value)}
                )
        elif item.get("type") == 1:
            row = []
            for inner in item.get("components") or []:
                if "custom_id" not in inner:
                    continue
                expected.append(inner["custom_id"])
                row.append(
                    _submitted_input(inner["custom_id"], values.get(inner["custom_id"], ""))
                )
            result.append({"type": 1, "components": row})
    unknown = set(values) - set(expected)
    if unknown:
        raise ValueError(f"modal has no inputs {sorted(unknown)}; it has {expected}")
    return result
