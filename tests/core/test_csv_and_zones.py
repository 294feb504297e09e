"""The one CSV writer neutralises formulas; the one zone lookup never crashes on a folder."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from bot import zones
from bot.cli import main
from bot.commands.parse import convert
from bot.csvfile import csv_bytes, write_csv
from bot.errors import UsageError
from bot.model import Platform
from bot.spec import Opt


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_cells_that_would_run_as_formulas_are_quoted():
    out = io.StringIO()
    evil = ["=HYPERLINK(\"http://x\",\"y\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]
    write_csv(out, ["name"], [[cell] for cell in evil] + [["plain"], ["a=b"]])
    cells = [row[0] for row in _rows(out.getvalue())[1:]]
    assert cells == ["'" + cell for cell in evil] + ["plain", "a=b"]


def test_numbers_stay_numbers_and_none_is_empty():
    out = io.StringIO()
    write_csv(out, ["amount", "ref"], [[-5, None], [7, "x"]])
    assert _rows(out.getvalue())[1:] == [["-5", ""], ["7", "x"]]


def test_attachment_bytes_carry_a_bom_for_spreadsheets():
    data = csv_bytes(["name"], [["王小明"]])
    assert data.startswith(b"\xef\xbb\xbf") and "王小明".encode() in data


def test_export_members_neutralises_a_formula_name(tmp_path, monkeypatch, capsys):
    import asyncio

    from bot.app import App
    from bot.model import Actor
    from tests.conftest import make_settings

    url = f"sqlite+aiosqlite:///{tmp_path}/x.db"

    async def seed():
        app = App(make_settings(url))
        await app.start()
        await app.services.members.resolve(Actor(Platform.CONSOLE, "evil",
                                                 display_name="=1+2"))
        await app.close()

    asyncio.run(seed())
    config = tmp_path / "c.toml"
    config.write_text(f'[database]\nurl = "{url}"\n')
    assert main(["export", "members", "--config", str(config)]) == 0
    rows = _rows(capsys.readouterr().out)
    assert [row[1] for row in rows[1:]] == ["'=1+2"]


@pytest.mark.parametrize("folder", ["America", "Asia", "Europe", "America/Argentina"])
def test_a_folder_of_the_tz_database_is_an_unknown_zone_with_suggestions(folder):
    with pytest.raises(zones.UnknownZone) as raised:
        zones.lookup(folder)
    assert raised.value.suggestions and all(s.startswith(folder + "/")
                                            for s in raised.value.suggestions)


def test_zone_names_in_any_case():
    assert zones.canonical("utc") == "UTC"
    assert zones.canonical("asia/SHANGHAI") == "Asia/Shanghai"
    with pytest.raises(zones.UnknownZone):
        zones.lookup("Mars/Olympus")


def test_a_time_argument_with_a_folder_zone_is_a_usage_error():
    opt = Opt.when("start", "when")
    with pytest.raises(UsageError) as raised:
        convert(opt, "2026-12-01 20:00 America/Argentina", platform=Platform.CONSOLE, tz=UTC,
                now=datetime(2026, 12, 1, tzinfo=UTC))
    assert raised.value.params["problem"] == "bad_zone"
    assert raised.value.params["suggestions"].startswith("America/Argentina/")


def test_check_config_reports_a_folder_zone_in_one_line(tmp_path):
    env = {"CAMPUSBOT_TIME__DEFAULT_TIMEZONE": "America", "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-m", "bot", "check-config"], capture_output=True,
                            text=True, cwd=tmp_path, env=env, timeout=60)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    assert "time.default_timezone: unknown time zone 'America' (a region: try America/" in (
        result.stdout)
