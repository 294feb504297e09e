"""Discord's wire vocabulary, shared by every part of the fake.

Why: flag bits, permission sets, intents, locales, snowflake ids, timestamps and the JSON shape
of an error answer are used by validation, state, the gateway and REST alike. Keeping them in
one module that imports nothing else from the package lets the others depend on it without
import cycles.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

JSON = dict[str, Any]


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
