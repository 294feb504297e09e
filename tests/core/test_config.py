"""Configuration: file, environment overrides, and one clear line per problem."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.config import ConfigError, load_settings


def write(tmp_path, text: str):
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(tmp_path, text: str, env=None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, text), env=env or {})
    return info.value.problems


def test_defaults_without_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = load_settings(None, env={})
    assert s.database.url == "sqlite+aiosqlite:///data/campusbot.db"
    assert s.i18n.locales == ("en", "zh_Hans") and s.i18n.default_locale == "en"
    assert s.time.default_timezone == "UTC"
    assert s.telegram.enabled is False and s.discord.enabled is False
    assert s.database.migrate_on_start is True


def test_example_config_is_valid():
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "config.example.toml"
    settings = load_settings(example, env={})
    assert settings.roles.organisers == ()  # copying the example grants nobody anything


def test_each_problem_is_one_line_naming_the_key(tmp_path):
    found = problems(tmp_path, """
[database]
url = 42
colour = "blue"
[telegram]
token = "123:abc"
enabled = "yes"
[nonsense]
x = 1
""")
    assert "database.url: expected a string, got a number" in found
    assert "database.colour: unknown key" in found
    assert any(p.startswith("telegram.token: secrets may not be written in the file; set "
                            "CAMPUSBOT_TELEGRAM__TOKEN") for p in found)
    assert 'telegram.enabled: expected true or false, got the string "yes"' in found
    assert "nonsense: unknown section" in found


def test_values_are_checked(tmp_path):
    found = problems(tmp_path, """
[i18n]
default_locale = "fr"
locales = ["en", "zh_Hans"]
[time]
default_timezone = "Mars/Base"
[roles]
organisers = ["alice"]
""")
    assert "i18n.default_locale: 'fr' is not in i18n.locales" in found
    assert "time.default_timezone: unknown time zone 'Mars/Base'" in found
    assert any(p.startswith("roles.organisers: 'alice' is not an account id") for p in found)


def test_environment_overrides_by_declared_type(tmp_path):
    path = write(tmp_path, '[discord]\nguild_ids = [1]\n')
    s = load_settings(path, env={
        "CAMPUSBOT_DATABASE__URL": "postgresql+asyncpg://u@h/db",
        "CAMPUSBOT_ROLES__ORGANISERS": '["telegram:1001"]',
        "CAMPUSBOT_DISCORD__GUILD_IDS": "123,456",
        "CAMPUSBOT_DISCORD__ENABLED": "true",
        "CAMPUSBOT_DISCORD__TOKEN": "secret",
        "CAMPUSBOT_TELEGRAM__MESSAGES_PER_SECOND": "12.5",
        "CAMPUSBOT_DATABASE__MIGRATE_ON_START": "false",
    })
    assert s.database.url == "postgresql+asyncpg://u@h/db"
    assert s.roles.organisers == ("telegram:1001",)
    assert s.discord.guild_ids == (123, 456) and s.discord.enabled and s.discord.token == "secret"
    assert s.telegram.messages_per_second == 12.5
    assert s.database.migrate_on_start is False


def test_bad_environment_values_name_the_variable(tmp_path):
    found = problems(tmp_path, "", env={"CAMPUSBOT_DISCORD__GUILD_IDS": "12,abc",
                                        "CAMPUSBOT_NOPE__X": "1"})
    assert any(p.startswith("discord.guild_ids: expected a whole number") and
               "CAMPUSBOT_DISCORD__GUILD_IDS" in p for p in found)
    assert "CAMPUSBOT_NOPE__X: no such setting (nope.x)" in found


def test_enabled_platform_needs_its_token(tmp_path):
    found = problems(tmp_path, "[telegram]\nenabled = true\n")
    assert found == ["telegram.token: telegram is enabled but CAMPUSBOT_TELEGRAM__TOKEN is "
                     "not set"]


def test_tokens_are_checked_only_for_the_platforms_a_command_talks_to(tmp_path):
    both = write(tmp_path, "[telegram]\nenabled = true\n[discord]\nenabled = true\n")
    s = load_settings(both, env={}, need_tokens=())  # the console, migrate, export
    assert s.telegram.enabled and s.discord.enabled and not s.telegram.token
    with pytest.raises(ConfigError) as info:  # discord-sync
        load_settings(both, env={}, need_tokens=("discord",))
    assert info.value.problems == ["discord.token: discord is enabled but "
                                   "CAMPUSBOT_DISCORD__TOKEN is not set"]
    with pytest.raises(ConfigError) as info:  # the default: run, check-config
        load_settings(both, env={})
    assert [p.split(":")[0] for p in info.value.problems] == ["telegram.token", "discord.token"]


def test_without_tokens_the_other_checks_still_run(tmp_path):
    text = "[telegram]\nenabled = true\nmode = 'carrier-pigeon'\n"
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, text), env={}, need_tokens=())
    assert info.value.problems == ["telegram.mode: must be polling or webhook, not "
                                   "'carrier-pigeon'"]


def test_check_config_command(tmp_path):
    bad = write(tmp_path, "[database]\nurl = 1\n")
    result = subprocess.run([sys.executable, "-m", "bot", "check-config", "--config", str(bad)],
                            capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.strip() == "database.url: expected a string, got a number"
    good = tmp_path / "good.toml"
    good.write_text("[time]\ndefault_timezone = 'Asia/Shanghai'\n")
    result = subprocess.run([sys.executable, "-m", "bot", "check-config", "--config", str(good)],
                            capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.strip() == "ok"


def test_type_and_value_problems_are_reported_together(tmp_path):
    found = problems(tmp_path, """
[database]
url = 42
[i18n]
default_locale = "fr"
[identity]
link_code_minutes = "ten"
[points]
history_page_size = 99
[telegram]
enabled = true
token = "123:abc"
mode = "carrier-pigeon"
""")
    assert found == [
        "database.url: expected a string, got a number",
        'identity.link_code_minutes: expected a whole number, got the string "ten"',
        "telegram.token: secrets may not be written in the file; set CAMPUSBOT_TELEGRAM__TOKEN",
        "i18n.default_locale: 'fr' is not in i18n.locales",
        "telegram.mode: must be polling or webhook, not 'carrier-pigeon'",
        "points.history_page_size: must be from 1 to 25",
    ]  # no value check of the defaults standing in for url, link_code_minutes and token


def test_a_refused_key_is_not_checked_again_through_its_default(tmp_path):
    found = problems(tmp_path, """
[i18n]
locales = "ko"
default_locale = "ko"
""")
    assert found == ['i18n.locales: expected a list, got the string "ko"']


def test_quoted_values_say_what_they_got(tmp_path):
    found = problems(tmp_path, """
[database]
migrate_on_start = "true"
url = ["sqlite+aiosqlite:///x.db"]
[identity]
link_code_minutes = "5"
[telegram]
messages_per_second = "2.5"
[discord]
guild_ids = ["123"]
""")
    assert found == [
        "database.url: expected a string, got a list",
        'database.migrate_on_start: expected true or false without quotes, got the string "true"',
        'identity.link_code_minutes: expected a whole number without quotes, got the string "5"',
        'telegram.messages_per_second: expected a number without quotes, got the string "2.5"',
        'discord.guild_ids: expected a whole number without quotes, got the string "123"',
    ]


def test_the_environment_still_parses_text(tmp_path):
    s = load_settings(write(tmp_path, ""), env={"CAMPUSBOT_DATABASE__ECHO": "true",
                                                "CAMPUSBOT_IDENTITY__LINK_CODE_MINUTES": "5"})
    assert s.database.echo is True and s.identity.link_code_minutes == 5
    found = problems(tmp_path, "", env={"CAMPUSBOT_DATABASE__ECHO": "yes"})
    assert found == ['database.echo: expected true or false, got "yes" '
                     "(from CAMPUSBOT_DATABASE__ECHO)"]


WEBHOOK = """
[telegram]
enabled = true
mode = "webhook"
webhook_url = "https://bot.example.org/telegram"
"""
WEBHOOK_ENV = {"CAMPUSBOT_TELEGRAM__TOKEN": "123:abc",
               "CAMPUSBOT_TELEGRAM__WEBHOOK_SECRET": "s3cret-_Token"}


def test_webhook_mode_accepts_https_and_a_valid_secret(tmp_path):
    s = load_settings(write(tmp_path, WEBHOOK), env=WEBHOOK_ENV)
    assert s.telegram.webhook_secret == "s3cret-_Token"
    long_secret = {**WEBHOOK_ENV, "CAMPUSBOT_TELEGRAM__WEBHOOK_SECRET": "a" * 256}
    assert load_settings(write(tmp_path, WEBHOOK), env=long_secret).telegram.webhook_secret


def test_webhook_secret_with_other_characters_is_refused(tmp_path):
    env = {**WEBHOOK_ENV, "CAMPUSBOT_TELEGRAM__WEBHOOK_SECRET": "hunter two:\n"}
    found = problems(tmp_path, WEBHOOK, env=env)
    assert found == ["telegram.webhook_secret: CAMPUSBOT_TELEGRAM__WEBHOOK_SECRET has 3 "
                     "characters (including whitespace) other than A-Z a-z 0-9 _ - "
                     "(Telegram's rule)"]  # and never shows the secret


def test_webhook_secret_longer_than_256_is_refused(tmp_path):
    env = {**WEBHOOK_ENV, "CAMPUSBOT_TELEGRAM__WEBHOOK_SECRET": "a" * 257}
    found = problems(tmp_path, WEBHOOK, env=env)
    assert found == ["telegram.webhook_secret: CAMPUSBOT_TELEGRAM__WEBHOOK_SECRET is 257 "
                     "characters long; Telegram allows 1 to 256"]


def test_webhook_secret_is_checked_even_in_polling_mode(tmp_path):
    found = problems(tmp_path, "", env={"CAMPUSBOT_TELEGRAM__WEBHOOK_SECRET": "a+b"})
    assert found == ["telegram.webhook_secret: CAMPUSBOT_TELEGRAM__WEBHOOK_SECRET has 1 "
                     "character other than A-Z a-z 0-9 _ - (Telegram's rule)"]


def test_http_webhook_url_is_refused(tmp_path):
    found = problems(tmp_path, WEBHOOK.replace("https://", "http://"), env=WEBHOOK_ENV)
    assert found == ["telegram.webhook_url: webhook mode needs the public https:// URL "
                     '(Telegram posts only to HTTPS), got the string '
                     '"http://bot.example.org/telegram"']
    found = problems(tmp_path, WEBHOOK.replace("https://bot.example.org/telegram", ""),
                     env=WEBHOOK_ENV)
    assert found == ["telegram.webhook_url: webhook mode needs the public https:// URL "
                     "(Telegram posts only to HTTPS)"]


@pytest.fixture
def catalogs(tmp_path, monkeypatch):
    """A locales folder holding catalogs for en and zh_Hans only, as the checkout does."""
    import bot.paths

    root = tmp_path / "locales"
    for locale in ("en", "zh_Hans"):
        folder = root / locale / "LC_MESSAGES"
        folder.mkdir(parents=True)
        (folder / "campusbot.po").write_text("", encoding="utf-8")
    monkeypatch.setattr(bot.paths, "locales_dir", lambda: root)
    return root


def test_an_enabled_locale_needs_its_catalog(tmp_path, catalogs):
    found = problems(tmp_path, '[i18n]\nlocales = ["en", "zh_Hans", "ko"]\n')
    po = catalogs / "ko" / "LC_MESSAGES" / "campusbot.po"
    assert found == [f"i18n.locales: 'ko' has no catalog (no {po}); catalogs exist for "
                     "en, zh_Hans"]
    po.parent.mkdir(parents=True)
    po.write_text("", encoding="utf-8")
    assert load_settings(write(tmp_path, '[i18n]\nlocales = ["en", "ko"]\n'), env={})


def test_the_checkout_has_catalogs_for_the_default_locales(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load_settings(None, env={}).i18n.locales == ("en", "zh_Hans")


def test_a_chat_locale_must_be_enabled(tmp_path):
    found = problems(tmp_path, """
[telegram]
chat_locales = ["-1001234=zh_Hans", "-1005678=ja"]
""")
    assert found == ["telegram.chat_locales: '-1005678=ja' names locale 'ja', which is not in "
                     "i18n.locales"]
