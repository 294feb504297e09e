"""The one line an operator sees when the configured database cannot be used.

`describe_database_error(url, exc)` turns what SQLAlchemy, asyncpg, sqlite3, Alembic or the OS
raised while opening (or migrating) the database into `database.url: what is wrong (why)`;
`bot.cli` prints it instead of a traceback. `preflight(url)` runs first: it reads the URL, and
opens an SQLite file once with the plain sqlite3 module before the engine does (a failed
aiosqlite connect leaves a worker thread that may report to an event loop already closed, which
prints a traceback of its own).
"""

from __future__ import annotations

import os
import socket
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from bot.errors import first_line as _first_line
from bot.errors import os_reason

KEY = "database.url"
DEFAULT_PG_PORT = 5432
# SQLSTATE codes (https://www.postgresql.org/docs/current/errcodes-appendix.html).
NO_DATABASE = "3D000"
BAD_PASSWORD = "28P01"
NOT_AUTHORISED = "28000"
NO_PRIVILEGE = "42501"
NO_TABLE = "42P01"
_NOT_NOW = ("57P03", "53300", "08")  # starting up / too many connections / connection class
_DRIVERS = ("asyncpg", "aiosqlite")


def is_database_error(exc: BaseException) -> bool:
    """Whether `exc`, raised while opening the database, is the database's (not a bug)."""
    from alembic.util import CommandError

    if isinstance(exc, ImportError):
        return exc.name in _DRIVERS
    if isinstance(exc, SQLAlchemyError | OSError | sqlite3.Error | CommandError):
        return True
    return _sqlstate(exc) is not None  # an asyncpg error SQLAlchemy did not wrap


def describe_database_error(url: str, exc: BaseException) -> str:
    """`database.url: …`, one line, never the password."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as bad:
        return f"{KEY}: not a database URL ({_first_line(bad)})"
    if isinstance(exc, ArgumentError):
        return f"{KEY}: not a usable database URL ({_first_line(exc)})"
    if parsed.get_backend_name() == "sqlite":
        return _describe_sqlite(parsed, exc)
    if parsed.get_backend_name() == "postgresql":
        return _describe_postgres(parsed, exc)
    return f"{KEY}: cannot use the database at {_shown(parsed)} ({_reason(exc)})"


def preflight(url: str) -> str | None:
    """Before the engine: the URL must parse, and an SQLite file must open (its folder is
    created, as the engine does). The line saying what failed, or None."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:
        return describe_database_error(url, exc)
    database = parsed.database
    if (parsed.get_backend_name() != "sqlite" or not database or database == ":memory:"
            or parsed.query.get("uri")):
        return None
    path = Path(database)
    where = f"{KEY}: cannot open the SQLite database at {os.path.abspath(path)}"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError as exc:
        return f"{where} ({exc.filename or path.parent} is a file, not a folder)"
    except OSError as exc:
        return f"{where} (cannot create the folder {exc.filename or path.parent}: " \
               f"{os_reason(exc)})"
    try:
        conn = sqlite3.connect(path)
        try:
            conn.execute("PRAGMA schema_version")  # reads the header: "file is not a database"
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return f"{where} ({_sqlite_reason(path, exc)})"
    return None




def _describe_sqlite(parsed: URL, exc: BaseException) -> str:
    database = parsed.database or ":memory:"
    path = Path(database)
    shown = database if database == ":memory:" else os.path.abspath(path)
    where = f"{KEY}: cannot open the SQLite database at {shown}"
    if isinstance(exc, ImportError):
        return f"{KEY}: SQLite needs the aiosqlite driver (pip install aiosqlite)"
    if _is_migration_error(exc):
        return f"{KEY}: cannot migrate the SQLite database at {shown} ({_first_line(exc)})"
    original = _sqlite_error(exc)
    if original is not None and str(original).startswith("no such table"):
        return f"{KEY}: the SQLite database at {shown} is not migrated ({original}): run " \
               "`campusbot migrate`"
    if original is not None:
        return f"{where} ({_sqlite_reason(path, original)})"
    if isinstance(exc, OSError):
        filename = f"{exc.filename}: " if exc.filename else ""
        return f"{where} ({filename}{os_reason(exc)})"
    return f"{where} ({_reason(exc)})"


def _sqlite_reason(path: Path, exc: BaseException) -> str:
    text = _first_line(exc)
    if text != "unable to open database file":
        return text
    # SQLite says only this; say which part of the path is wrong.
    if path.is_dir():
        return f"{text}: it is a folder"
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        return f"{text}: {os.path.abspath(parent)} is not a folder"
    if not os.access(parent, os.W_OK):
        return f"{text}: the folder {os.path.abspath(parent)} is not writable"
    return text


def _describe_postgres(parsed: URL, exc: BaseException) -> str:
    host = parsed.host or "localhost"
    where = f"{host}:{parsed.port or DEFAULT_PG_PORT}"
    user = parsed.username or "(default)"
    if isinstance(exc, ImportError):
        return f"{KEY}: PostgreSQL needs the asyncpg driver (pip install 'campusbot[postgres]')"
    if _is_migration_error(exc):
        return f"{KEY}: cannot migrate the PostgreSQL database at {where} ({_first_line(exc)})"
    found = _sqlstate(exc)
    if found is not None:
        code, error = found
        message = _first_line(error)
        if code == NO_DATABASE:
            return f'{KEY}: PostgreSQL has no database "{parsed.database}" (create it with ' \
                   "createdb)"
        if code == BAD_PASSWORD:
            return f'{KEY}: PostgreSQL at {where} refused the password of user "{user}"'
        if code == NOT_AUTHORISED:
            return f"{KEY}: PostgreSQL at {where} refused the connection ({message})"
        if code == NO_TABLE:
            return f'{KEY}: the PostgreSQL database "{parsed.database}" is not migrated ' \
                   f"({message}): run `campusbot migrate`"
        if code == NO_PRIVILEGE:
            return f'{KEY}: PostgreSQL user "{user}" lacks a permission ({message})'
        if code.startswith(_NOT_NOW):
            return f"{KEY}: PostgreSQL at {where} is not accepting connections ({message})"
        return f"{KEY}: PostgreSQL at {where} failed: {message} (SQLSTATE {code})"
    for error in _chain(exc):
        if isinstance(error, socket.gaierror):
            return f"{KEY}: PostgreSQL host {host} is not known ({os_reason(error)})"
        if isinstance(error, OSError):
            return f"{KEY}: PostgreSQL at {where} is not reachable ({os_reason(error)})"
    return f"{KEY}: cannot use PostgreSQL at {where} ({_reason(exc)})"


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """`exc`, what SQLAlchemy wrapped (`.orig`) and the causes, each once."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        error = todo.pop(0)
        if id(error) in seen:
            continue
        seen.add(id(error))
        yield error
        todo.extend(e for e in (getattr(error, "orig", None), error.__cause__,
                                error.__context__) if isinstance(e, BaseException))


def _sqlstate(exc: BaseException) -> tuple[str, BaseException] | None:
    for error in _chain(exc):
        code = getattr(error, "sqlstate", None)
        if isinstance(code, str) and code:
            return code, error
    return None


def _sqlite_error(exc: BaseException) -> sqlite3.Error | None:
    return next((e for e in _chain(exc) if isinstance(e, sqlite3.Error)), None)


def _is_migration_error(exc: BaseException) -> bool:
    from alembic.util import CommandError

    return isinstance(exc, CommandError)


def _reason(exc: BaseException) -> str:
    """The driver's own message when SQLAlchemy wrapped one, without SQLAlchemy's link."""
    for error in _chain(exc):
        if not isinstance(error, SQLAlchemyError):
            return _first_line(error) if not isinstance(error, OSError) else os_reason(error)
    return _first_line(exc)


def _shown(parsed: URL) -> str:
    return parsed.render_as_string(hide_password=True)





