"""Where catalogs and migrations are: beside the package in a checkout, inside it in a wheel."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _data_dir(name: str) -> Path:
    installed = _PACKAGE / "_data" / name
    if installed.is_dir():
        return installed
    return _PACKAGE.parent / name


def locales_dir() -> Path:
    return _data_dir("locales")


def migrations_dir() -> Path:
    return _data_dir("migrations")
