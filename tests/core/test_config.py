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
    assert settings.roles.organisers


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
    assert "telegram.enabled: expected true or false, got 'yes'" in found
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
