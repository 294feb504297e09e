"""A small fake of Discord's REST API and gateway, served over real HTTP and websockets.

Why: campusbot talks to Discord through discord.py. Mocking discord.py would test our
mocks, not the bot, so this fake speaks Discord's wire protocol instead and lets the real
library connect to it. The bot points two class attributes at the fake and nothing else::

    discord.http.Route.BASE = fake.api_base_url            # before login
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(<url of GET /gateway/bot>)

Webhook and interaction follow-ups reuse ``discord.http.Route`` and therefore ``Route.BASE``.

What the fake covers
--------------------
* REST: login (``GET /users/@me``, 401 for a wrong token), ``GET /gateway/bot``, the
  application object, global and guild application commands (bulk PUT, POST, GET, PATCH,
  DELETE, with Discord's validation rules and a record of every bulk sync), interaction
  callbacks (types 4, 5, 6, 7, 8 and 9, JSON or multipart with files, ``?with_response=1``),
  follow-ups and ``@original`` edits through ``/webhooks/{app}/{token}``, channel messages
  (create, edit, fetch, delete, with files), DMs (``POST /users/@me/channels``),
  ``GET /users/{id}``, ``GET /channels/{id}``, ``GET /guilds/{id}`` and
  ``GET /guilds/{id}/members/{id}``. Unknown routes answer 404 and are recorded.
* Discord's rules that catch bugs: 2,000 characters of content, embed limits, at most 5
  action rows of 5 components, ``custom_id`` <= 100, button label <= 80, duplicate custom
  ids, empty messages, command names/descriptions/options/choices/localizations and the
  100-command cap, the 3-second acknowledgement deadline (10062), double acknowledgement
  (40060), a first follow-up after a deferral resolving the "thinking" message (and so
  inheriting the deferral's ephemerality), ephemeral messages being invisible to channel
  routes, closed DMs (50007), and injected failures such as 429 with the ``Via`` header that
  discord.py needs before it retries.
* Gateway: HELLO, IDENTIFY -> READY + GUILD_CREATE, heartbeats, RESUME with replay of missed
  events, INVALID_SESSION for unknown sessions, sharding (guilds go to
  ``(guild_id >> 22) % shard_count``), member chunk requests, privileged intents (close 4014),
  and ``zlib-stream`` compression (``zstd-stream`` is answered with plain text frames,
  which discord.py also reads).
* Injection and observation: ``slash``, ``press``, ``autocomplete``, ``submit_modal`` and
  ``dispatch_event``; ``messages``, ``edits``, ``requests``, ``interactions``, ``syncs`` and
  ``wait_for`` built on an ``asyncio.Condition``.

What it does not cover
----------------------
Real rate-limit buckets (every answer carries fixed, generous ``X-RateLimit-*`` headers; use
``fail_next`` to produce a 429), permissions enforcement on REST calls, embeds' media, polls,
stickers, threads, reactions, voice, presences, MESSAGE_CREATE from users, attachment options
in slash commands, ETF encoding, and zstd compression.

All ``*_at`` timestamps are ``time.monotonic()`` values.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import json
import math
import re
import secrets
import time
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import EllipsisType
from typing import Any, TypeVar

from aiohttp import WSMsgType, web

JSON = dict[str, Any]
T = TypeVar("T")

API_PREFIX = "/api/v10"
DISCORD_EPOCH_MS = 1_420_070_400_000
DEFAULT_USER_ID = 410_000_000_000_000_001
DEFAULT_USERNAME = "student"

EPHEMERAL = 1 << 6
LOADING = 1 << 7
IS_COMPONENTS_V2 = 1 << 15
#: Flags a bot may set on a message it sends: suppress embeds, silent, components v2.
CHANNEL_FLAGS = (1 << 2) | (1 << 12) | IS_COMPONENTS_V2

ADMINISTRATOR = 1 << 3
ALL_PERMISSIONS = (1 << 53) - 1
EVERYONE_PERMISSIONS = (
    (1 << 0)  # create instant invite
    | (1 << 6)  # add reactions
    | (1 << 10)  # view channel
    | (1 << 11)  # send messages
    | (1 << 14)  # embed links
    | (1 << 15)  # attach files
    | (1 << 16)  # read message history
    | (1 << 18)  # use external emojis
    | (1 << 20)  # connect
    | (1 << 21)  # speak
    | (1 << 26)  # change nickname
    | (1 << 31)  # use application commands
    | (1 << 38)  # send messages in threads
)
DM_APP_PERMISSIONS = EVERYONE_PERMISSIONS

PRIVILEGED_INTENTS = {"members": 1 << 1, "presences": 1 << 8, "message_content": 1 << 15}
APPLICATION_INTENT_FLAGS = {"members": 1 << 15, "presences": 1 << 13, "message_content": 1 << 19}

LOCALES = frozenset(
    {
        "id",
        "da",
        "de",
        "en-GB",
        "en-US",
        "es-ES",
        "es-419",
        "fr",
        "hr",
        "it",
        "lt",
        "hu",
        "nl",
        "no",
        "pl",
        "pt-BR",
        "ro",
        "fi",
        "sv-SE",
        "vi",
        "tr",
        "cs",
        "el",
        "bg",
        "ru",
        "uk",
        "hi",
        "th",
        "zh-CN",
        "ja",
        "zh-TW",
        "ko",
    }
)
SELECT_TYPES = frozenset({3, 5, 6, 7, 8})
COMMAND_NAME = re.compile(r"[-_\w]{1,32}")
MENTION_USER = re.compile(r"<@!?(\d+)>")
MENTION_ROLE = re.compile(r"<@&(\d+)>")

#: Which callback types Discord accepts for each interaction type.
ALLOWED_CALLBACKS: dict[int, frozenset[int]] = {
    2: frozenset({4, 5, 9}),
    3: frozenset({4, 5, 6, 7, 9}),
    4: frozenset({8}),
    5: frozenset({4, 5, 6, 7}),
}


# --------------------------------------------------------------------------- helpers


class SnowflakeFactory:
    """Discord-style ids from the clock: discord.py derives ``created_at`` from them."""

    def __init__(self, worker: int = 1) -> None:
        self._worker = worker
        self._last = 0

    def next(self) -> int:
        millis = int(time.time() * 1000) - DISCORD_EPOCH_MS
        value = max((millis << 22) | (self._worker << 17), self._last + 1)
        self._last = value
        return value


def _iso(when: float | None = None) -> str:
    moment = datetime.fromtimestamp(time.time() if when is None else when, tz=UTC)
    return moment.isoformat(timespec="microseconds")


def _ids(values: Iterable[Any]) -> list[str]:
    return [str(int(v)) for v in values]


def _bucket(template: str) -> str:
    return hashlib.md5(template.encode()).hexdigest()[:16]


class ApiError(Exception):
    """An error answer in Discord's JSON shape; raised anywhere inside a route handler."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        errors: JSON | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors
        self.headers = dict(headers or {})

    def body(self) -> JSON:
        body: JSON = {"message": self.message, "code": self.code}
        if self.errors:
            body["errors"] = self.errors
        return body


class FormErrors:
    """Collects field errors and raises them as one 400/50035 "Invalid Form Body"."""

    def __init__(self) -> None:
        self.items: list[tuple[tuple[str, ...], str, str]] = []

    def add(self, path: Sequence[str | int], code: str, message: str) -> None:
        self.items.append((tuple(str(p) for p in path), code, message))

    def __bool__(self) -> bool:
        return bool(self.items)

    def to_dict(self) -> JSON:
        root: JSON = {}
        for path, code, message in self.items:
            node = root
            for part in path:
                node = node.setdefault(part, {})
            node.setdefault("_errors", []).append({"code": code, "message": message})
        return root

    def raise_if_any(self) -> None:
        if self.items:
            raise ApiError(400, 50035, "Invalid Form Body", self.to_dict())


def _check_len(
    errors: FormErrors,
    path: Sequence[str | int],
    value: Any,
    *,
    max_len: int,
    min_len: int = 0,
    required: bool = False,
) -> None:
    if value is None:
        if required:
            errors.add(path, "BASE_TYPE_REQUIRED", "This field is required")
        return
    if not isinstance(value, str):
        errors.add(path, "BASE_TYPE_STRING", "Must be a string.")
        return
    if min_len <= len(value) <= max_len:
        return
    if min_len:
        message = f"Must be between {min_len} and {max_len} in length."
        errors.add(path, "BASE_TYPE_BAD_LENGTH", message)
    else:
        errors.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {max_len} or fewer in length.")


Sized = Sequence[Any] | Mapping[str, Any]


def _check_count(errors: FormErrors, path: Sequence[str | int], items: Sized, limit: int) -> None:
    if len(items) > limit:
        errors.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")


# --------------------------------------------------------------------------- validation


def validate_embeds(embeds: Any, errors: FormErrors, path: tuple[str, ...]) -> None:
    """Embed limits: 10 embeds, title 256, description 4096, 25 fields, 6000 characters total."""
    if not isinstance(embeds, list):
        return
    _check_count(errors, path, embeds, 10)
    total = 0
    for index, embed in enumerate(embeds):
        here = (*path, str(index))
        _check_len(errors, (*here, "title"), embed.get("title"), max_len=256)
        _check_len(errors, (*here, "description"), embed.get("description"), max_len=4096)
        fields = embed.get("fields") or []
        _check_count(errors, (*here, "fields"), fields, 25)
        for number, item in enumerate(fields):
            spot = (*here, "fields", str(number))
            _check_len(
                errors, (*spot, "name"), item.get("name"), max_len=256, min_len=1, required=True
            )
            _check_len(
                errors, (*spot, "value"), item.get("value"), max_len=1024, min_len=1, required=True
            )
            total += len(str(item.get("name") or "")) + len(str(item.get("value") or ""))
        footer = (embed.get("footer") or {}).get("text")
        author = (embed.get("author") or {}).get("name")
        _check_len(errors, (*here, "footer", "text"), footer, max_len=2048)
        _check_len(errors, (*here, "author", "name"), author, max_len=256)
        for text in (embed.get("title"), embed.get("description"), footer, author):
            total += len(text) if isinstance(text, str) else 0
    if total > 6000:
        errors.add(path, "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000")


def _validate_interactive(
    component: JSON, errors: FormErrors, path: tuple[str, ...], seen: set[str]
) -> None:
    kind = component.get("type")
    custom_id = component.get("custom_id")
    if kind == 2:
        style = component.get("style")
        if style not in (1, 2, 3, 4, 5, 6):
            errors.add(
                (*path, "style"), "BASE_TYPE_CHOICES", "Value must be one of (1, 2, 3, 4, 5, 6)."
            )
        if style == 5:
            if not component.get("url"):
                errors.add((*path, "url"), "BUTTON_COMPONENT_URL_REQUIRED", "A url is required")
            if custom_id is not None:
                errors.add(
                    (*path, "custom_id"),
                    "BUTTON_COMPONENT_CUSTOM_ID_NOT_ALLOWED",
                    "A custom id cannot be set on link buttons",
                )
        elif style != 6:
            _check_len(
                errors, (*path, "custom_id"), custom_id, max_len=100, min_len=1, required=True
            )
        _check_len(errors, (*path, "label"), component.get("label"), max_len=80)
        if style != 6 and not component.get("label") and not component.get("emoji"):
            errors.add(
                path, "BUTTON_COMPONENT_LABEL_OR_EMOJI_REQUIRED", "A label or emoji is required"
            )
    elif kind in SELECT_TYPES:
        _check_len(errors, (*path, "custom_id"), custom_id, max_len=100, min_len=1, required=True)
        _check_len(errors, (*path, "placeholder"), component.get("placeholder"), max_len=150)
        if kind == 3:
            options = component.get("options") or []
            if not options:
                errors.add(
                    (*path, "options"), "BASE_TYPE_MIN_LENGTH", "Must be 1 or more in length."
                )
            _check_count(errors, (*path, "options"), options, 25)
            for number, option in enumerate(options):
                spot = (*path, "options", str(number))
                _check_len(
                    errors,
                    (*spot, "label"),
                    option.get("label"),
                    max_len=100,
                    min_len=1,
                    required=True,
                )
                _check_len(
                    errors,
                    (*spot, "value"),
                    option.get("value"),
                    max_len=100,
                    min_len=1,
                    required=True,
                )
                _check_len(errors, (*spot, "description"), option.get("description"), max_len=100)
    elif kind == 4:
        errors.add(
            (*path, "type"), "COMPONENT_TYPE_INVALID", "Text inputs are only allowed in modals"
        )
    if isinstance(custom_id, str):
        if custom_id in seen:
            errors.add(
                (*path, "custom_id"),
                "COMPONENT_CUSTOM_ID_DUPLICATED",
                "Component custom id cannot be duplicated",
            )
        seen.add(custom_id)


def _validate_rows(components: list[JSON], errors: FormErrors, path: tuple[str, ...]) -> None:
    _check_count(errors, path, components, 5)
    seen: set[str] = set()
    for number, row in enumerate(components):
        here = (*path, str(number))
        if row.get("type") != 1:
            errors.add(
                (*here, "type"), "UNION_TYPE_CHOICES", 'Value of field "type" must be one of (1,).'
            )
            continue
        children = row.get("components") or []
        if not children:
            errors.add(
                (*here, "components"), "BASE_TYPE_MIN_LENGTH", "Must be 1 or more in length."
            )
        _check_count(errors, (*here, "components"), children, 5)
        width = 0
        for index, child in enumerate(children):
            _validate_interactive(child, errors, (*here, "components", str(index)), seen)
            width += 5 if child.get("type") in SELECT_TYPES else 1
        if width > 5:
            errors.add(
                (*here, "components"),
                "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                "The specified component exceeds the maximum width",
            )


def _walk_v2(
    components: list[JSON], errors: FormErrors, path: tuple[str, ...], seen: set[str]
) -> int:
    count = 0
    for number, component in enumerate(components):
        here = (*path, str(number))
        count += 1
        _validate_interactive(component, errors, here, seen)
        children = list(component.get("components") or [])
        count += _walk_v2(children, errors, (*here, "components"), seen)
        accessory = component.get("accessory")
        if isinstance(accessory, dict):
            count += _walk_v2([accessory], errors, (*here, "accessory"), seen)
    return count


def validate_message(
    payload: JSON,
    prefix: tuple[str, ...] = (),
    *,
    creating: bool,
    has_files: bool = False,
) -> None:
    """Apply Discord's message limits; raise ApiError 50035, or 50006 for an empty message."""
    errors = FormErrors()
    flags = int(payload.get("flags") or 0)
    content = payload.get("content")
    components = payload.get("components") or []
    if flags & IS_COMPONENTS_V2:
        if content or payload.get("embeds"):
            errors.add(
                (*prefix, "content"),
                "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
                "The 'content' and 'embeds' fields cannot be used with components v2",
            )
        total = _walk_v2(list(components), errors, (*prefix, "components"), set())
        if total > 40:
            errors.add(
                (*prefix, "components"),
                "COMPONENT_MAX_TOTAL_COMPONENTS_EXCEEDED",
                "The total number of components must be 40 or fewer",
            )
    else:
        _check_len(errors, (*prefix, "content"), content, max_len=2000)
        _validate_rows(list(components), errors, (*prefix, "components"))
    validate_embeds(payload.get("embeds"), errors, (*prefix, "embeds"))
    mentions = payload.get("allowed_mentions")
    if isinstance(mentions, dict):
        parse = mentions.get("parse") or []
        for kind in ("users", "roles"):
            if kind in parse and mentions.get(kind):
                errors.add(
                    (*prefix, "allowed_mentions"),
                    "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                    f'parse:["{kind}"] and {kind}: [ids...] are mutually exclusive.',
                )
            listed = mentions.get(kind) or []
            _check_count(errors, (*prefix, "allowed_mentions", kind), listed, 100)
    errors.raise_if_any()
    if creating and _is_empty(payload, has_files):
        raise ApiError(400, 50006, "Cannot send an empty message")


def _is_empty(payload: JSON, has_files: bool) -> bool:
    content = payload.get("content")
    has_text = isinstance(content, str) and content.strip() != ""
    others = ("embeds", "components", "sticker_ids", "poll", "attachments")
    return not (has_text or has_files or any(payload.get(key) for key in others))


def validate_modal(data: JSON, prefix: tuple[str, ...]) -> None:
    """Modal limits: title 45, custom_id 100, 1..5 top-level components, text inputs' lengths."""
    errors = FormErrors()
    _check_len(errors, (*prefix, "title"), data.get("title"), max_len=45, min_len=1, required=True)
    _check_len(
        errors,
        (*prefix, "custom_id"),
        data.get("custom_id"),
        max_len=100,
        min_len=1,
        required=True,
    )
    components = data.get("components") or []
    if not components:
        errors.add((*prefix, "components"), "BASE_TYPE_MIN_LENGTH", "Must be 1 or more in length.")
    _check_count(errors, (*prefix, "components"), components, 5)
    for number, item in enumerate(components):
        here = (*prefix, "components", str(number))
        if item.get("type") == 18:
            _check_len(
                errors, (*here, "label"), item.get("label"), max_len=45, min_len=1, required=True
            )
            _check_len(errors, (*here, "description"), item.get("description"), max_len=100)
            inner = [item.get("component") or {}]
        else:
            inner = item.get("components") or []
        for index, child in enumerate(inner):
            spot = (*here, "components", str(index))
            _check_len(errors, (*spot, "custom_id"), child.get("custom_id"), max_len=100)
            if child.get("type") == 4:
                _check_len(errors, (*spot, "label"), child.get("label"), max_len=45)
                _check_len(errors, (*spot, "placeholder"), child.get("placeholder"), max_len=100)
                _check_len(errors, (*spot, "value"), child.get("value"), max_len=4000)
    errors.raise_if_any()


def validate_choices(choices: Any, errors: FormErrors, path: tuple[str, ...]) -> None:
    """Choices (static or autocomplete): 25 at most, name 1..100, string value <= 100."""
    if not isinstance(choices, list):
        errors.add(path, "BASE_TYPE_ARRAY", "Must be an array.")
        return
    _check_count(errors, path, choices, 25)
    for number, choice in enumerate(choices):
        here = (*path, str(number))
        _check_len(
            errors, (*here, "name"), choice.get("name"), max_len=100, min_len=1, required=True
        )
        for locale, text in (choice.get("name_localizations") or {}).items():
            _check_locale(errors, (*here, "name_localizations", locale), locale)
            _check_len(errors, (*here, "name_localizations", locale), text, max_len=100, min_len=1)
        value = choice.get("value")
        if isinstance(value, str):
            _check_len(errors, (*here, "value"), value, max_len=100)


def _check_locale(errors: FormErrors, path: tuple[str, ...], locale: str) -> None:
    if locale not in LOCALES:
        errors.add(path, "BASE_TYPE_CHOICES", f"Value must be one of {sorted(LOCALES)}.")


def _check_command_name(errors: FormErrors, path: tuple[str, ...], name: Any) -> None:
    if not isinstance(name, str) or not COMMAND_NAME.fullmatch(name) or name != name.lower():
        errors.add(path, "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")


def _check_localizations(
    errors: FormErrors, path: tuple[str, ...], item: JSON, *, chat_input: bool
) -> None:
    for locale, text in (item.get("name_localizations") or {}).items():
        spot = (*path, "name_localizations", locale)
        _check_locale(errors, spot, locale)
        if chat_input:
            _check_command_name(errors, spot, text)
        else:
            _check_len(errors, spot, text, max_len=32, min_len=1)
    for locale, text in (item.get("description_localizations") or {}).items():
        spot = (*path, "description_localizations", locale)
        _check_locale(errors, spot, locale)
        _check_len(errors, spot, text, max_len=100, min_len=1)


def _validate_options(
    options: Any, errors: FormErrors, path: tuple[str, ...], parent_type: int | None
) -> None:
    if not isinstance(options, list):
        errors.add(path, "BASE_TYPE_ARRAY", "Must be an array.")
        return
    _check_count(errors, path, options, 25)
    kinds = {"sub" if opt.get("type") in (1, 2) else "value" for opt in options}
    if len(kinds) > 1:
        errors.add(
            path,
            "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
            "Sub-command and sub-command group option types are mutually exclusive to "
            "all other types",
        )
    names: set[str] = set()
    optional_seen = False
    for number, option in enumerate(options):
        here = (*path, str(number))
        kind = option.get("type")
        if kind not in range(1, 12):
            errors.add((*here, "type"), "BASE_TYPE_CHOICES", "Value must be one of (1..11).")
            continue
        _check_command_name(errors, (*here, "name"), option.get("name"))
        _check_len(
            errors,
            (*here, "description"),
            option.get("description"),
            max_len=100,
            min_len=1,
            required=True,
        )
        _check_localizations(errors, here, option, chat_input=True)
        if option.get("name") in names:
            errors.add(
                (*here, "name"),
                "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS",
                "Option names must be unique",
            )
        names.add(option.get("name"))
        if (kind == 2 and parent_type is not None) or (kind == 1 and parent_type == 1):
            errors.add(
                (*here, "type"),
                "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                "Sub-commands can only be nested in sub-command groups once",
            )
        if kind in (1, 2):
            _validate_options(option.get("options") or [], errors, (*here, "options"), kind)
            continue
        if parent_type == 2:
            errors.add(
                (*here, "type"),
                "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                "Sub-command groups can only contain sub-commands",
            )
        if option.get("required"):
            if optional_seen:
                errors.add(
                    (*here, "required"),
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                )
        else:
            optional_seen = True
        if option.get("choices") is not None:
            validate_choices(option["choices"], errors, (*here, "choices"))
            if option.get("autocomplete"):
                errors.add(
                    (*here, "autocomplete"),
                    "APPLICATION_COMMAND_OPTION_CHOICES_AUTOCOMPLETE",
                    "Autocomplete cannot be set for options with choices",
                )


def _longest(item: JSON, key: str) -> int:
    values = [item.get(key), *(item.get(f"{key}_localizations") or {}).values()]
    return max((len(str(v)) for v in values if v is not None), default=0)


def command_size(item: JSON) -> int:
    """Discord's size rule: names, descriptions and choice values, longest locale of each."""
    total = _longest(item, "name") + _longest(item, "description")
    for choice in item.get("choices") or []:
        total += _longest(choice, "name") + len(str(choice.get("value", "")))
    for option in item.get("options") or []:
        total += command_size(option)
    return total


def validate_command(command: JSON, errors: FormErrors, path: tuple[str, ...]) -> None:
    """One command's rules: name, description, localizations, options and the 8000 size."""
    kind = command.get("type", 1)
    if kind not in (1, 2, 3, 4):
        errors.add((*path, "type"), "BASE_TYPE_CHOICES", "Value must be one of (1, 2, 3, 4).")
        return
    if kind == 1:
        _check_command_name(errors, (*path, "name"), command.get("name"))
        _check_len(
            errors,
            (*path, "description"),
            command.get("description"),
            max_len=100,
            min_len=1,
            required=True,
        )
        _validate_options(command.get("options") or [], errors, (*path, "options"), None)
    else:
        _check_len(
            errors, (*path, "name"), command.get("name"), max_len=32, min_len=1, required=True
        )
        _check_len(errors, (*path, "description"), command.get("description") or None, max_len=0)
    _check_localizations(errors, path, command, chat_input=kind == 1)
    permissions = command.get("default_member_permissions")
    if permissions is not None and not str(permissions).isdigit():
        errors.add(
            (*path, "default_member_permissions"),
            "NUMBER_TYPE_COERCE",
            f'Value "{permissions}" is not snowflake.',
        )
    if command_size(command) > 8000:
        errors.add(path, "APPLICATION_COMMAND_TOO_LARGE", "Command exceeds maximum size (8000)")


def validate_command_list(commands: Any) -> None:
    """Bulk overwrite rules: each command valid, names unique per type, 100/5/5 caps."""
    errors = FormErrors()
    if not isinstance(commands, list):
        errors.add((), "BASE_TYPE_ARRAY", "Must be an array.")
        errors.raise_if_any()
    seen: set[tuple[int, str]] = set()
    counts = {1: 0, 2: 0, 3: 0, 4: 0}
    for number, command in enumerate(commands):
        validate_command(command, errors, (str(number),))
        kind = command.get("type", 1)
        key = (kind, str(command.get("name")))
        if key in seen:
            errors.add(
                (str(number), "name"),
                "APPLICATION_COMMANDS_DUPLICATE_NAME",
                "Application command names must be unique",
            )
        seen.add(key)
        counts[kind] = counts.get(kind, 0) + 1
    for kind, limit, label in ((1, 100, "chat input"), (2, 5, "user"), (3, 5, "message")):
        if counts[kind] > limit:
            errors.add(
                (),
                "APPLICATION_COMMANDS_TOO_MANY",
                f"Maximum number of {label} application commands reached ({limit})",
            )
    errors.raise_if_any()


COMMAND_FIELDS = (
    "name",
    "type",
    "description",
    "options",
    "name_localizations",
    "description_localizations",
    "default_member_permissions",
    "nsfw",
    "contexts",
    "integration_types",
    "dm_permission",
)


def command_signature(command: JSON) -> str:
    """A canonical form of the user-defined fields, used to tell a changed command apart."""
    fields = {key: command.get(key) for key in COMMAND_FIELDS}
    fields["type"] = fields["type"] or 1
    fields["options"] = fields["options"] or []
    fields["description"] = fields["description"] or ""
    return json.dumps(fields, sort_keys=True, default=str)


# --------------------------------------------------------------------------- records


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


@dataclass
class FakeRequest:
    """One HTTP request to the REST API; ``path`` is relative to ``/api/v10``."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    files: list[tuple[str, str, bytes]]
    headers: dict[str, str]
    timestamp: float = field(default_factory=time.monotonic)
    status: int | None = None
    response: Any = None


@dataclass
class SyncRecord:
    """One bulk overwrite (``tree.sync()``); ``changed`` is False when nothing differed."""

    guild_id: int | None
    names: tuple[str, ...]
    changed: bool
    timestamp: float = field(default_factory=time.monotonic)


@dataclass
class InjectedFailure:
    """A planned error answer; ``hits`` lists the requests that received it."""

    method: str
    pattern: re.Pattern[str]
    status: int
    retry_after: float
    remaining: int
    code: int | None
    global_: bool
    message: str | None
    hits: list[FakeRequest] = field(default_factory=list)

    def matches(self, method: str, path: str) -> bool:
        wanted = self.method.upper()
        return self.remaining > 0 and wanted in ("*", method) and bool(self.pattern.search(path))


class FakeInteraction:
    """One injected interaction, with everything the bot did about it.

    ``response()`` waits for the callback body; ``readable()`` for the first message the user
    can read (a message-carrying callback, or for deferred responses the first edit of
    ``@original`` or first follow-up). Latencies are measured from dispatch on the socket.
    """

    def __init__(self, fake: FakeDiscord, payload: JSON, source_message: FakeMessage | None):
        self._fake = fake
        self.payload = payload
        self.id = int(payload["id"])
        self.token: str = payload["token"]
        self.type: int = payload["type"]
        self.guild_id = int(payload["guild_id"]) if payload.get("guild_id") else None
        self.channel_id = int(payload["channel_id"])
        user = (payload.get("member") or {}).get("user") or payload.get("user") or {}
        self.user_id = int(user["id"])
        self.locale: str = payload.get("locale", "en-US")
        self.source_message = source_message
        self.created_at = time.monotonic()
        self.dispatched_at: float | None = None
        self.acked_at: float | None = None
        self.readable_at: float | None = None
        self.callback_type: int | None = None
        self.callback: JSON | None = None
        self.original: FakeMessage | None = None
        self.readable_message: FakeMessage | None = None
        self.followups: list[FakeMessage] = []
        self.rejections: list[tuple[int, int, str]] = []
        self.choices: list[JSON] | None = None
        self.modal: JSON | None = None
        loop = asyncio.get_running_loop()
        self._response: asyncio.Future[JSON] = loop.create_future()
        self._readable: asyncio.Future[FakeMessage] = loop.create_future()

    @property
    def name(self) -> str | None:
        return (self.payload.get("data") or {}).get("name")

    @property
    def custom_id(self) -> str | None:
        return (self.payload.get("data") or {}).get("custom_id")

    @property
    def acknowledged(self) -> bool:
        return self.acked_at is not None

    @property
    def ephemeral(self) -> bool:
        """Whether the answer is only visible to the caller (flags & 64)."""
        if self.readable_message is not None:
            return self.readable_message.ephemeral
        if self.original is not None:
            return self.original.ephemeral
        return bool(((self.callback or {}).get("data") or {}).get("flags", 0) & EPHEMERAL)

    @property
    def ack_latency(self) -> float | None:
        start = self.dispatched_at or self.created_at
        return None if self.acked_at is None else self.acked_at - start

    @property
    def readable_latency(self) -> float | None:
        start = self.dispatched_at or self.created_at
        return None if self.readable_at is None else self.readable_at - start

    async def response(self, timeout: float = 5.0) -> JSON:
        """The accepted callback body (``{"type": ..., "data": ...}``)."""
        return await self._await(self._response, timeout, "the interaction callback")

    async def readable(self, timeout: float = 5.0) -> FakeMessage:
        """The message the user can read first."""
        return await self._await(self._readable, timeout, "a readable answer")

    async def _await(self, future: asyncio.Future[Any], timeout: float, what: str) -> Any:
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout)
        except TimeoutError:
            raise AssertionError(
                f"interaction {self.id} ({self.name or self.custom_id}): no {what} within "
                f"{timeout}s\n{self._fake.summary()}"
            ) from None

    def _acknowledge(self, body: JSON) -> None:
        self.acked_at = time.monotonic()
        self.callback_type = body["type"]
        self.callback = body
        if not self._response.done():
            self._response.set_result(body)

    def _mark_readable(self, message: FakeMessage) -> None:
        if self.readable_at is None:
            self.readable_at = time.monotonic()
            self.readable_message = message
            self._readable.set_result(message)

    def describe(self) -> str:
        state = f"callback={self.callback_type}" if self.acknowledged else "not acknowledged"
        rejected = f" rejected={self.rejections}" if self.rejections else ""
        label = self.name or self.custom_id
        return f"interaction {self.id} type={self.type} {label}: {state}{rejected}"

    def __repr__(self) -> str:
        return f"<FakeInteraction {self.describe()}>"


# --------------------------------------------------------------------------- gateway state


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


class _Connection:
    """One websocket; sends in order and compresses as the client asked."""

    def __init__(self, ws: web.WebSocketResponse, compress: str | None) -> None:
        self.ws = ws
        self.compress = compress
        self._zlib = zlib.compressobj() if compress == "zlib-stream" else None
        self._lock = asyncio.Lock()
        self.session: _Session | None = None
        self.opened_at = time.monotonic()

    @property
    def live(self) -> bool:
        return not self.ws.closed

    async def send(self, payload: JSON) -> None:
        text = json.dumps(payload, separators=(",", ":"))
        async with self._lock:
            if self.ws.closed:
                raise ConnectionResetError("websocket closed")
            if self._zlib is not None:
                data = self._zlib.compress(text.encode()) + self._zlib.flush(zlib.Z_SYNC_FLUSH)
                await self.ws.send_bytes(data)
            else:
                await self.ws.send_str(text)


@dataclass
class _Session:
    id: str
    shard_id: int
    shard_count: int
    intents: int
    seq: int = 0
    log: list[JSON] = field(default_factory=list)
    conn: _Connection | None = None
    created_at: float = field(default_factory=time.monotonic)
    ready: bool = False

    def owns(self, guild_id: int | None) -> bool:
        if guild_id is None:
            return self.shard_id == 0
        return (guild_id >> 22) % self.shard_count == self.shard_id


class _GatewayClose(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


Handler = Callable[["FakeDiscord", FakeRequest, "re.Match[str]", web.Request], Any]


@dataclass
class _Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    bot_auth: bool
    template: str


# --------------------------------------------------------------------------- the fake


class FakeDiscord:
    """Discord's REST API and gateway on 127.0.0.1, for discord.py to connect to.

    ``guilds`` takes minimal dicts: ``{"id", "name", "preferred_locale", "owner_id",
    "channels": [{"id", "name", "type"}], "roles": [{"id", "name", "permissions"}],
    "members": [{"id", "username", "roles"}]}``; missing fields get Discord's defaults and an
    ``@everyone`` role whose id is the guild id.
    """

    def __init__(
        self,
        token: str = "fake-token",
        application_id: int = 1000,
        bot_user_id: int | None = None,
        guilds: Sequence[Mapping[str, Any]] = (),
        *,
        bot_username: str = "CampusBot",
        application_name: str = "CampusBot",
        host: str = "127.0.0.1",
        port: int = 0,
        ack_deadline: float = 3.0,
        token_lifetime: float = 900.0,
        heartbeat_interval_ms: int = 41250,
        recommended_shards: int = 1,
        privileged_intents: Iterable[str] = (),
        require_registered_commands: bool = True,
        compress: bool = True,
    ) -> None:
        self.token = token
        self.application_id = application_id
        self.bot_user_id = bot_user_id if bot_user_id is not None else application_id
        self.host = host
        self.ack_deadline = ack_deadline
        self.token_lifetime = token_lifetime
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.recommended_shards = recommended_shards
        self.privileged_intents = frozenset(privileged_intents)
        unknown = self.privileged_intents - PRIVILEGED_INTENTS.keys()
        if unknown:
            raise ValueError(f"unknown privileged intents: {sorted(unknown)}")
        self.require_registered_commands = require_registered_commands
        self.compress = compress
        self.application_name = application_name
        self.snowflakes = SnowflakeFactory()
        self._port = port
        self._runner: web.AppRunner | None = None
        self._cond = asyncio.Condition()

        self.bot_user: JSON = {
            "id": str(self.bot_user_id),
            "username": bot_username,
            "discriminator": "0",
            "global_name": None,
            "avatar": None,
            "bot": True,
            "system": False,
            "verified": True,
            "mfa_enabled": False,
            "flags": 0,
            "public_flags": 0,
            "locale": "en-US",
            "email": None,
            "banner": None,
            "accent_color": None,
        }
        self.owner_user: JSON = self._user_json(DEFAULT_USER_ID - 1, "campus-owner")
        self._users: dict[int, JSON] = {self.bot_user_id: self.bot_user}
        self._guilds: dict[int, _Guild] = {}
        for raw in guilds:
            guild = self._normalize_guild(raw)
            self._guilds[guild.id] = guild
        self._dm_channels: dict[int, int] = {}  # user id -> DM channel id
        self._closed_dms: set[int] = set()
        self._commands: dict[int | None, list[JSON]] = {}
        self._interactions_by_id: dict[int, FakeInteraction] = {}
        self._interactions_by_token: dict[str, FakeInteraction] = {}
        self._attachments: dict[int, FakeAttachment] = {}
        self._failures: list[InjectedFailure] = []
        self._sessions: dict[str, _Session] = {}
        self._connections: list[_Connection] = []

        self.messages: list[FakeMessage] = []
        self.edits: list[FakeEdit] = []
        self.requests: list[FakeRequest] = []
        self.unknown_routes: list[FakeRequest] = []
        self.interactions: list[FakeInteraction] = []
        self.syncs: list[SyncRecord] = []
        self.gateway_sent: list[tuple[str, JSON]] = []  # (session id, payload)
        self.gateway_received: list[JSON] = []
        self.gateway_closes: list[tuple[int, str]] = []
        self.gateway_queries: list[dict[str, str]] = []  # query string of each connection
        self.internal_errors: list[tuple[FakeRequest, BaseException]] = []
        self.identify_count = 0
        self.resume_count = 0
        self.connection_count = 0

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> FakeDiscord:
        """Serve REST and the gateway on ``host`` (a free port unless ``port`` was given)."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("GET", "/gateway", self._gateway_handler)
        app.router.add_route("GET", "/attachments/{attachment_id}/{filename}", self._file_handler)
        app.router.add_route("*", "/{tail:.*}", self._rest_handler)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self._port)
        await site.start()
        self._port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        """Close gateway sockets (code 1001) and the server; close the client first."""
        for conn in list(self._connections):
            if conn.live:
                await conn.ws.close(code=1001, message=b"fake stopped")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self._port}"

    @property
    def api_base_url(self) -> str:
        return f"{self.base_url}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        return f"ws://{self.host}:{self._port}/gateway"

    # ------------------------------------------------------------------ configuration

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

    def fail_next(
        self,
        method: str,
        path_regex: str,
        status: int = 429,
        retry_after: float = 0.5,
        count: int = 1,
        code: int | None = None,
        global_: bool = False,
        message: str | None = None,
    ) -> InjectedFailure:
        """Answer the next ``count`` matching requests with an error.

        ``path_regex`` is searched in the path relative to ``/api/v10`` (e.g.
        ``r"/callback$"``); ``method`` may be ``"*"``. A 429 carries ``Via``, ``Retry-After``
        and ``X-RateLimit-*`` headers so that discord.py sleeps ``retry_after`` and retries.
        """
        failure = InjectedFailure(
            method=method.upper(),
            pattern=re.compile(path_regex),
            status=status,
            retry_after=retry_after,
            remaining=count,
            code=code,
            global_=global_,
            message=message,
        )
        self._failures.append(failure)
        return failure

    # ------------------------------------------------------------------ observation

    def commands(self, guild_id: int | None = None) -> list[JSON]:
        """The stored commands of one scope (global when ``guild_id`` is None), as copies."""
        return copy.deepcopy(self._commands.get(guild_id, []))

    @property
    def sync_count(self) -> int:
        """How many bulk overwrites (``tree.sync()`` calls) reached the fake."""
        return len(self.syncs)

    def channel_messages(self, channel_id: int) -> list[FakeMessage]:
        return [m for m in self.messages if m.channel_id == channel_id and not m.deleted]

    def dm_messages(self, user_id: int) -> list[FakeMessage]:
        channel = self._dm_channels.get(user_id)
        return [] if channel is None else self.channel_messages(channel)

    def interaction(self, interaction_id: int) -> FakeInteraction:
        return self._interactions_by_id[interaction_id]

    @property
    def live_connections(self) -> int:
        return sum(1 for conn in self._connections if conn.live)

    async def wait_for(
        self, predicate: Callable[[], T], timeout: float = 5.0, description: str | None = None
    ) -> T:
        """Wait until ``predicate()`` is truthy and return its value; re-checked on changes.

        Raises AssertionError with a summary of the fake's state on timeout.
        """

        async def waiter() -> T:
            async with self._cond:
                return await self._cond.wait_for(predicate)

        try:
            return await asyncio.wait_for(waiter(), timeout)
        except TimeoutError:
            what = description or getattr(predicate, "__name__", repr(predicate))
            raise AssertionError(
                f"timed out after {timeout}s waiting for {what}\n{self.summary()}"
            ) from None

    async def wait_connected(self, timeout: float = 5.0) -> None:
        """Wait until live, READY sessions cover every shard and so every guild."""

        def covered() -> bool:
            live = [s for s in self._sessions.values() if s.ready and s.conn and s.conn.live]
            if not live:
                return False
            return all(any(s.owns(g) for s in live) for g in self._guilds)

        await self.wait_for(covered, timeout, "a READY gateway session for every guild")

    def summary(self, limit: int = 12) -> str:
        """A short report of recent traffic, for assertion messages."""
        lines = ["FakeDiscord state:"]
        lines.append(
            f"  gateway: {self.live_connections} live connection(s), "
            f"{self.identify_count} identify, {self.resume_count} resume, "
            f"closes={self.gateway_closes[-3:]}"
        )
        lines.append(f"  last {limit} of {len(self.requests)} requests:")
        for req in self.requests[-limit:]:
            detail = ""
            if isinstance(req.response, dict) and req.status and req.status >= 400:
                detail = f" -> {json.dumps(req.response)[:200]}"
            lines.append(f"    {req.method} {req.path} {req.status}{detail}")
        for req, exc in self.internal_errors[-3:]:
            lines.append(f"  fake failed on {req.method} {req.path}: {exc!r}")
        if self.unknown_routes:
            lines.append(
                "  unknown routes: "
                + ", ".join(f"{r.method} {r.path}" for r in self.unknown_routes[-5:])
            )
        lines.append(f"  {len(self.messages)} messages, last ones:")
        for msg in self.messages[-5:]:
            lines.append(
                f"    {msg.id} in {msg.channel_id} [{msg.kind}, flags={msg.flags}] "
                f"{msg.content[:80]!r}"
            )
        for rec in self.interactions[-5:]:
            lines.append(f"  {rec.describe()}")
        return "\n".join(lines)

    async def _notify(self) -> None:
        async with self._cond:
            self._cond.notify_all()

    # ------------------------------------------------------------------ injection

    async def dispatch_event(self, event: str, data: JSON, guild_id: int | None = None) -> None:
        """Send any DISPATCH event to the session owning ``guild_id`` (shard 0 for None)."""
        session = self._session_for(guild_id)
        await self._dispatch(session, event, data)

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

    async def drop_connections(self, code: int = 4000, resumable: bool = True) -> None:
        """Close every gateway websocket; with ``resumable=False`` sessions are forgotten."""
        for conn in list(self._connections):
            if conn.live:
                await conn.ws.close(code=code, message=b"dropped by the fake")
        if not resumable:
            self._sessions.clear()
        await self._notify()

    # ------------------------------------------------------------------ building payloads

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

    def _guild_create(self, guild: _Guild, intents: int) -> JSON:
        body = self._guild_json(guild, with_members=False)
        members_intent = intents & PRIVILEGED_INTENTS["members"]
        visible = list(guild.members) if members_intent else [self.bot_user_id]
        body.update(
            joined_at=guild.members[self.bot_user_id]["joined_at"],
            large=False,
            unavailable=False,
            member_count=len(guild.members),
            members=[self._full_member(guild, uid) for uid in visible],
            channels=copy.deepcopy(list(guild.channels.values())),
            threads=[],
            presences=[],
            voice_states=[],
            stage_instances=[],
            guild_scheduled_events=[],
            soundboard_sounds=[],
            embedded_activities=[],
        )
        return body

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

    def _shown_modal(self, custom_id: str, user_id: int) -> FakeInteraction | None:
        for rec in reversed(self.interactions):
            shown = rec.modal is not None and rec.modal.get("custom_id") == custom_id
            if shown and rec.user_id == user_id:
                return rec
        return None

    async def _send_interaction(
        self, payload: JSON, source: FakeMessage | None
    ) -> FakeInteraction:
        guild_id = int(payload["guild_id"]) if payload.get("guild_id") else None
        session = self._session_for(guild_id)
        record = FakeInteraction(self, payload, source)
        self.interactions.append(record)
        self._interactions_by_id[record.id] = record
        self._interactions_by_token[record.token] = record
        await self._dispatch(session, "INTERACTION_CREATE", payload)
        return record

    # ------------------------------------------------------------------ gateway

    def _session_for(self, guild_id: int | None) -> _Session:
        candidates = [s for s in self._sessions.values() if s.owns(guild_id)]
        if not candidates:
            raise RuntimeError(
                f"no gateway session owns guild {guild_id}: is the bot "
                f"connected?\n{self.summary()}"
            )
        candidates.sort(key=lambda s: (s.conn is not None and s.conn.live, s.created_at))
        return candidates[-1]

    async def _dispatch(self, session: _Session, event: str, data: JSON) -> None:
        session.seq += 1
        frame = {"op": 0, "t": event, "s": session.seq, "d": data}
        session.log.append(frame)
        del session.log[:-1000]
        if session.conn is not None and session.conn.live:
            await self._send_frame(session.conn, frame)
        await self._notify()

    async def _send_frame(self, conn: _Connection, frame: JSON) -> None:
        try:
            await conn.send(frame)
        except (ConnectionResetError, RuntimeError):
            return  # the client went away; RESUME will replay the session log
        session_id = conn.session.id if conn.session else ""
        self.gateway_sent.append((session_id, frame))
        if frame.get("t") == "INTERACTION_CREATE":
            record = self._interactions_by_id.get(int(frame["d"]["id"]))
            if record is not None and record.dispatched_at is None:
                record.dispatched_at = time.monotonic()

    async def _gateway_handler(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await ws.prepare(request)
        self.gateway_queries.append(dict(request.query))
        compress = request.query.get("compress") if self.compress else None
        conn = _Connection(ws, compress)
        self._connections.append(conn)
        self.connection_count += 1
        try:
            if request.query.get("encoding", "json") != "json":
                raise _GatewayClose(4002, "Error while decoding payload.")
            await conn.send(
                {
                    "op": 10,
                    "d": {
                        "heartbeat_interval": self.heartbeat_interval_ms,
                        "_trace": ["fake-gateway"],
                    },
                    "s": None,
                    "t": None,
                }
            )
            async for message in ws:
                if message.type is not WSMsgType.TEXT:
                    raise _GatewayClose(4002, "Error while decoding payload.")
                try:
                    frame = json.loads(message.data)
                except ValueError:
                    raise _GatewayClose(4002, "Error while decoding payload.") from None
                await self._on_gateway_message(conn, frame)
            self.gateway_closes.append((int(ws.close_code or 1006), "closed"))
        except _GatewayClose as close:
            self.gateway_closes.append((close.code, close.reason))
            await ws.close(code=close.code, message=close.reason.encode())
        except ConnectionResetError:
            self.gateway_closes.append((1006, "connection reset"))
        finally:
            if conn.session is not None and conn.session.conn is conn:
                conn.session.conn = None
            await self._notify()
        return ws

    async def _on_gateway_message(self, conn: _Connection, frame: JSON) -> None:
        self.gateway_received.append(frame)
        op = frame.get("op")
        data = frame.get("d")
        if op == 1:
            await conn.send({"op": 11, "d": None, "s": None, "t": None})
        elif op == 2:
            await self._identify(conn, data or {})
        elif op == 6:
            await self._resume(conn, data or {})
        elif op == 8:
            await self._request_members(conn, data or {})
        elif op in (3, 4):
            pass  # presence and voice state updates are accepted and ignored
        else:
            raise _GatewayClose(4001, "Unknown opcode.")
        await self._notify()

    async def _identify(self, conn: _Connection, data: JSON) -> None:
        if data.get("token") != self.token:
            raise _GatewayClose(4004, "Authentication failed.")
        if conn.session is not None:
            raise _GatewayClose(4005, "Already authenticated.")
        shard_id, shard_count = data.get("shard") or [0, 1]
        if not 0 <= shard_id < shard_count:
            raise _GatewayClose(4010, "Invalid shard.")
        if "intents" not in data:
            raise _GatewayClose(4013, "Invalid intent(s).")
        intents = int(data["intents"])
        for name, bit in PRIVILEGED_INTENTS.items():
            if intents & bit and name not in self.privileged_intents:
                raise _GatewayClose(4014, "Disallowed intent(s).")
        self.identify_count += 1
        session = _Session(
            id=secrets.token_hex(16),
            shard_id=shard_id,
            shard_count=shard_count,
            intents=intents,
            conn=conn,
        )
        conn.session = session
        self._sessions[session.id] = session
        guilds = [g for g in self._guilds.values() if session.owns(g.id)]
        ready: JSON = {
            "v": 10,
            "user": copy.deepcopy(self.bot_user),
            "session_type": "normal",
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.id,
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(self.application_id), "flags": self._application_flags()},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "user_settings": {},
            "auth": {},
            "_trace": ["fake-gateway"],
        }
        if "shard" in data:
            ready["shard"] = [shard_id, shard_count]
        await self._dispatch(session, "READY", ready)
        for guild in guilds:
            await self._dispatch(session, "GUILD_CREATE", self._guild_create(guild, intents))
        session.ready = True

    async def _resume(self, conn: _Connection, data: JSON) -> None:
        if data.get("token") != self.token:
            raise _GatewayClose(4004, "Authentication failed.")
        session = self._sessions.get(str(data.get("session_id")))
        if session is None:
            await conn.send({"op": 9, "d": False, "s": None, "t": None})
            return
        self.resume_count += 1
        old = session.conn
        session.conn = conn
        conn.session = session
        if old is not None and old is not conn and old.live:
            await old.ws.close(code=4000, message=b"session resumed elsewhere")
        last_seen = int(data.get("seq") or 0)
        for frame in [f for f in session.log if f["s"] > last_seen]:
            await self._send_frame(conn, frame)
        await self._dispatch(session, "RESUMED", {"_trace": ["fake-gateway"]})

    async def _request_members(self, conn: _Connection, data: JSON) -> None:
        if conn.session is None:
            raise _GatewayClose(4003, "Not authenticated.")
        guild = self._guilds.get(int(data.get("guild_id", 0)))
        if guild is None:
            return
        wanted = data.get("user_ids")
        ids = [int(u) for u in wanted] if wanted else list(guild.members)
        members = [self._full_member(guild, uid) for uid in ids if uid in guild.members]
        chunk: JSON = {
            "guild_id": str(guild.id),
            "members": members,
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [str(uid) for uid in ids if uid not in guild.members],
        }
        if data.get("nonce"):
            chunk["nonce"] = data["nonce"]
        await self._dispatch(conn.session, "GUILD_MEMBERS_CHUNK", chunk)

    def _application_flags(self) -> int:
        flags = 1 << 23  # APPLICATION_COMMAND_BADGE
        for name in self.privileged_intents:
            flags |= APPLICATION_INTENT_FLAGS[name]
        return flags

    # ------------------------------------------------------------------ REST plumbing

    async def _read_body(self, request: web.Request) -> tuple[Any, list[tuple[str, str, bytes]]]:
        files: list[tuple[str, str, bytes]] = []
        if request.content_type == "multipart/form-data":
            body: Any = None
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                data = await part.read(decode=False)  # type: ignore[union-attr]
                if part.name == "payload_json":
                    body = json.loads(data.decode())
                elif part.filename is not None:
                    files.append((part.name or "", part.filename, bytes(data)))
            return body, files
        raw = await request.read()
        if not raw:
            return None, files
        try:
            return json.loads(raw), files
        except ValueError:
            return raw.decode(errors="replace"), files

    def _json(self, body: Any, status: int = 200, template: str = "") -> web.Response:
        reset_after = 1.0
        headers = {
            "Content-Type": "application/json",
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "4",
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": _bucket(template),
            "Via": "1.1 google",
        }
        return web.Response(status=status, body=json.dumps(body).encode(), headers=headers)

    def _no_content(self) -> web.Response:
        return web.Response(status=204, headers={"Via": "1.1 google"})

    def _error_response(self, error: ApiError) -> web.Response:
        headers = {"Content-Type": "application/json", "Via": "1.1 google", **error.headers}
        body = json.dumps(error.body()).encode()
        return web.Response(status=error.status, body=body, headers=headers)

    def _injected(self, record: FakeRequest) -> web.Response | None:
        for failure in self._failures:
            if not failure.matches(record.method, record.path):
                continue
            failure.remaining -= 1
            failure.hits.append(record)
            if failure.status == 429:
                return self._rate_limited(failure)
            message = failure.message or {403: "Missing Access", 404: "404: Not Found"}.get(
                failure.status, f"{failure.status}: injected failure"
            )
            return self._error_response(ApiError(failure.status, failure.code or 0, message))
        return None

    def _rate_limited(self, failure: InjectedFailure) -> web.Response:
        body: JSON = {
            "message": failure.message or "You are being rate limited.",
            "retry_after": failure.retry_after,
            "global": failure.global_,
        }
        if failure.code is not None:
            body["code"] = failure.code
        headers = {
            "Content-Type": "application/json",
            "Via": "1.1 google",
            "Retry-After": str(max(1, math.ceil(failure.retry_after))),
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": f"{time.time() + failure.retry_after:.3f}",
            "X-RateLimit-Reset-After": f"{failure.retry_after:.3f}",
            "X-RateLimit-Bucket": _bucket(failure.pattern.pattern),
            "X-RateLimit-Scope": "global" if failure.global_ else "user",
        }
        if failure.global_:
            headers["X-RateLimit-Global"] = "true"
        return web.Response(status=429, body=json.dumps(body).encode(), headers=headers)

    async def _rest_handler(self, request: web.Request) -> web.StreamResponse:
        body, files = await self._read_body(request)
        path = request.path
        relative = path[len(API_PREFIX) :] if path.startswith(API_PREFIX + "/") else path
        record = FakeRequest(
            method=request.method,
            path=relative,
            query=dict(request.query),
            json=body,
            files=files,
            headers=dict(request.headers),
        )
        self.requests.append(record)
        try:
            response = self._injected(record)
            if response is None:
                if not path.startswith(API_PREFIX + "/"):
                    raise self._unknown(record)
                response = await self._route(request, record)
        except ApiError as error:
            response = self._error_response(error)
            record.response = error.body()
        except Exception as exc:  # a request the fake cannot parse, or a bug in the fake
            # A 500 would make discord.py retry for ~25 s; a 400 fails fast and says why.
            self.internal_errors.append((record, exc))
            error = ApiError(400, 50035, f"FakeDiscord could not handle this request: {exc!r}")
            response = self._error_response(error)
            record.response = error.body()
        record.status = response.status
        await self._notify()
        return response

    def _unknown(self, record: FakeRequest) -> ApiError:
        self.unknown_routes.append(record)
        return ApiError(404, 0, "404: Not Found")

    async def _route(self, request: web.Request, record: FakeRequest) -> web.Response:
        for route in ROUTES:
            match = route.pattern.fullmatch(record.path)
            if match is None or route.method != record.method:
                continue
            if route.bot_auth and request.headers.get("Authorization") != f"Bot {self.token}":
                raise ApiError(401, 0, "401: Unauthorized")
            result = await route.handler(self, record, match, request)
            if result is None:
                return self._no_content()
            status, body = result
            record.response = body
            return self._json(body, status, route.template)
        raise self._unknown(record)

    async def _file_handler(self, request: web.Request) -> web.StreamResponse:
        attachment = self._attachments.get(int(request.match_info["attachment_id"]))
        if attachment is None:
            return web.Response(status=404)
        return web.Response(body=attachment.data, content_type=attachment.content_type)

    # ------------------------------------------------------------------ messages

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

    def _channel_message(self, channel_id: int, message_id: int) -> FakeMessage:
        self._channel(channel_id)
        for message in self.messages:
            same = message.id == message_id and message.channel_id == channel_id
            if same and not message.deleted and not message.ephemeral:
                return message
        raise ApiError(404, 10008, "Unknown Message")

    # ------------------------------------------------------------------ interactions

    def _interaction_for_webhook(self, application_id: int, token: str) -> FakeInteraction:
        record = self._interactions_by_token.get(token)
        if record is None or application_id != self.application_id:
            raise ApiError(404, 10015, "Unknown Webhook")
        if time.monotonic() - record.created_at > self.token_lifetime:
            raise ApiError(401, 50027, "Invalid Webhook Token")
        if not record.acknowledged:
            raise ApiError(404, 10015, "Unknown Webhook")
        return record

    def _interaction_message(self, record: FakeInteraction, which: str) -> FakeMessage:
        if which == "@original":
            message = record.original
        else:
            wanted = int(which)
            candidates = [record.original, *record.followups]
            message = next((m for m in candidates if m is not None and m.id == wanted), None)
        if message is None or message.deleted:
            raise ApiError(404, 10008, "Unknown Message")
        return message

    def _apply_callback(
        self, record: FakeInteraction, body: JSON, files: list[tuple[str, str, bytes]]
    ) -> FakeMessage | None:
        kind = body["type"]
        data = body.get("data") or {}
        guild_id = record.guild_id
        if kind == 4:
            message = self._create_message(
                data,
                files,
                channel_id=record.channel_id,
                guild_id=guild_id,
                kind="interaction_response",
                interaction=record,
            )
            record.original = message
            record._acknowledge(body)
            record._mark_readable(message)
            return message
        if kind == 5:
            flags = LOADING | (int(data.get("flags") or 0) & EPHEMERAL)
            placeholder = {"content": "", "flags": flags}
            message = self._create_message(
                placeholder,
                [],
                channel_id=record.channel_id,
                guild_id=guild_id,
                kind="interaction_response",
                interaction=record,
                flags_mask=flags,
            )
            record.original = message
            record._acknowledge(body)
            return message
        if kind in (6, 7):
            record.original = record.source_message
            record._acknowledge(body)
            if kind == 7 and record.source_message is not None:
                message = self._edit_message(
                    record.source_message, data, files, "callback", record
                )
                record._mark_readable(message)
                return message
            return None
        if kind == 8:
            record.choices = copy.deepcopy(data.get("choices") or [])
        elif kind == 9:
            record.modal = copy.deepcopy(data)
        record._acknowledge(body)
        return None

    def _validate_callback(
        self, record: FakeInteraction, body: Any, files: list[tuple[str, str, bytes]]
    ) -> None:
        errors = FormErrors()
        if not isinstance(body, dict) or not isinstance(body.get("type"), int):
            errors.add(("type",), "BASE_TYPE_REQUIRED", "This field is required")
            errors.raise_if_any()
        kind = body["type"]
        if kind not in ALLOWED_CALLBACKS.get(record.type, frozenset()):
            message = f"Interaction response type {kind} is not valid for type {record.type}"
            raise _response_type_error(message)
        data = body.get("data") or {}
        if kind == 4:
            validate_message(data, ("data",), creating=True, has_files=bool(files))
        elif kind == 7:
            if record.source_message is None:
                raise _response_type_error("UPDATE_MESSAGE needs an interaction on a message")
            validate_message(data, ("data",), creating=False)
        elif kind == 8:
            validate_choices(data.get("choices", []), errors, ("data", "choices"))
        elif kind == 9:
            validate_modal(data, ("data",))
        errors.raise_if_any()


def _response_type_error(message: str) -> ApiError:
    errors = FormErrors()
    errors.add(("type",), "INTERACTION_RESPONSE_TYPE_INVALID", message)
    return ApiError(400, 50035, "Invalid Form Body", errors.to_dict())


# --------------------------------------------------------------------------- route handlers


RouteResult = tuple[int, Any] | None


async def _get_me(
    fake: FakeDiscord, req: FakeRequest, m: re.Match[str], r: web.Request
) -> RouteResult:
    return 200, copy.deepcopy(fake.bot_user)


async def _get_user(
    fake: FakeDiscord, req: FakeRequest, m: re.Match[str], r: web.Request
) -> RouteResult:
    user = fake._users.get(int(m["user"]))
    if user is None:
        raise ApiError(404, 10013, "Unknown User")
    return 200, copy.deepcopy(user)


async def _create_dm(
    fake: FakeDiscord, req: FakeRequest, m: re.Match[str], r: web.Request
) -> RouteResult:
    body = req.json if isinstance(req.json, dict) else {}
    if "recipient_id" not in body:
        errors = FormErrors()
        errors.add(("recipient_id",), "BASE_TYPE_REQUIRED", "This field is required")
        errors.raise_if_any()
    user_id = int(body["recipient_id"])
    if user_id == fake.bot_user_id:
        raise ApiError(400, 50007, "Cannot send messages to this user")
    if user_id not in fake._users:
        fake.add_user(user_id)
    return 200, fake._dm_channel_json(user_id)


async def _gateway_bot(
    fake: FakeDiscord, req: FakeRequest, m: re.Match[str], r: web.Request
) -> RouteResult:
    return 200, {
        "url": fake.gateway_url,
        "shards": fake.recommended_shards,
        "session_start_limit": {
            "total": 1000,
            "remaining": 999,
            "reset_after": 14_400_000,
            "max_concurrency": 1,
        },
    }


async def _gateway(
    fake: FakeDiscord, req: FakeRequest, m: re.Match[str], r: web.Request
) -> RouteResult:
    return 200, {"url": fake.gateway_url}


async def _application(
    fake: FakeDiscord, req: FakeRequest, m: re.Match[str], r: web.Request
) -> RouteResult:
    return 200, {
        "id": str(fake.application_id),
        "name": fake.application_name,
        "icon": None,
        "description": "",
        "summary": "",
        "type": None,
        "hook": True,
        "bot_public": True,
        "bot_require_code_grant": False,
        "verify_key": "0" * 64,
        "flags": fake._application_flags(),
        "owner": copy.deepcopy(fake.owner_user),
        "team": None,
        "bot": copy.deepcopy(fake.bot_user),
        "rpc_origins": [],
        "redirect_uris": [],
        "interactions_endpoint_url": None,
        "install_params": None,
        "integration_types_config": {"0": {}},
        "approximate_guild_count": len(fake._guilds),
        "tags": [],
        "guild_id": None,
        "custom_install_url": None,
    }


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


async def _callback(
    fake: FakeDiscord, req: FakeRequest, m: re.Match[str], r: web.Request
) -> RouteResult:
    record = fake._interactions_by_id.get(int(m["interaction"]))
    if record is None or record.token != m["token"]:
        raise ApiError(404, 10062, "Unknown interaction")
    try:
        if record.acknowledged:
            raise ApiError(400, 40060, "Interaction has already been acknowledged.")
        if time.monotonic() - record.created_at > fake.ack_deadline:
            raise ApiError(404, 10062, "Unknown interaction")
        fake._validate_callback(record, req.json, req.files)
    except ApiError as error:
        record.rejections.append((error.status, error.code, error.message))
        raise
    message = fake._apply_callback(record, req.json, req.files)
    if req.query.get("with_response") not in ("1", "true", "True"):
        return None
    summary: JSON = {"id": str(record.id), "type": record.type}
    resource: JSON = {"type": req.json["type"]}
    if message is not None:
        summary.update(
            response_message_id=str(message.id),
            response_message_loading=message.loading,
            response_message_ephemeral=message.ephemeral,
        )
        resource["message"] = message.to_api()
    return 200, {"interaction": summary, "resource": resource}


async def _followup(
    fake: FakeDiscord, req: FakeRequest, m: re.Match[str], r: web.Request
) -> RouteResult:
    record = fake._interaction_for_webhook(int(m["app"]), m["token"])
    payload = req.json if isinstance(req.json, dict) else {}
    validate_message(payload, creating=True, has_files=bool(req.files))
    original = record.original
    if record.callback_type == 5 and original is not None and original.loading:
        # Discord: a follow-up while "thinking" resolves the deferred message itself and keeps
        # the deferral's ephemerality, whatever flags the follow-up asks for.
        message = fake._edit_message(original, payload, req.files, "followup", record)
    else:
        message = fake._create_message(
            payload,
            req.files,
            channel_id=record.channel_id,
            guild_id=record.guild_id,
            kind="followup",
            interaction=record,
        )
        record.followups.append(message)
    record._mark_readable(message)
    return 200, message.to_api()


async def _webhook_message_get(
    fake: FakeDiscord, req: FakeRequest, m: re.Match[str], r: web.Request
) -> RouteResult:
    record = fake._interaction_for_webhook(int(m["app"]), m["token"])
    return 200, fake._interaction_message(record, m["message"]).to_api()


async def _webhook_message_patch(
    fake: FakeDiscord, req: FakeRequest, m: re.Match[str], r: web.Request
) -> RouteResult:
    record = fake._interaction_for_webhook(int(m["app"]), m["token"])
    message = fake._interaction_message(record, m["message"])
    payload = req.json if isinstance(req.json, dict) else {}
    validate_message(payload, creating=False)
    fake._edit_message(message, payload, req.files, "webhook", record)
    record._mark_readable(message)
    return 200, message.to_api()


async def _webhook_message_delete(
    fake: FakeDiscord, req: FakeRequest, m: re.Match[str], r: web.Request
) -> RouteResult:
    record = fake._interaction_for_webhook(int(m["app"]), m["token"])
    fake._interaction_message(record, m["message"]).deleted = True
    return None


async def _get_channel(
    fake: FakeDiscord, req: FakeRequest, m: re.Match[str], r: web.Request
) -> RouteResult:
    channel, _ = fake._channel(int(m["channel"]))
    return 200, copy.deepcopy(channel)


async def _post_message(
    fake: FakeDiscord, req: FakeRequest, m: re.Match[str], r: web.Request
) -> RouteResult:
    channel_id = int(m["channel"])
    _, guild_id = fake._channel(channel_id)
    recipient = fake._dm_recipient(channel_id)
    if recipient is not None and recipient in fake._closed_dms:
        raise ApiError(403, 50007, "Cannot send messages to this user")
    payload = req.json if isinstance(req.json, dict) else {}
    validate_message(payload, creating=True, has_files=bool(req.files))
    kind = "dm" if recipient is not None else "channel"
    message = fake._create_message(
        payload,
        req.files,
        channel_id=channel_id,
        guild_id=guild_id,
        kind=kind,
        flags_mask=CHANNEL_FLAGS,
    )
    return 200, message.to_api()


async def _get_message(
    fake: FakeDiscord, req: FakeRequest, m: re.Match[str], r: web.Request
) -> RouteResult:
    return 200, fake._channel_message(int(m["channel"]), int(m["message"])).to_api()


async def _patch_message(
    fake: FakeDiscord, req: FakeRequest, m: re.Match[str], r: web.Request
) -> RouteResult:
    message = fake._channel_message(int(m["channel"]), int(m["message"]))
    if int(message.author["id"]) != fake.bot_user_id:
        raise ApiError(403, 50005, "Cannot edit a message authored by another user")
    payload = req.json if isinstance(req.json, dict) else {}
    validate_message(payload, creating=False)
    fake._edit_message(message, payload, req.files, "channel")
    return 200, message.to_api()


async def _delete_message(
    fake: FakeDiscord, req: FakeRequest, m: re.Match[str], r: web.Request
) -> RouteResult:
    fake._channel_message(int(m["channel"]), int(m["message"])).deleted = True
    return None


async def _typing(
    fake: FakeDiscord, req: FakeRequest, m: re.Match[str], r: web.Request
) -> RouteResult:
    fake._channel(int(m["channel"]))
    return None


async def _get_guild(
    fake: FakeDiscord, req: FakeRequest, m: re.Match[str], r: web.Request
) -> RouteResult:
    guild = fake._guild(int(m["guild"]))
    body = fake._guild_json(guild, with_members=False)
    body.update(approximate_member_count=len(guild.members), approximate_presence_count=0)
    return 200, body


async def _get_member(
    fake: FakeDiscord, req: FakeRequest, m: re.Match[str], r: web.Request
) -> RouteResult:
    guild = fake._guild(int(m["guild"]))
    user_id = int(m["user"])
    if user_id not in guild.members:
        raise ApiError(404, 10007, "Unknown Member")
    return 200, fake._full_member(guild, user_id)


PARAMETERS = {"message": r"\d+|@original", "token": r"[^/]+"}


def _route(method: str, template: str, handler: Handler, bot_auth: bool = True) -> _Route:
    parts = re.split(r"\{(\w+)\}", template)
    pattern = "".join(
        re.escape(part) if index % 2 == 0 else f"(?P<{part}>{PARAMETERS.get(part, r'[0-9]+')})"
        for index, part in enumerate(parts)
    )
    return _Route(method, re.compile(pattern), handler, bot_auth, template)


ROUTES: list[_Route] = [
    _route("GET", "/users/@me", _get_me),
    _route("POST", "/users/@me/channels", _create_dm),
    _route("GET", "/users/{user}", _get_user),
    _route("GET", "/gateway/bot", _gateway_bot),
    _route("GET", "/gateway", _gateway, bot_auth=False),
    _route("GET", "/oauth2/applications/@me", _application),
    _route("GET", "/applications/@me", _application),
    _route("GET", "/applications/{app}/commands", _list_commands),
    _route("PUT", "/applications/{app}/commands", _put_commands),
    _route("POST", "/applications/{app}/commands", _post_command),
    _route("GET", "/applications/{app}/commands/{command}", _get_command),
    _route("PATCH", "/applications/{app}/commands/{command}", _patch_command),
    _route("DELETE", "/applications/{app}/commands/{command}", _delete_command),
    _route("GET", "/applications/{app}/guilds/{guild}/commands", _list_commands),
    _route("PUT", "/applications/{app}/guilds/{guild}/commands", _put_commands),
    _route("POST", "/applications/{app}/guilds/{guild}/commands", _post_command),
    _route("GET", "/applications/{app}/guilds/{guild}/commands/{command}", _get_command),
    _route("PATCH", "/applications/{app}/guilds/{guild}/commands/{command}", _patch_command),
    _route("DELETE", "/applications/{app}/guilds/{guild}/commands/{command}", _delete_command),
    _route("POST", "/interactions/{interaction}/{token}/callback", _callback, bot_auth=False),
    _route("POST", "/webhooks/{app}/{token}", _followup, bot_auth=False),
    _route(
        "GET", "/webhooks/{app}/{token}/messages/{message}", _webhook_message_get, bot_auth=False
    ),
    _route(
        "PATCH",
        "/webhooks/{app}/{token}/messages/{message}",
        _webhook_message_patch,
        bot_auth=False,
    ),
    _route(
        "DELETE",
        "/webhooks/{app}/{token}/messages/{message}",
        _webhook_message_delete,
        bot_auth=False,
    ),
    _route("GET", "/channels/{channel}", _get_channel),
    _route("POST", "/channels/{channel}/messages", _post_message),
    _route("GET", "/channels/{channel}/messages/{message}", _get_message),
    _route("PATCH", "/channels/{channel}/messages/{message}", _patch_message),
    _route("DELETE", "/channels/{channel}/messages/{message}", _delete_message),
    _route("POST", "/channels/{channel}/typing", _typing),
    _route("GET", "/guilds/{guild}", _get_guild),
    _route("GET", "/guilds/{guild}/members/{user}", _get_member),
]


# --------------------------------------------------------------------------- small helpers


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


def _interaction_token(interaction_id: int) -> str:
    return f"aW50ZXJhY3Rpb24{interaction_id}{secrets.token_urlsafe(24)}"


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
