"""The console saves attachments under ./data/out/, never over an earlier file, and prints
their paths: a reply's and a notice's alike."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor

import pytest

from adapters.console import app as console_app
from adapters.console.app import ConsoleSession
from adapters.console.render import render, render_notice, save_file
from bot.csvfile import csv_attachment
from bot.delivery import SENT, Recipient
from bot.reply import Attachment, Reply, Text
from bot.spec import Table


def _reply(text: str, *attachments: Attachment) -> Reply:
    return Text().add(text).reply(attachments=attachments)


def test_a_second_file_of_the_same_name_gets_its_own(tmp_path):
    out = tmp_path / "out"
    first = render(_reply("Here.", Attachment("ledger.csv", b"one")), out)
    second = render(_reply("Here.", Attachment("ledger.csv", b"two")), out)
    assert first.splitlines() == ["Here.", str(out / "ledger.csv")]
    assert second.splitlines() == ["Here.", str(out / "ledger-2.csv")]
    assert (out / "ledger.csv").read_bytes() == b"one"
    assert (out / "ledger-2.csv").read_bytes() == b"two"
    third = render(Reply(attachments=(Attachment("ledger.csv", b"three"),)), out)
    assert third == str(out / "ledger-3.csv")


def test_a_file_name_never_leaves_the_folder(tmp_path):
    out = tmp_path / "a" / "out"
    assert save_file(out, "../../evil.csv", b"x") == out / "evil.csv"
    assert save_file(out, "..\\evil.csv", b"y") == out / "evil-2.csv"
    assert save_file(out, "..", b"z") == out / "attachment"
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == [
        "attachment", "evil-2.csv", "evil.csv"]


def test_files_saved_at_once_each_get_a_name(tmp_path):
    with ThreadPoolExecutor(8) as pool:
        paths = list(pool.map(lambda n: save_file(tmp_path, "x.csv", str(n).encode()),
                              range(40)))
    assert len(set(paths)) == 40
    assert sorted(int(p.read_bytes()) for p in paths) == list(range(40))


def test_a_notice_prints_and_saves_its_attachments(tmp_path):
    table = Table(["name"], [["Ann"]])
    notice = _reply("Your export is ready.", csv_attachment(table, "members.csv"))
    shown = render_notice("boss", notice, tmp_path)
    assert shown.splitlines() == ["[to boss] Your export is ready.",
                                  f"[to boss] {tmp_path / 'members.csv'}"]
    assert (tmp_path / "members.csv").read_bytes() == b"\xef\xbb\xbfname\r\nAnn\r\n"


@pytest.fixture
def out_dir(tmp_path, monkeypatch):
    path = tmp_path / "data" / "out"
    monkeypatch.setattr(console_app, "OUT_DIR", path)
    return path


async def test_the_consoles_deliverer_keeps_a_notices_attachment(sqlite_app, out_dir):
    out = io.StringIO()
    session = ConsoleSession(sqlite_app, "boss", out=out)
    await session.start()
    before = out.getvalue()
    recipient = Recipient(member_id=None, account=None, chat_ref="boss", locale="en",
                          timezone="UTC")
    for data in (b"first", b"second"):
        notice = _reply("Attached.", Attachment("report.csv", data))
        assert await session._print_notice(recipient, notice) == SENT  # the Deliverer's send
    printed = out.getvalue()[len(before):].splitlines()
    assert [line for line in printed if line] == [
        "[to boss] Attached.", f"[to boss] {out_dir / 'report.csv'}",
        "[to boss] Attached.", f"[to boss] {out_dir / 'report-2.csv'}"]
    assert (out_dir / "report.csv").read_bytes() == b"first"
    assert (out_dir / "report-2.csv").read_bytes() == b"second"
