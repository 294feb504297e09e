"""`campusbot i18n extract|update|compile|check`: pybabel with campusbot's paths and options.

Run from a checkout (it reads babel.cfg and writes locales/). `check` fails when the template is
behind the code or a catalog is behind the template, as CI needs.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from babel.messages.frontend import CommandLineInterface

from bot.i18n import DOMAIN, compile_all
from bot.paths import locales_dir

ROOT = Path(__file__).resolve().parent.parent


def _pybabel(*args: str) -> int:
    try:
        CommandLineInterface().run(["pybabel", "-q", *args])
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def _extract(pot: Path) -> int:
    return _pybabel("extract", "-F", str(ROOT / "babel.cfg"), "-k", "N_", "-k", "ngettext:1,2",
                    "-k", "pgettext:1c,2", "--add-comments=TRANSLATORS:", "--no-location",
                    "--sort-output", "-w", "99", "--project=campusbot", "-o", str(pot),
                    str(ROOT / "bot"), str(ROOT / "adapters"))


def _messages(pot: Path) -> set[str]:
    from babel.messages.pofile import read_po

    with pot.open("rb") as fp:
        return {str(m.id) for m in read_po(fp) if m.id}


def run_i18n(action: str) -> int:
    pot = locales_dir() / f"{DOMAIN}.pot"
    if action == "extract":
        return _extract(pot)
    if action == "update":
        return _pybabel("update", "-i", str(pot), "-d", str(locales_dir()), "-D", DOMAIN,
                        "--no-fuzzy-matching", "--ignore-obsolete", "-w", "99")
    if action == "compile":
        for mo in compile_all():
            print(mo)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "fresh.pot"
        if _extract(fresh) != 0:
            return 1
        if _messages(fresh) != _messages(pot):
            print(f"{pot} is out of date: run `campusbot i18n extract` and `update`",
                  file=sys.stderr)
            return 1
    return _pybabel("update", "--check", "-i", str(pot), "-d", str(locales_dir()), "-D", DOMAIN,
                    "--no-fuzzy-matching", "--ignore-obsolete", "-w", "99")
