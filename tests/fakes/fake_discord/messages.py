"""The messages the bot created, their edit history and their attachments.

Why: every way the bot speaks (channel message, DM, interaction response, follow-up, edit of
``@original``) ends up as one FakeMessage, so tests inspect one kind of record whatever route
produced it, and the rules on what a channel route may see (deleted and ephemeral messages
are not there) are applied in one place.
"""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .protocol import (
    CHANNEL_FLAGS,
    EPHEMERAL,
    IS_COMPONENTS_V2,
    JSON,
    LOADING,
    ApiError,
    _ids,
    _iso,
)

if TYPE_CHECKING:
    from .interactions import FakeInteraction


MENTION_USER = re.compile(r"<@!?(\d+)>")
MENTION_ROLE = re.compile(r"<@&(\d+)>")


@dataclass
class FakeAttachment:
    """A file the bot uploaded; ``data`` holds the bytes it sent."""

    id: int
    filename: str
    data: bytes
    content_type: str = "application/octet-stream"
    description: str | None = None
    url: str = ""

    def to_api(self) -> JSON:
        body: JSON = {
            "id": str(self.id),
            "filename": self.filename,
            "size": len(self.data),
            "url": self.url,
            "proxy_url": self.url,
            "content_type": self.content_type,
        }
        if self.description is not None:
            body["description"] = self.description
        return body


@dataclass
class FakeMessage:
    """A message the bot created (channel, DM, interaction response or follow-up).

    Edits change it in place; ``fake.edits`` keeps the history.
    """

    id: int
    channel_id: int
    guild_id: int | None
    author: JSON
    kind: str
    content: str = ""
    components: list[JSON] = field(default_factory=list)
    embeds: list[JSON] = field(default_factory=list)
    flags: int = 0
    allowed_mentions: JSON | None = None
    attachments: list[FakeAttachment] = field(default_factory=list)
    interaction_id: int | None = None
    message_type: int = 0
    tts: bool = False
    webhook_id: int | None = None
    application_id: int | None = None
    interaction_metadata: JSON | None = None
    message_reference: JSON | None = None
    payload: JSON = field(default_factory=dict)
    created_at: float = field(default_factory=time.monotonic)
    timestamp: str = field(default_factory=_iso)
    edited_timestamp: str | None = None
    deleted: bool = False

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def loading(self) -> bool:
        """True while a deferred response still shows "thinking"."""
        return bool(self.flags & LOADING)

    @property
    def custom_ids(self) -> list[str]:
        """Every ``custom_id`` on the message, in display order."""
        found: list[str] = []

        def walk(items: Iterable[JSON]) -> None:
            for item in items:
                if isinstance(item.get("custom_id"), str):
                    found.append(item["custom_id"])
                walk(item.get("components") or [])
                if isinstance(item.get("accessory"), dict):
                    walk([item["accessory"]])

        walk(self.components)
        return found

    def find_component(self, custom_id: str) -> JSON | None:
        def walk(items: Iterable[JSON]) -> JSON | None:
            for item in items:
                if item.get("custom_id") == custom_id:
                    return item
                inner = list(item.get("components") or [])
                if isinstance(item.get("accessory"), dict):
                    inner.append(item["accessory"])
                hit = walk(inner)
                if hit is not None:
                    return hit
            return None

        return walk(self.components)

    def _parse(self) -> set[str]:
        if self.allowed_mentions is None:
            return {"users", "roles", "everyone"}
        return set(self.allowed_mentions.get("parse") or [])

    @property
    def pinged_user_ids(self) -> set[int]:
        """Users who would get a notification, after ``allowed_mentions``."""
        mentioned = {int(x) for x in MENTION_USER.findall(self.content)}
        if "users" in self._parse():
            return mentioned
        allowed = {int(x) for x in (self.allowed_mentions or {}).get("users") or []}
        return mentioned & allowed

    @property
    def pinged_role_ids(self) -> set[int]:
        mentioned = {int(x) for x in MENTION_ROLE.findall(self.content)}
        if "roles" in self._parse():
            return mentioned
        allowed = {int(x) for x in (self.allowed_mentions or {}).get("roles") or []}
        return mentioned & allowed

    @property
    def pings_everyone(self) -> bool:
        has_everyone = "@everyone" in self.content or "@here" in self.content
        return has_everyone and "everyone" in self._parse()

    def to_api(self) -> JSON:
        body: JSON = {
            "id": str(self.id),
            "type": self.message_type,
            "channel_id": str(self.channel_id),
            "author": copy.deepcopy(self.author),
            "content": self.content,
            "timestamp": self.timestamp,
            "edited_timestamp": self.edited_timestamp,
            "tts": self.tts,
            "mention_everyone": self.pings_everyone,
            "mentions": [],
            "mention_roles": _ids(sorted(self.pinged_role_ids)),
            "attachments": [a.to_api() for a in self.attachments],
            "embeds": copy.deepcopy(self.embeds),
            "components": copy.deepcopy(self.components),
            "pinned": False,
            "flags": self.flags,
        }
        if self.webhook_id is not None:
            body["webhook_id"] = str(self.webhook_id)
        if self.application_id is not None:
            body["application_id"] = str(self.application_id)
        if self.interaction_metadata is not None:
            body["interaction_metadata"] = copy.deepcopy(self.interaction_metadata)
        if self.message_reference is not None:
            body["message_reference"] = copy.deepcopy(self.message_reference)
        return body


@dataclass
class FakeEdit:
    """One change to a message: ``before`` is the message as it was, ``changes`` the request."""

    message: FakeMessage
    before: JSON
    changes: JSON
    source: str
    interaction_id: int | None = None
    at: float = field(default_factory=time.monotonic)


class MessagesMixin:
    """Creating, editing and finding messages; part of FakeDiscord (server.py).

    Uses ``messages``, ``edits``, ``_attachments``, ``bot_user`` and ``snowflakes``, which
    FakeDiscord's constructor creates, and the users, DM channels and channel lookups of
    StateMixin.
    """

    def channel_messages(self, channel_id: int) -> list[FakeMessage]:
        return [m for m in self.messages if m.channel_id == channel_id and not m.deleted]

    def dm_messages(self, user_id: int) -> list[FakeMessage]:
        channel = self._dm_channels.get(user_id)
        return [] if channel is None else self.channel_messages(channel)

    def _message(self, message_id: int) -> FakeMessage:
        for message in self.messages:
            if message.id == message_id:
                return message
        raise ApiError(404, 10008, "Unknown Message")

    def _attachments_for(
        self,
        payload: JSON,
        files: list[tuple[str, str, bytes]],
        channel_id: int,
        existing: Sequence[FakeAttachment] = (),
    ) -> list[FakeAttachment]:
        by_index: dict[int, tuple[str, bytes]] = {}
        for position, (name, filename, data) in enumerate(files):
            index = re.fullmatch(r"files\[(\d+)\]", name)
            by_index[int(index.group(1)) if index else position] = (filename, data)
        kept = {a.id: a for a in existing}
        result: list[FakeAttachment] = []
        entries = payload.get("attachments")
        if entries is None:
            entries = [{"id": index} for index in sorted(by_index)]
            result.extend(existing)
        for entry in entries:
            key = int(entry.get("id", -1))
            if key in kept:
                result.append(kept[key])
            elif key in by_index:
                filename, data = by_index[key]
                result.append(
                    self._new_attachment(
                        entry.get("filename") or filename, data, entry.get("description")
                    )
                )
        return result

    def _new_attachment(
        self, filename: str, data: bytes, description: str | None
    ) -> FakeAttachment:
        attachment_id = self.snowflakes.next()
        attachment = FakeAttachment(
            id=attachment_id,
            filename=filename,
            data=data,
            description=description,
            content_type=_guess_type(filename),
            url=f"{self.base_url}/attachments/{attachment_id}/{filename}",
        )
        self._attachments[attachment_id] = attachment
        return attachment

    def _create_message(
        self,
        payload: JSON,
        files: list[tuple[str, str, bytes]],
        *,
        channel_id: int,
        guild_id: int | None,
        kind: str,
        interaction: FakeInteraction | None = None,
        flags_mask: int = EPHEMERAL | CHANNEL_FLAGS,
    ) -> FakeMessage:
        message = FakeMessage(
            id=self.snowflakes.next(),
            channel_id=channel_id,
            guild_id=guild_id,
            author=copy.deepcopy(self.bot_user),
            kind=kind,
            content=str(payload.get("content") or ""),
            components=copy.deepcopy(payload.get("components") or []),
            embeds=copy.deepcopy(payload.get("embeds") or []),
            flags=int(payload.get("flags") or 0) & flags_mask,
            allowed_mentions=copy.deepcopy(payload.get("allowed_mentions")),
            tts=bool(payload.get("tts")),
            payload=copy.deepcopy(payload),
            message_reference=copy.deepcopy(payload.get("message_reference")),
        )
        message.attachments = self._attachments_for(payload, files, channel_id)
        if interaction is not None:
            message.interaction_id = interaction.id
            message.webhook_id = self.application_id
            message.application_id = self.application_id
            message.message_type = 20 if interaction.type == 2 else 0
            message.interaction_metadata = {
                "id": str(interaction.id),
                "type": interaction.type,
                "user": copy.deepcopy(self._users[interaction.user_id]),
                "authorizing_integration_owners": interaction.payload.get(
                    "authorizing_integration_owners", {}
                ),
            }
            if interaction.source_message is not None:
                message.interaction_metadata["interacted_message_id"] = str(
                    interaction.source_message.id
                )
            original = interaction.original
            if (
                kind == "followup"
                and original is not None
                and original.interaction_id == (interaction.id)
            ):
                message.interaction_metadata["original_response_message_id"] = str(original.id)
        self.messages.append(message)
        return message

    def _edit_message(
        self,
        message: FakeMessage,
        payload: JSON,
        files: list[tuple[str, str, bytes]],
        source: str,
        interaction: FakeInteraction | None = None,
    ) -> FakeMessage:
        before = message.to_api()
        if "content" in payload:
            message.content = str(payload["content"] or "")
        if "components" in payload:
            message.components = copy.deepcopy(payload["components"] or [])
        if "embeds" in payload:
            message.embeds = copy.deepcopy(payload["embeds"] or [])
        if "allowed_mentions" in payload:
            message.allowed_mentions = copy.deepcopy(payload["allowed_mentions"])
        if "flags" in payload and payload["flags"] is not None:
            keep = message.flags & EPHEMERAL  # ephemerality cannot change after sending
            changeable = (1 << 2) | IS_COMPONENTS_V2
            message.flags = keep | (int(payload["flags"]) & changeable)
        if "attachments" in payload or files:
            message.attachments = self._attachments_for(
                payload, files, message.channel_id, message.attachments
            )
        message.flags &= ~LOADING
        message.edited_timestamp = _iso()
        interaction_id = interaction.id if interaction else None
        self.edits.append(
            FakeEdit(message, before, copy.deepcopy(payload), source, interaction_id)
        )
        return message

    def _channel_message(self, channel_id: int, message_id: int) -> FakeMessage:
        self._channel(channel_id)
        for message in self.messages:
            same = message.id == message_id and message.channel_id == channel_id
            if same and not message.deleted and not message.ephemeral:
                return message
        raise ApiError(404, 10008, "Unknown Message")


def _guess_type(filename: str) -> str:
    lowered = filename.lower()
    for suffix, kind in (
        (".png", "image/png"),
        (".jpg", "image/jpeg"),
        (".jpeg", "image/jpeg"),
        (".gif", "image/gif"),
        (".txt", "text/plain; charset=utf-8"),
        (".csv", "text/csv; charset=utf-8"),
        (".pdf", "application/pdf"),
        (".ics", "text/calendar; charset=utf-8"),
        (".json", "application/json"),
    ):
        if lowered.endswith(suffix):
            return kind
    return "application/octet-stream"
