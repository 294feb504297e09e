"""Guilds, channels, users and members: the world the bot sees.

Why: REST lookups, gateway payloads (READY, GUILD_CREATE, member chunks) and injected
interactions must all describe the same users and guilds. This module owns those records, the
JSON Discord sends for them, DM channels and the permission arithmetic.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import EllipsisType
from typing import Any

from .protocol import (
    ADMINISTRATOR,
    ALL_PERMISSIONS,
    EVERYONE_PERMISSIONS,
    JSON,
    ApiError,
    _ids,
    _iso,
)


@dataclass
class _Guild:
    id: int
    name: str
    locale: str
    owner_id: int
    channels: dict[int, JSON]
    roles: dict[int, JSON]
    members: dict[int, JSON]
    extra: JSON


class StateMixin:
    """Users, members, guilds and DM channels; part of FakeDiscord (server.py).

    Uses ``_users``, ``_guilds``, ``_dm_channels``, ``_closed_dms``, ``bot_user_id``,
    ``owner_user`` and ``snowflakes``, which FakeDiscord's constructor creates.
    """

    def add_user(
        self,
        user_id: int,
        username: str | None = None,
        *,
        global_name: str | None = None,
        bot: bool | None = None,
    ) -> JSON:
        """Register (or rename) a user so REST lookups and resolved data know them."""
        user = self._users.get(user_id)
        if user is None:
            user = self._users[user_id] = self._user_json(user_id, username or f"user{user_id}")
        if username is not None:
            user["username"] = username
        if global_name is not None:
            user["global_name"] = global_name
        if bot is not None:
            user["bot"] = bot
        return user

    def add_member(
        self,
        guild_id: int,
        user_id: int,
        username: str | None = None,
        roles: Iterable[int] = (),
        nick: str | None = None,
    ) -> JSON:
        """Make a user a member of a guild (with roles), for GUILD_CREATE and permissions."""
        self.add_user(user_id, username)
        guild = self._guild(guild_id)
        member = guild.members.get(user_id)
        if member is None:
            member = guild.members[user_id] = self._member_json(roles, nick)
        else:
            member["roles"] = _ids(roles)
            if nick is not None:
                member["nick"] = nick
        return member

    def close_dms(self, user_id: int) -> None:
        """From now on, messages into this user's DM channel answer 403/50007."""
        self._closed_dms.add(user_id)

    def open_dms(self, user_id: int) -> None:
        self._closed_dms.discard(user_id)

    def dm_channel_id(self, user_id: int) -> int:
        """The stable DM channel between the bot and this user (created on first use)."""
        if user_id not in self._dm_channels:
            self.add_user(user_id)
            self._dm_channels[user_id] = self.snowflakes.next()
        return self._dm_channels[user_id]

    def _user_json(self, user_id: int, username: str) -> JSON:
        return {
            "id": str(user_id),
            "username": username,
            "discriminator": "0",
            "global_name": None,
            "avatar": None,
            "bot": False,
            "system": False,
            "public_flags": 0,
            "flags": 0,
            "banner": None,
            "accent_color": None,
            "avatar_decoration_data": None,
        }

    def _member_json(self, roles: Iterable[int], nick: str | None = None) -> JSON:
        return {
            "roles": _ids(roles),
            "nick": nick,
            "avatar": None,
            "banner": None,
            "joined_at": _iso(),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
        }

    def _normalize_guild(self, raw: Mapping[str, Any]) -> _Guild:
        guild_id = int(raw["id"])
        roles: dict[int, JSON] = {}
        everyone = {"id": guild_id, "name": "@everyone", "permissions": EVERYONE_PERMISSIONS}
        for position, role in enumerate([everyone, *raw.get("roles", [])]):
            role_id = int(role["id"])
            roles[role_id] = {
                "id": str(role_id),
                "name": role.get("name", f"role{role_id}"),
                "permissions": str(int(role.get("permissions", 0))),
                "position": role.get("position", position),
                "color": 0,
                "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
                "hoist": False,
                "managed": False,
                "mentionable": False,
                "icon": None,
                "unicode_emoji": None,
                "flags": 0,
            }
        channels: dict[int, JSON] = {}
        for position, channel in enumerate(raw.get("channels", [])):
            full = _channel_json(dict(channel), guild_id, position)
            channels[int(full["id"])] = full
        owner_id = int(raw.get("owner_id", self.owner_user["id"]))
        guild = _Guild(
            id=guild_id,
            name=raw.get("name", f"guild{guild_id}"),
            locale=raw.get("preferred_locale", "en-US"),
            owner_id=owner_id,
            channels=channels,
            roles=roles,
            members={},
            extra={},
        )
        guild.members[self.bot_user_id] = self._member_json(())
        for member in raw.get("members", []):
            member_id = int(member.get("id", member.get("user_id", 0)))
            self.add_user(member_id, member.get("username"))
            guild.members[member_id] = self._member_json(
                member.get("roles", ()), member.get("nick")
            )
        known = {"id", "name", "preferred_locale", "owner_id", "channels", "roles", "members"}
        guild.extra = {k: v for k, v in raw.items() if k not in known}
        return guild

    def _guild(self, guild_id: int) -> _Guild:
        try:
            return self._guilds[guild_id]
        except KeyError:
            raise ApiError(404, 10004, "Unknown Guild") from None

    def _default_guild(self, guild_id: int | EllipsisType | None) -> int | None:
        if guild_id is ...:
            return next(iter(self._guilds), None)
        return guild_id

    def _guild_json(self, guild: _Guild, *, with_members: bool) -> JSON:
        body: JSON = {
            "id": str(guild.id),
            "name": guild.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(guild.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "premium_progress_bar_enabled": False,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "vanity_url_code": None,
            "preferred_locale": guild.locale,
            "features": [],
            "roles": copy.deepcopy(list(guild.roles.values())),
            "emojis": [],
            "stickers": [],
            "max_members": 500000,
            "max_presences": None,
            "max_video_channel_users": 25,
            "max_stage_video_channel_users": 50,
            "widget_enabled": False,
            "incidents_data": None,
            "application_id": None,
        }
        body.update(copy.deepcopy(guild.extra))
        if with_members:
            body["members"] = [self._full_member(guild, uid) for uid in guild.members]
        return body

    def _full_member(self, guild: _Guild, user_id: int) -> JSON:
        member = copy.deepcopy(guild.members[user_id])
        member["user"] = copy.deepcopy(self._users[user_id])
        return member

    def _permissions(self, guild: _Guild, user_id: int, roles: Iterable[int]) -> int:
        if user_id == guild.owner_id:
            return ALL_PERMISSIONS
        value = int(guild.roles[guild.id]["permissions"])
        for role_id in roles:
            role = guild.roles.get(int(role_id))
            if role is not None:
                value |= int(role["permissions"])
        return ALL_PERMISSIONS if value & ADMINISTRATOR else value

    def _dm_channel_json(self, user_id: int) -> JSON:
        return {
            "id": str(self.dm_channel_id(user_id)),
            "type": 1,
            "last_message_id": None,
            "flags": 0,
            "recipients": [copy.deepcopy(self._users[user_id])],
        }

    def _channel(self, channel_id: int) -> tuple[JSON, int | None]:
        """The channel JSON and its guild id (None for DMs); 404 10003 when unknown."""
        for guild in self._guilds.values():
            if channel_id in guild.channels:
                return guild.channels[channel_id], guild.id
        for user_id, dm_id in self._dm_channels.items():
            if dm_id == channel_id:
                return self._dm_channel_json(user_id), None
        raise ApiError(404, 10003, "Unknown Channel")

    def _dm_recipient(self, channel_id: int) -> int | None:
        for user_id, dm_id in self._dm_channels.items():
            if dm_id == channel_id:
                return user_id
        return None


def _channel_json(channel: JSON, guild_id: int, position: int) -> JSON:
    kind = int(channel.get("type", 0))
    full: JSON = {
        "id": str(int(channel["id"])),
        "type": kind,
        "guild_id": str(guild_id),
        "name": channel.get("name", f"channel{channel['id']}"),
        "position": position,
        "permission_overwrites": [],
        "nsfw": False,
        "parent_id": None,
        "flags": 0,
    }
    if kind in (0, 5, 15, 16):
        full.update(
            topic=None,
            last_message_id=None,
            rate_limit_per_user=0,
            default_auto_archive_duration=1440,
        )
    if kind in (2, 13):
        full.update(
            bitrate=64000,
            user_limit=0,
            rtc_region=None,
            video_quality_mode=1,
            last_message_id=None,
            rate_limit_per_user=0,
        )
    if kind in (15, 16):
        full.update(
            available_tags=[],
            default_reaction_emoji=None,
            default_sort_order=None,
            default_forum_layout=0,
            default_thread_rate_limit_per_user=0,
        )
    full.update({k: v for k, v in channel.items() if k not in ("id", "type")})
    if full.get("parent_id") is not None:
        full["parent_id"] = str(full["parent_id"])
    return full
