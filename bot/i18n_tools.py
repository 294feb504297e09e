"""`campusbot i18n extract|update|compile|check`: pybabel with campusbot's paths and options.

Run from a checkout (it reads babel.cfg and writes locales/, or the folder `--locales` names).
`check` is what CI runs; it prints one line per problem and fails when
- a catalog cannot be read (`locales/zh_Hans/LC_MESSAGES/campusbot.po:12: <Babel's message>`),
- a message in any catalog is untranslated or fuzzy, or its translation drops or adds a
  `{placeholder}` (every catalog under locales/ counts, English too: tools/fill_en.py fills it),
- a catalog is behind the template (what `pybabel update --check` finds), or
- the template is behind the code.
"""

from __future__ import annotations

import io
import json
import string
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import PoFileError, read_po, write_po

from bot.i18n import DOMAIN, compile_all, compile_catalog
from bot.paths import locales_dir

ROOT = Path(__file__).resolve().parent.parent
WIDTH = "99"
UPDATE = "run `campusbot i18n update`"
EXTRACT = "run `campusbot i18n extract`, then `update`"


class CatalogError(Exception):
    """A catalog Babel could not read: the one line that says where and why."""


def _pybabel(*args: str) -> int:
    try:
        CommandLineInterface().run(["pybabel", "-q", *args])
    except SystemExit as exc:
        return int(exc.code or 0)
    except Exception as exc:  # Babel's BaseError, PoFileError, OSError …: one line, no traceback
        print(f"pybabel {args[0]}: {_first_line(exc)}", file=sys.stderr)
        return 1
    return 0


def _extract(pot: Path) -> int:
    return _pybabel("extract", "-F", str(ROOT / "babel.cfg"), "-k", "N_", "-k", "ngettext:1,2",
                    "-k", "pgettext:1c,2", "-k", "NC_:1c,2", "-k", "Plural:1,2",
                    "--add-comments=TRANSLATORS:", "--no-location", "--sort-output", "-w", WIDTH,
                    "--project=campusbot", "-o", str(pot), str(ROOT / "bot"),
                    str(ROOT / "adapters"))


def run_i18n(action: str, locales: Path | None = None) -> int:
    folder = locales or locales_dir()
    pot = folder / f"{DOMAIN}.pot"
    if action == "extract":
        return _extract(pot)
    if action == "update":
        return _pybabel("update", "-i", str(pot), "-d", str(folder), "-D", DOMAIN,
                        "--no-fuzzy-matching", "--ignore-obsolete", "-w", WIDTH)
    if action == "compile":
        return _compile(folder, default=locales is None)
    problems = check(folder)
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


def _compile(folder: Path, default: bool) -> int:
    unreadable = []
    for po in catalogs(folder):
        try:
            read_catalog(po)
        except CatalogError as exc:
            unreadable.append(str(exc))
    if unreadable:  # Babel would print warnings and compile what it could guess
        for problem in unreadable:
            print(problem, file=sys.stderr)
        return 1
    if default:
        written = compile_all()  # also drops the catalogs this process has cached
    else:
        written = []
        for po in catalogs(folder):
            compile_catalog(po, po.with_suffix(".mo"))
            written.append(po.with_suffix(".mo"))
    for mo in written:
        print(mo)
    return 0


# -- check ---------------------------------------------------------------------------------------


def catalogs(folder: Path) -> list[Path]:
    """Every catalog under the folder: each is enabled (the catalogs have no settings)."""
    return sorted(folder.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


def check(folder: Path) -> list[str]:
    """Every problem `campusbot i18n check` reports, one line each."""
    pot = folder / f"{DOMAIN}.pot"
    problems: list[str] = []
    template: Catalog | None = None
    try:
        template = read_catalog(pot)
    except CatalogError as exc:
        problems.append(str(exc))
    for po in catalogs(folder):
        shown = _shown(po)
        try:
            catalog = read_catalog(po, po.parent.parent.name)
        except CatalogError as exc:
            problems.append(str(exc))
            continue
        problems.extend(f"{shown}: {problem}" for problem in catalog_problems(catalog))
        if template is not None:
            problems.extend(f"{shown}: {problem}" for problem in _behind(po, template))
    if template is not None:
        problems.extend(_template_behind_code(pot, template))
    return problems


def read_catalog(path: Path, locale: str | None = None) -> Catalog:
    """The catalog, strictly: what Babel would only warn about is a CatalogError here."""
    try:
        with path.open("rb") as fp:
            return read_po(fp, locale=locale, domain=DOMAIN, abort_invalid=True)
    except PoFileError as exc:
        message = str(exc.args[0]) if exc.args else "cannot parse"
        suffix = f" on {exc.lineno}"  # Babel's own, 0-based, appended to the message
        if message.endswith(suffix):
            message = message[: -len(suffix)]
        line = exc.line.strip()
        where = f"{_shown(path)}:{exc.lineno + 1}"
        raise CatalogError(f"{where}: {message}" + (f" ({json.dumps(line, ensure_ascii=False)})"
                                                    if line else "")) from exc
    except Exception as exc:  # no such file, bad charset, bad Plural-Forms, unknown locale …
        raise CatalogError(f"{_shown(path)}: {_first_line(exc)}") from exc


def placeholders(text: str) -> set[str]:
    """The `{names}` str.format fills in `text` (ValueError when its braces are unbalanced)."""
    return {name for _literal, name, _spec, _conv in string.Formatter().parse(text)
            if name is not None}


def catalog_problems(catalog: Catalog) -> Iterator[str]:
    """Fuzzy, untranslated, or placeholders that differ from the msgid's, for each message."""
    for message in catalog:
        if message.id:
            yield from message_problems(message)


def message_problems(message: Message) -> Iterator[str]:
    ids = message.id if isinstance(message.id, (list, tuple)) else (message.id,)
    strings = message.string if isinstance(message.string, (list, tuple)) else (message.string,)
    shown = _quoted(message)
    if message.fuzzy:
        yield f"fuzzy: {shown}"
        return
    if not all(strings):
        yield f"untranslated: {shown}"
        return
    try:
        expected = set().union(*(placeholders(text) for text in ids))
    except ValueError:
        return  # the msgid is no format string, so nothing fills its translation either
    dropped: set[str] = set()
    added: set[str] = set()
    for text in strings:
        try:
            found = placeholders(text)
        except ValueError as exc:
            yield f"placeholders: {shown}: the translation is no format string ({exc})"
            return
        dropped |= expected - found
        added |= found - expected
    changes = [f"{verb} {_names(names)}" for verb, names in (("drops", dropped),
                                                             ("adds", added)) if names]
    if changes:
        yield f"placeholders: {shown}: the translation {' and '.join(changes)}"


def _behind(po: Path, template: Catalog) -> Iterator[str]:
    """What `pybabel update --check` (as `campusbot i18n update` runs it) finds, in memory and
    one line per message: update a copy, write and read it back, compare with the file."""
    with po.open("rb") as fp:
        working = read_po(fp, locale=po.parent.parent.name, domain=DOMAIN)
    working.update(template, no_fuzzy_matching=True, update_header_comment=False,
                   update_creation_date=True)
    buffer = io.BytesIO()
    write_po(buffer, working, ignore_obsolete=True, include_previous=False, width=int(WIDTH))
    buffer.seek(0)
    updated = read_po(buffer)
    with po.open("rb") as fp:
        original = read_po(fp)
    updated.revision_date = original.revision_date
    if updated.is_identical(original):
        return
    before, after = _by_key(original), _by_key(updated)
    problems = []
    for key in sorted(before.keys() | after.keys(), key=_sort_key):
        old, new = before.get(key), after.get(key)
        if old is None:
            problems.append(f"not in the catalog: {_quoted(new)} ({UPDATE})")
        elif new is None:
            problems.append(f"not in the template: {_quoted(old)} ({UPDATE})")
        else:
            differ = sorted(k for k in old.__dict__.keys() | new.__dict__.keys()
                            if k != "lineno" and old.__dict__.get(k) != new.__dict__.get(k))
            if differ:
                problems.append(f"out of date: {_quoted(old)} ({', '.join(differ)}; {UPDATE})")
    old_headers, new_headers = dict(original.mime_headers), dict(updated.mime_headers)
    headers = sorted(name for name in old_headers.keys() | new_headers.keys()
                     if old_headers.get(name) != new_headers.get(name))
    if headers:
        problems.append(f"header out of date: {', '.join(headers)} ({UPDATE})")
    # Only line numbers differ: same messages, another order or wrapping.
    yield from problems or [f"not laid out as `campusbot i18n update` writes it ({UPDATE})"]


def _template_behind_code(pot: Path, template: Catalog) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        fresh_pot = Path(tmp) / "fresh.pot"
        if _extract(fresh_pot) != 0:
            return [f"{_shown(pot)}: cannot extract the messages from the code"]
        try:
            fresh = read_catalog(fresh_pot)
        except CatalogError as exc:
            return [str(exc)]
    shown = _shown(pot)
    in_code, in_template = _by_key(fresh), _by_key(template)
    return ([f"{shown}: not in the template: {_quoted(in_code[k])} ({EXTRACT})"
             for k in sorted(in_code.keys() - in_template.keys(), key=_sort_key)]
            + [f"{shown}: no longer in the code: {_quoted(in_template[k])} ({EXTRACT})"
               for k in sorted(in_template.keys() - in_code.keys(), key=_sort_key)])


def _by_key(catalog: Catalog) -> dict[tuple[str, str | None], Message]:
    return {(_singular(m), m.context): m for m in catalog if m.id}


def _sort_key(key: tuple[str, str | None]) -> tuple[str, str]:
    return key[0], key[1] or ""


def _singular(message: Message) -> str:
    return str(message.id[0] if isinstance(message.id, (list, tuple)) else message.id)


def _quoted(message: Message | None) -> str:
    assert message is not None
    text = json.dumps(_singular(message), ensure_ascii=False)
    if message.context:
        text += f" (context {json.dumps(message.context, ensure_ascii=False)})"
    return text


def _names(names: Iterable[str]) -> str:
    return ", ".join("{" + name + "}" for name in sorted(names))


def _shown(path: Path) -> str:
    """Relative to the current folder when inside it, as a shell user would type it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
