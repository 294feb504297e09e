"""`campusbot export KIND`: the kinds the features declare, each with its own options."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, date, datetime

import pytest

from bot.cli import main
from bot.commands import load_registry, points
from bot.csvfile import csv_attachment
from bot.model import Actor, Platform
from bot.spec import ExportOpt, Registry, Router, Table
from tests.conftest import Clock, make_settings


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@pytest.fixture
def config(tmp_path):
    """A config file on a database with two members and two ledger entries, a month apart."""
    from bot.app import App

    url = f"sqlite+aiosqlite:///{tmp_path}/x.db"
    clock = Clock(datetime(2026, 10, 15, 12, 0, tzinfo=UTC))

    async def seed():
        app = App(make_settings(url), clock=clock)
        await app.start()
        try:
            ann = await app.services.members.resolve(Actor(Platform.CONSOLE, "ann",
                                                           display_name="Ann"))
            bo = await app.services.members.resolve(Actor(Platform.CONSOLE, "bo",
                                                          display_name="Bo"))
            await app.services.ledger.credit(ann.member_id, 3, kind="award", reason="october",
                                             key="k1")
            clock.advance(days=21)  # 2026-11-05
            await app.services.ledger.credit(bo.member_id, 5, kind="award", reason="november",
                                             key="k2")
        finally:
            await app.close()

    asyncio.run(seed())
    path = tmp_path / "c.toml"
    path.write_text(f'[database]\nurl = "{url}"\n')
    return str(path)


def test_export_members(config, capsys):
    assert main(["export", "members", "--config", config]) == 0
    rows = _rows(capsys.readouterr().out)
    assert rows[0] == ["id", "display_name", "role", "balance", "earned", "locale"]
    assert sorted((row[1], row[3]) for row in rows[1:]) == [("Ann", "3"), ("Bo", "5")]


def test_export_ledger_since_a_day(config, capsys):
    assert main(["export", "ledger", "--since", "2026-11-01", "--config", config]) == 0
    rows = _rows(capsys.readouterr().out)
    assert rows[0] == ["id", "member_id", "amount", "kind", "reason", "ref", "actor",
                       "created_at"]
    assert [row[4] for row in rows[1:]] == ["november"]
    assert main(["export", "--config", config, "ledger"]) == 0  # --config before the kind too
    assert [row[4] for row in _rows(capsys.readouterr().out)[1:]] == ["october", "november"]


def test_export_writes_a_file_with_out(config, tmp_path, capsys):
    out = tmp_path / "members.csv"
    assert main(["export", "members", "--out", str(out), "--config", config]) == 0
    assert capsys.readouterr().err.strip() == str(out)
    assert _rows(out.read_text(encoding="utf-8"))[0][:2] == ["id", "display_name"]


def test_each_kind_has_its_own_help(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["export", "ledger", "--help"])
    assert exited.value.code == 0
    shown = capsys.readouterr().out
    assert "--since YYYY-MM-DD" in shown and "--out FILE" in shown
    with pytest.raises(SystemExit):
        main(["export", "members", "--help"])
    shown = capsys.readouterr().out
    assert "--out FILE" in shown and "--since" not in shown


def test_an_unknown_kind_is_argparses_usage_error(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["export", "nosuchkind"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'nosuchkind' (choose from" in err
    with pytest.raises(SystemExit):
        main(["export", "members", "--since", "2026-11-01"])  # not an option of members
    assert "unrecognized arguments: --since" in capsys.readouterr().err


def test_the_features_declare_ledger_and_members():
    exports = load_registry().exports
    assert {"ledger", "members"} <= set(exports)
    assert [o.name for o in exports["ledger"].options] == ["since"]


def _demo_router(seen: list) -> Router:
    router = Router("demo")

    @router.export("demo", "a made-up export", ExportOpt.text("label", "a label", required=True),
                   ExportOpt.integer("count", "how many rows"), ExportOpt.day("from_day", "a day"))
    async def demo(services, label: str, count: int | None, from_day: date | None) -> Table:
        seen.append((label, count, from_day))
        return Table(["n", "label"], [[n, label] for n in range(count or 1)])

    return router


def test_a_registered_kind_is_dispatched_with_its_options(config, capsys):
    seen: list = []
    registry = Registry.build([_demo_router(seen)])
    assert main(["export", "demo", "--label", "=x", "--count", "2", "--from-day", "2026-11-01",
                 "--config", config], registry=registry) == 0
    assert seen == [("=x", 2, date(2026, 11, 1))]
    assert _rows(capsys.readouterr().out) == [["n", "label"], ["0", "'=x"], ["1", "'=x"]]


def test_an_options_type_is_checked_before_the_database_opens(tmp_path, monkeypatch,
                                                              capsys):
    monkeypatch.chdir(tmp_path)  # the default settings: a database under ./data
    seen: list = []
    registry = Registry.build([_demo_router(seen)])
    assert main(["export", "demo", "--label", "x", "--count", "many"],
                registry=registry) == 2
    assert capsys.readouterr().err == '--count: expected a whole number, got "many"\n'
    assert seen == [] and not (tmp_path / "data").exists()
    with pytest.raises(SystemExit):
        main(["export", "demo"], registry=registry)
    assert "the following arguments are required: --label" in capsys.readouterr().err


def test_a_kind_declared_twice_is_refused():
    first, second = Router("one"), Router("two")
    for router in (first, second):
        router.export("ledger", "again")(_noop)
    with pytest.raises(ValueError, match="export ledger declared twice"):
        Registry.build([first, second])
    with pytest.raises(ValueError, match="export ledger declared twice"):
        Registry.build([points.router, first])


def test_option_names_that_the_cli_itself_takes_are_refused():
    for name in ("out", "config", "verbose", "not a name"):
        with pytest.raises(ValueError):
            ExportOpt.text(name, "x")
    with pytest.raises(ValueError, match="declared twice"):
        Router("r").export("k", "h", ExportOpt.text("a", "x"), ExportOpt.integer("a", "y"))(_noop)


def test_csv_attachment_carries_the_tables_csv():
    attachment = csv_attachment(Table(["name", "points"], [["王小明", 5], ["=cmd", -1]]),
                                "members.csv")
    assert attachment.filename == "members.csv"
    assert attachment.data.startswith(b"\xef\xbb\xbf")
    assert _rows(attachment.data.decode("utf-8-sig")) == [["name", "points"], ["王小明", "5"],
                                                         ["'=cmd", "-1"]]


async def _noop(services) -> Table:
    return Table([], [])
