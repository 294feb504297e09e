"""config.example.toml documents every key, shows the defaults, and grants nobody anything."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path

import pytest

from bot.config import ENV_PREFIX, Settings, dataclass_types, load_settings

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


def comments_by_section() -> dict[str, str]:
    """The comment text under each `[section]` header (before the first header: "")."""
    found: dict[str, list[str]] = {"": []}
    section = ""
    for line in EXAMPLE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        header = re.fullmatch(r"\[([A-Za-z0-9_]+)\]", line)
        if header:
            section = header.group(1)
            found.setdefault(section, [])
        elif line.startswith("#"):
            found[section].append(line)
    return {name: "\n".join(lines) for name, lines in found.items()}


def test_the_example_loads():
    load_settings(EXAMPLE, env={})


@pytest.mark.parametrize("section", sorted(dataclass_types()))
def test_every_key_is_in_the_example(section):
    raw = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    comments = comments_by_section().get(section, "")
    assert section in raw, f"[{section}] is missing from config.example.toml"
    missing = []
    for fld in dataclasses.fields(dataclass_types()[section]):
        if fld.metadata.get("secret"):
            env_name = f"{ENV_PREFIX}{section.upper()}__{fld.name.upper()}"
            assert fld.name not in raw[section], f"{section}.{fld.name} is a secret"
            if env_name not in comments:
                missing.append(f"{section}.{fld.name} (a comment naming {env_name})")
        elif fld.name not in raw[section]:
            missing.append(f"{section}.{fld.name}")
    assert missing == []


def test_the_example_shows_the_defaults():
    assert load_settings(EXAMPLE, env={}) == Settings()


def test_copying_the_example_grants_no_roles():
    s = load_settings(EXAMPLE, env={})
    assert s.roles.organisers == () and s.roles.ambassadors == ()
    assert s.telegram.trust_anonymous_admins == ()
    assert s.discord.organiser_role_ids == () and s.discord.ambassador_role_ids == ()
