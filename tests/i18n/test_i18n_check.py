"""`campusbot i18n check --locales DIR`: one line per problem, never a traceback.

Each test runs the CLI on a copy of locales/ made complete first (extracted from the code,
updated, every msgstr filled in), so the only problems are the ones the test puts there.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po, write_po

from bot.i18n_tools import placeholders, run_i18n
from bot.paths import locales_dir

ZH = Path("locales/zh_Hans/LC_MESSAGES/campusbot.po")
EN = Path("locales/en/LC_MESSAGES/campusbot.po")
UPDATE = "(run `campusbot i18n update`)"


def read(po: Path) -> Catalog:
    with po.open("rb") as fp:
        return read_po(fp, locale=po.parent.parent.name)


def write(po: Path, catalog: Catalog) -> None:
    with po.open("wb") as fp:  # as `campusbot i18n update` writes it
        write_po(fp, catalog, width=99, ignore_obsolete=True)


def edit(po: Path, change: Callable[[Catalog], None]) -> None:
    catalog = read(po)
    change(catalog)
    write(po, catalog)


@pytest.fixture(scope="module")
def complete(tmp_path_factory) -> Path:
    """locales/ with a template fresh from the code and every message translated."""
    folder = tmp_path_factory.mktemp("complete") / "locales"
    shutil.copytree(locales_dir(), folder, ignore=shutil.ignore_patterns("*.mo"))
    assert run_i18n("extract", folder) == 0
    assert run_i18n("update", folder) == 0
    for po in folder.glob("*/LC_MESSAGES/campusbot.po"):
        def fill(catalog: Catalog) -> None:
            for message in catalog:
                if not message.id:
                    continue
                if isinstance(message.id, (list, tuple)):
                    ids = list(message.id)
                    message.string = tuple(ids[min(i, len(ids) - 1)]
                                           for i in range(catalog.num_plurals))
                else:
                    message.string = message.id
                message.flags.discard("fuzzy")
        edit(po, fill)
    return folder


@pytest.fixture
def here(tmp_path, complete) -> Path:
    """A folder holding a fresh copy of the complete locales/, to run the CLI in."""
    shutil.copytree(complete, tmp_path / "locales")
    return tmp_path


def check(cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAMPUSBOT_")}
    result = subprocess.run([sys.executable, "-m", "bot", "i18n", "check", "--locales",
                             "locales"], capture_output=True, text=True, cwd=cwd, env=env,
                            timeout=120)
    assert "Traceback" not in result.stderr and "WARNING" not in result.stdout + result.stderr
    return result


def singles(catalog: Catalog, with_placeholders: bool) -> list[Message]:
    """Messages with one form and (or without) placeholders, in catalog order."""
    return [m for m in catalog if m.id and isinstance(m.id, str)
            and bool(placeholders(m.id)) == with_placeholders]


def quoted(message: Message) -> str:
    return json.dumps(message.id, ensure_ascii=False)


def test_a_complete_copy_passes(here):
    result = check(here)
    assert (result.returncode, result.stderr) == (0, "")


def test_a_po_syntax_error_is_one_line(here):
    po = here / ZH
    lines = po.read_text(encoding="utf-8").splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith("msgid ") and i > 5)
    lines.insert(at, "this is not po\n")
    po.write_text("".join(lines), encoding="utf-8")
    result = check(here)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f'{ZH}:{at + 1}: Unknown or misformatted keyword ("this is not po")']


def test_fuzzy_untranslated_and_placeholders_one_line_each(here):
    zh = read(here / ZH)
    plain, other_plain = singles(zh, with_placeholders=False)[:2]
    formatted, other_formatted = singles(zh, with_placeholders=True)[:2]
    dropped = sorted(placeholders(formatted.id))[0]
    english = singles(read(here / EN), with_placeholders=False)[0]

    def spoil(catalog: Catalog) -> None:
        catalog[plain.id].flags.add("fuzzy")
        catalog[other_plain.id].string = ""
        catalog[formatted.id].string = formatted.id.replace("{" + dropped + "}", "")
        catalog[other_formatted.id].string = other_formatted.id + " {extra}"

    edit(here / ZH, spoil)
    edit(here / EN, lambda catalog: setattr(catalog[english.id], "string", ""))
    result = check(here)
    assert result.returncode == 1
    expected = [
        f"{EN}: untranslated: {quoted(english)}",  # English counts too
        f"{ZH}: fuzzy: {quoted(plain)}",
        f"{ZH}: untranslated: {quoted(other_plain)}",
        f"{ZH}: placeholders: {quoted(formatted)}: the translation drops {{{dropped}}}",
        f"{ZH}: placeholders: {quoted(other_formatted)}: the translation adds {{extra}}",
    ]
    assert sorted(result.stderr.splitlines()) == sorted(expected)
    assert result.stderr.splitlines()[0] == expected[0]  # catalogs in order, en first


def test_a_plural_translation_must_keep_the_placeholders(here):
    zh = read(here / ZH)
    plural = next(m for m in zh if isinstance(m.id, (list, tuple)) and placeholders(m.id[0]))
    names = sorted(placeholders(plural.id[0]) | placeholders(plural.id[1]))
    edit(here / ZH, lambda c: setattr(c[plural.id], "string", ("no numbers here",)))
    result = check(here)
    assert result.stderr.splitlines() == [
        f"{ZH}: placeholders: {json.dumps(plural.id[0], ensure_ascii=False)}: the translation "
        f"drops {', '.join('{' + n + '}' for n in names)}"]


def test_a_catalog_behind_the_template(here):
    zh = read(here / ZH)
    gone = singles(zh, with_placeholders=False)[0]

    def drift(catalog: Catalog) -> None:
        catalog.delete(gone.id)
        catalog.add("A message the code never had", "从未有过的消息")

    edit(here / ZH, drift)
    result = check(here)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f'{ZH}: not in the catalog: {quoted(gone)} {UPDATE}',
        f'{ZH}: not in the template: "A message the code never had" {UPDATE}',
    ]


def test_an_unreadable_catalog_is_one_line(here):
    po = here / EN
    text = po.read_text(encoding="utf-8")
    po.write_text(text.replace("Plural-Forms: nplurals=2;", "Plural-Forms: nplurals=two;"),
                  encoding="utf-8")
    result = check(here)
    assert result.returncode == 1
    [line] = result.stderr.splitlines()  # Babel's message, where it found the problem
    assert line.startswith(f"{EN}:") and "'two'" in line


def test_placeholders():
    assert placeholders("{n} points for {name!r} at {when:%H:%M}") == {"n", "name", "when"}
    assert placeholders("{{literal}} braces") == set()
    with pytest.raises(ValueError):
        placeholders("unbalanced {")
