"""Settings: one TOML file, overridden key by key from the environment.

Every key is declared once, as a typed field of a frozen dataclass, so the loader, the
validation messages (`section.key: what is wrong`), the environment names
(`CAMPUSBOT_<SECTION>__<KEY>`) and `config.example.toml` all agree. Tokens are secrets: they may
only come from the environment, never from a file that could be committed.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import string
import tomllib
import typing
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from bot import zones

ENV_PREFIX = "CAMPUSBOT_"
PLATFORMS = ("telegram", "discord")
PLATFORM_ACCOUNT_PREFIXES = ("telegram:", "discord:", "console:")
# Telegram's rule for setWebhook's secret_token: 1-256 characters, only these.
WEBHOOK_SECRET_CHARS = frozenset(string.ascii_letters + string.digits + "_-")
WEBHOOK_SECRET_MAX = 256


def secret(default: Any = "") -> Any:
    """A key that may only be set from the environment."""
    return field(default=default, metadata={"secret": True})


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = "sqlite+aiosqlite:///data/campusbot.db"
    migrate_on_start: bool = True
    echo: bool = False


@dataclass(frozen=True)
class RolesSettings:
    organisers: tuple[str, ...] = ()
    ambassadors: tuple[str, ...] = ()


@dataclass(frozen=True)
class I18nSettings:
    default_locale: str = "en"
    locales: tuple[str, ...] = ("en", "zh_Hans")


@dataclass(frozen=True)
class TimeSettings:
    default_timezone: str = "UTC"


@dataclass(frozen=True)
class IdentitySettings:
    link_code_minutes: int = 10


@dataclass(frozen=True)
class PointsSettings:
    history_page_size: int = 10


@dataclass(frozen=True)
class BountiesSettings:
    # Rewards above this many points need approvals by two different organisers; 0 = off.
    double_approval_above: int = 0
    # Once a day at review_digest_time (in [time] default_timezone) the organisers get a list
    # of the submissions that have waited longer than this many hours.
    review_digest_hours: int = 48
    review_digest_time: str = "09:00"


@dataclass(frozen=True)
class SchedulerSettings:
    # A job that came due while the bot was down still runs at start-up if it is at most
    # this many minutes late; later than that it is marked missed and the organisers told.
    grace_minutes: int = 15


@dataclass(frozen=True)
class TelegramSettings:
    enabled: bool = False
    token: str = secret()
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    messages_per_second: float = 30.0
    private_chat_burst: int = 3
    private_chat_period_seconds: float = 3.0
    group_messages_per_minute: int = 20
    mode: str = "polling"
    webhook_listen: str = "0.0.0.0:8443"
    webhook_url: str = ""
    webhook_secret: str = secret()
    trust_anonymous_admins: tuple[int, ...] = ()
    group_cooldown_seconds: float = 5.0
    chat_locales: tuple[str, ...] = ()


@dataclass(frozen=True)
class DiscordSettings:
    enabled: bool = False
    token: str = secret()
    api_base_url: str = "https://discord.com/api/v10"
    guild_ids: tuple[int, ...] = ()
    organiser_role_ids: tuple[int, ...] = ()
    ambassador_role_ids: tuple[int, ...] = ()
    shard_count: int = 0
    shard_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class Settings:
    database: DatabaseSettings = DatabaseSettings()
    roles: RolesSettings = RolesSettings()
    i18n: I18nSettings = I18nSettings()
    time: TimeSettings = TimeSettings()
    identity: IdentitySettings = IdentitySettings()
    points: PointsSettings = PointsSettings()
    bounties: BountiesSettings = BountiesSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    telegram: TelegramSettings = TelegramSettings()
    discord: DiscordSettings = DiscordSettings()

    @property
    def default_tz(self) -> ZoneInfo:
        return zones.lookup(self.time.default_timezone)


class ConfigError(Exception):
    """Raised with every problem found, one `section.key: message` line each."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def load_settings(path: str | Path | None = None,
                  env: Mapping[str, str] | None = None, *,
                  need_tokens: Collection[str] = PLATFORMS) -> Settings:
    """Read the file (or `config.toml` here, or nothing), apply the environment, validate.

    `need_tokens`: the platforms whose token must be set when they are enabled, those the
    command will talk to (`campusbot console` needs none, `discord-sync` only Discord's).
    """
    env = os.environ if env is None else env
    raw: dict[str, Any] = {}
    problems: list[str] = []
    file = Path(path) if path else Path("config.toml")
    if path and not file.exists():
        raise ConfigError([f"{file}: no such file"])
    if file.exists():
        try:
            raw = tomllib.loads(file.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError([f"{file}: not valid TOML: {exc}"]) from exc
    # Keys ("section.key") whose value was refused: their default stands in, so the sections
    # still build and the value checks still run, all problems reported together.
    refused: set[str] = set()
    settings = Settings(**_build_sections(raw, env, problems, refused))
    problems.extend(_check_values(settings, frozenset(refused), frozenset(need_tokens)))
    if problems:
        raise ConfigError(problems)
    return settings


def _section_types() -> dict[str, type]:
    hints = typing.get_type_hints(Settings)
    return {f.name: hints[f.name] for f in dataclasses.fields(Settings)}


def _build_sections(raw: dict[str, Any], env: Mapping[str, str], problems: list[str],
                    refused: set[str]) -> dict:
    """Each section from the values that parsed; a refused key keeps its default."""
    section_types = _section_types()
    for name in raw:
        if name not in section_types:
            problems.append(f"{name}: unknown section")
    for name, value in raw.items():
        if name in section_types and not isinstance(value, dict):
            problems.append(f"{name}: must be a table ([{name}])")
            refused.update(f"{name}.{f.name}" for f in dataclasses.fields(section_types[name]))
    _check_unknown_env(env, section_types, problems)
    built = {}
    for name, cls in section_types.items():
        table = raw.get(name) if isinstance(raw.get(name), dict) else {}
        built[name] = _build_section(name, cls, table, env, problems, refused)
    return built


def _check_unknown_env(env: Mapping[str, str], sections: dict[str, type], problems: list) -> None:
    for var in env:
        if not var.startswith(ENV_PREFIX) or "__" not in var:
            continue
        section, _, key = var[len(ENV_PREFIX) :].lower().partition("__")
        cls = sections.get(section)
        if cls is None or key not in {f.name for f in dataclasses.fields(cls)}:
            problems.append(f"{var}: no such setting ({section}.{key})")


def _build_section(name: str, cls: type, table: dict, env: Mapping[str, str], problems: list,
                   refused: set[str]):
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in dataclasses.fields(cls)}
    for key in table:
        if key not in known:
            problems.append(f"{name}.{key}: unknown key")
    values = {}
    for key, fld in known.items():
        where = f"{name}.{key}"
        env_name = f"{ENV_PREFIX}{name.upper()}__{key.upper()}"
        if key in table and fld.metadata.get("secret"):
            problems.append(f"{where}: secrets may not be written in the file; set {env_name}")
            refused.add(where)
            continue
        try:
            if env_name in env:
                values[key] = _from_env(env[env_name], hints[key])
            elif key in table:
                values[key] = _coerce(table[key], hints[key])
        except ValueError as exc:
            source = env_name if env_name in env else where
            problems.append(f"{where}: {exc}" + (f" (from {source})" if source != where else ""))
            refused.add(where)
    return cls(**values)


def _from_env(text: str, typ: Any) -> Any:
    """Parse an environment string by the key's declared type."""
    if typing.get_origin(typ) is tuple:
        stripped = text.strip()
        if stripped.startswith("["):
            try:
                value = tomllib.loads(f"v = {stripped}")["v"]
            except tomllib.TOMLDecodeError as exc:
                raise ValueError(f"not a TOML list: {exc}") from exc
        else:
            value = [item.strip() for item in stripped.split(",") if item.strip()]
        return _coerce(value, typ, from_text=True)
    return _coerce(text, typ, from_text=True)


def _coerce(value: Any, typ: Any, from_text: bool = False) -> Any:
    """Check a TOML value (or, `from_text`, an environment string) against the declared type.

    A TOML string that would be right without its quotes ("true", "5") is refused with that
    hint; the environment has only text, so there "true" and "5" are parsed.
    """
    if typing.get_origin(typ) is tuple:
        if not isinstance(value, list):
            raise ValueError(f"expected a list, got {_got(value, from_text)}")
        item_type = typing.get_args(typ)[0]
        return tuple(_coerce(item, item_type, from_text) for item in value)
    if typ is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            if from_text:
                return value.strip().lower() == "true"
            raise ValueError(f"expected true or false without quotes, got {_got(value)}")
        raise ValueError(f"expected true or false, got {_got(value, from_text)}")
    if typ is int:
        return _to_int(value, from_text)
    if typ is float:
        return _to_float(value, from_text)
    if typ is str:
        if isinstance(value, str):
            return value
        raise ValueError(f"expected a string, got {_got(value, from_text)}")
    raise ValueError(f"unsupported type {typ}")  # pragma: no cover - a programming error


def _to_int(value: Any, from_text: bool) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            number = int(value.strip())
        except ValueError:
            pass
        else:
            if from_text:
                return number
            raise ValueError(f"expected a whole number without quotes, got {_got(value)}")
    if isinstance(value, float):
        raise ValueError(f"expected a whole number, got {value!r}")
    raise ValueError(f"expected a whole number, got {_got(value, from_text)}")


def _to_float(value: Any, from_text: bool) -> float:
    number = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        try:
            parsed = float(value.strip())
        except ValueError:
            pass
        else:
            if not from_text:
                raise ValueError(f"expected a number without quotes, got {_got(value)}")
            number = parsed
    if number is None:
        raise ValueError(f"expected a number, got {_got(value, from_text)}")
    if not math.isfinite(number):
        shown = repr(value) if isinstance(value, float) else _got(value, from_text)
        raise ValueError(f"expected a finite number, got {shown}")
    return number


def _got(value: Any, from_text: bool = False) -> str:
    """What the operator wrote: a string shown quoted, anything else by its kind."""
    if isinstance(value, str):
        shown = value if len(value) <= 60 else value[:59] + "…"
        shown = json.dumps(shown, ensure_ascii=False)
        return shown if from_text else f"the string {shown}"
    return _kind(value)


def _kind(value: Any) -> str:
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string",
            list: "a list", dict: "a table"}.get(type(value), "a date or time")


def _check_values(s: Settings, refused: frozenset[str] = frozenset(),
                  need_tokens: frozenset[str] = frozenset(PLATFORMS)) -> list[str]:
    """Checks that need more than a type: allowed values and cross-key rules.

    A check that reads a key in `refused` is skipped: that key already has its line, and its
    value here is the default standing in for what the operator wrote.
    """
    from bot.i18n import is_known_locale  # local import: i18n imports nothing from here

    def given(*keys: str) -> bool:
        return refused.isdisjoint(keys)

    problems = []
    if given("database.url") and not s.database.url.startswith(("sqlite+aiosqlite://",
                                                                 "postgresql+asyncpg://")):
        problems.append("database.url: use sqlite+aiosqlite:///PATH or postgresql+asyncpg://…")
    for key in ("organisers", "ambassadors"):
        for account in getattr(s.roles, key) if given(f"roles.{key}") else ():
            if not _is_account_id(account):
                problems.append(f"roles.{key}: {account!r} is not an account id like "
                                "telegram:12345, discord:67890 or console:NAME")
    if given("i18n.locales"):
        catalogs = _catalog_locales()
        for locale in s.i18n.locales:
            if not is_known_locale(locale):
                problems.append(f"i18n.locales: unknown locale {locale!r}")
            elif locale not in catalogs:
                problems.append(f"i18n.locales: {locale!r} has no catalog (no "
                                f"{_catalog_path(locale)}); catalogs exist for "
                                f"{', '.join(sorted(catalogs)) or 'no locale'}")
        if not s.i18n.locales:
            problems.append("i18n.locales: enable at least one locale")
    if (given("i18n.default_locale", "i18n.locales")
            and s.i18n.default_locale not in s.i18n.locales):
        problems.append(f"i18n.default_locale: {s.i18n.default_locale!r} is not in i18n.locales")
    if given("time.default_timezone"):
        try:
            zones.canonical(s.time.default_timezone)
        except zones.UnknownZone as exc:
            problems.append(f"time.default_timezone: {exc.describe()}")
    problems.extend(_check_telegram(s.telegram, s.i18n.locales, given,
                                    need_token="telegram" in need_tokens))
    problems.extend(_check_discord(s.discord, given, need_token="discord" in need_tokens))
    if given("identity.link_code_minutes") and s.identity.link_code_minutes < 1:
        problems.append("identity.link_code_minutes: must be at least 1")
    if given("points.history_page_size") and not 1 <= s.points.history_page_size <= 25:
        problems.append("points.history_page_size: must be from 1 to 25")
    if given("bounties.double_approval_above") and s.bounties.double_approval_above < 0:
        problems.append("bounties.double_approval_above: must be 0 (off) or more")
    if given("bounties.review_digest_hours") and s.bounties.review_digest_hours < 1:
        problems.append("bounties.review_digest_hours: must be at least 1")
    if given("bounties.review_digest_time") and not _CLOCK.match(s.bounties.review_digest_time):
        problems.append("bounties.review_digest_time: write a time of day such as \"09:00\"")
    if given("scheduler.grace_minutes") and s.scheduler.grace_minutes < 0:
        problems.append("scheduler.grace_minutes: must be 0 or more")
    return problems


_CLOCK = re.compile(r"^([01]?\d|2[0-3]):[0-5]\d$")


def _catalog_path(locale: str) -> Path:
    from bot.i18n import DOMAIN
    from bot.paths import locales_dir

    return locales_dir() / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def _catalog_locales() -> set[str]:
    """Locales with a catalog, spelled as their folders are (exactly, on any file system)."""
    from bot.i18n import DOMAIN
    from bot.paths import locales_dir

    return {po.parent.parent.name for po in locales_dir().glob(f"*/LC_MESSAGES/{DOMAIN}.po")}


def _is_account_id(text: str) -> bool:
    prefix, _, rest = text.partition(":")
    if f"{prefix}:" not in PLATFORM_ACCOUNT_PREFIXES or not rest:
        return False
    return prefix == "console" or rest.lstrip("-").isdigit()


def _check_telegram(t: TelegramSettings, locales: tuple[str, ...],
                    given: Callable[..., bool], need_token: bool = True) -> list[str]:
    problems = []
    if given("telegram.mode") and t.mode not in ("polling", "webhook"):
        problems.append(f"telegram.mode: must be polling or webhook, not {t.mode!r}")
    for key in ("messages_per_second", "private_chat_burst", "private_chat_period_seconds",
                "group_messages_per_minute"):
        if given(f"telegram.{key}") and getattr(t, key) <= 0:
            problems.append(f"telegram.{key}: must be above 0")
    if need_token and given("telegram.enabled", "telegram.token") and t.enabled and not t.token:
        problems.append("telegram.token: telegram is enabled but CAMPUSBOT_TELEGRAM__TOKEN is "
                        "not set")
    webhook = t.enabled and t.mode == "webhook" and given("telegram.enabled", "telegram.mode")
    if webhook and given("telegram.webhook_url"):
        url = urlsplit(t.webhook_url)
        if url.scheme != "https" or not url.hostname:
            problems.append("telegram.webhook_url: webhook mode needs the public https:// URL "
                            "(Telegram posts only to HTTPS)"
                            + (f", got {_got(t.webhook_url)}" if t.webhook_url else ""))
    if given("telegram.webhook_secret"):
        if webhook and not t.webhook_secret:
            problems.append("telegram.webhook_secret: webhook mode needs "
                            "CAMPUSBOT_TELEGRAM__WEBHOOK_SECRET (1-256 of A-Z a-z 0-9 _ -)")
        problems.extend(_check_webhook_secret(t.webhook_secret))
    host, _, port = t.webhook_listen.rpartition(":")
    if given("telegram.webhook_listen") and (not host or not port.isdigit()):
        problems.append(f"telegram.webhook_listen: expected HOST:PORT, not {t.webhook_listen!r}")
    for item in t.chat_locales if given("telegram.chat_locales") else ():
        chat, _, locale = (part.strip() for part in item.partition("="))
        if not chat.lstrip("-").isdigit() or not locale:
            problems.append(f"telegram.chat_locales: {item!r} should look like -1001234=zh_Hans")
        elif given("i18n.locales") and locale not in locales:
            problems.append(f"telegram.chat_locales: {item!r} names locale {locale!r}, which is "
                            "not in i18n.locales")
    return problems


def _check_webhook_secret(secret_token: str) -> list[str]:
    """Telegram's setWebhook rule; the message never shows the secret itself."""
    if not secret_token:
        return []
    problems = []
    where = "telegram.webhook_secret: CAMPUSBOT_TELEGRAM__WEBHOOK_SECRET"
    if len(secret_token) > WEBHOOK_SECRET_MAX:
        problems.append(f"{where} is {len(secret_token)} characters long; Telegram allows 1 to "
                        f"{WEBHOOK_SECRET_MAX}")
    other = [c for c in secret_token if c not in WEBHOOK_SECRET_CHARS]
    if other:
        spaces = " (including whitespace)" if any(c.isspace() for c in other) else ""
        problems.append(f"{where} has {len(other)} character{'s' * (len(other) != 1)}{spaces} "
                        "other than A-Z a-z 0-9 _ - (Telegram's rule)")
    return problems


def _check_discord(d: DiscordSettings, given: Callable[..., bool],
                   need_token: bool = True) -> list[str]:
    problems = []
    if need_token and given("discord.enabled", "discord.token") and d.enabled and not d.token:
        problems.append("discord.token: discord is enabled but CAMPUSBOT_DISCORD__TOKEN is "
                        "not set")
    if given("discord.shard_count") and d.shard_count < 0:
        problems.append("discord.shard_count: must be 0 (automatic) or more")
    if given("discord.shard_ids", "discord.shard_count"):
        if d.shard_ids and not d.shard_count:
            problems.append("discord.shard_ids: set discord.shard_count too")
        if any(i < 0 or i >= max(d.shard_count, 1) for i in d.shard_ids):
            problems.append("discord.shard_ids: each id must be below discord.shard_count")
    return problems


def dataclass_types() -> dict[str, type]:
    """Sections and their dataclasses, for documentation and tests."""
    return _section_types()

