"""The generated command reference, `--version`, the i18n flags, and a self-contained repo."""

from __future__ import annotations

import logging
import re
import subprocess
from pathlib import Path

import pytest

from bot import cli, reference
from bot.commands import load_registry
from bot.model import Role
from bot.spec import Opt, Registry, Router

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "commands.md"
REGENERATE = "run `campusbot commands --markdown > docs/commands.md`"


@pytest.fixture(autouse=True)
def _keep_logging():
    """cli.main configures logging; give the other tests back the levels they had."""
    names = ["", "httpx", "apscheduler", "discord.gateway", "alembic"]
    levels = {name: logging.getLogger(name).level for name in names}
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


# -- docs/commands.md ---------------------------------------------------------------------------

def test_docs_commands_md_is_current():
    assert DOCS.is_file(), f"docs/commands.md is missing: {REGENERATE}"
    expected = reference.markdown(load_registry())
    assert DOCS.read_text(encoding="utf-8") == expected, (
        f"docs/commands.md differs from the command registry: {REGENERATE}")


def test_every_registered_command_is_in_docs_commands_md():
    text = DOCS.read_text(encoding="utf-8")
    missing = [spec.name for spec in load_registry() if f"| `/{spec.name}` |" not in text]
    assert missing == [], f"not in docs/commands.md: {missing}; {REGENERATE}"


def test_the_reference_shows_usage_options_bounds_and_marks():
    router = Router("gifts")

    @router.command("gift", "Give points | with a pipe.",
                    Opt.member("member", "Who"),
                    Opt.points("amount", "How many"),
                    Opt.choice("mood", "How", ("happy", "sad"), required=False),
                    Opt.text("note", "Why", max_len=80, rest=True),
                    role=Role.AMBASSADOR, private=True, dialogue=True)
    async def gift(ctx, **_):  # pragma: no cover - never called
        raise AssertionError

    registry = Registry.build([router])

    text = reference.markdown(registry)
    assert "## Everyone\n\nNo member commands yet." in text
    assert ("| `/gift` | `/gift @member AMOUNT [happy\\|sad] NOTE…` | "
            "Give points \\| with a pipe. *Private, dialogue.* |") in text
    assert "- `amount` (required) — How many. A whole number of points, 1–1,000,000." in text
    assert "- `mood` (optional) — How. One of `happy`, `sad`." in text
    assert "- `note` (required) — Why. Text, up to 80 characters; takes the rest of the line." \
        in text
    assert reference.plain_text(registry) == (
        "Ambassadors\n  /gift @member AMOUNT [happy|sad] NOTE…  "
        "Give points | with a pipe. (private, dialogue)\n")


def test_campusbot_commands_prints_the_reference(capsys):
    assert cli.main(["commands", "--markdown"]) == 0
    assert capsys.readouterr().out == reference.markdown(load_registry())
    assert cli.main(["commands"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Everyone\n")
    assert all(f"/{spec.name}" in out for spec in load_registry())


# -- campusbot --version ------------------------------------------------------------------------

def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--version"])
    assert exit_.value.code in (0, None)
    assert re.fullmatch(r"campusbot \d+\.\d+\.\d+\S*\n", capsys.readouterr().out)


def test_version_falls_back_to_pyproject(monkeypatch):
    import tomllib
    from importlib import metadata

    def not_installed(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", not_installed)
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert cli.version() == pyproject["project"]["version"]


# -- campusbot i18n --config ---------------------------------------------------------------------

@pytest.mark.parametrize("action", ["extract", "update", "compile", "check"])
def test_i18n_accepts_config_and_verbose(action):
    args = cli._parser().parse_args(["i18n", action, "--config", "some.toml", "-v"])
    assert (args.action, args.config, args.verbose) == (action, "some.toml", True)


def test_i18n_reads_no_settings(monkeypatch, tmp_path):
    import bot.i18n_tools

    ran = []
    monkeypatch.setattr(bot.i18n_tools, "run_i18n", lambda action: ran.append(action) or 0)
    monkeypatch.setattr(cli, "load_settings", lambda path: pytest.fail("settings were read"))
    assert cli.main(["i18n", "compile", "--config", str(tmp_path / "missing.toml")]) == 0
    assert ran == ["compile"]


# -- the repository stands on its own -------------------------------------------------------------

OUTSIDE = (b"../shared", b"STYLE.md", b"PLATFORM_FACTS")


def test_no_file_points_at_documents_outside_the_repository():
    try:
        listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                                check=True, timeout=60).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    offenders = []
    for name in filter(None, listed.decode("utf-8").split("\0")):
        path = ROOT / name
        if name.startswith("tests/") or not path.is_file():
            continue
        data = path.read_bytes()
        offenders += [f"{name}: {word.decode()}" for word in OUTSIDE if word in data]
    assert offenders == [], ("these files point at documents outside the repository; say it in "
                             "the code's own words or cite public documentation")
