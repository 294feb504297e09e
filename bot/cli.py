"""`campusbot …`: the one entry point, and the only module that imports adapters (lazily)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from bot.config import ConfigError, Settings, load_settings
from bot.csvfile import write_csv
from bot.errors import StartupError
from bot.model import Role
from bot.spec import ExportOpt, Registry

log = logging.getLogger("campusbot")
# The platforms whose token each command needs when that platform is enabled; the console,
# migrate and export talk to no platform. check-config validates for `run`.
NEED_TOKENS = {"run": ("telegram", "discord"), "check-config": ("telegram", "discord"),
               "discord-sync": ("discord",)}


def main(argv: Sequence[str] | None = None, registry: Registry | None = None) -> int:
    """`registry`: whose exports `campusbot export` offers (default: bot.commands.FEATURES')."""
    args = _parser(registry).parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if getattr(args, "verbose", False) else logging.INFO,
                        stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "apscheduler", "discord.gateway", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if args.command == "i18n":
        from bot.i18n_tools import run_i18n

        if args.locales:
            return run_i18n(args.action, Path(args.locales))
        return run_i18n(args.action)
    if args.command == "commands":
        return _commands(args)
    try:
        settings = load_settings(args.config, need_tokens=NEED_TOKENS.get(args.command, ()))
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr if args.command != "check-config" else sys.stdout)
        return 1
    try:
        return args.handler(args, settings)
    except StartupError as exc:  # the database or a platform refused: one line, no traceback
        print(str(exc), file=sys.stderr)
        return 1


def _parser(registry: Registry | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="campusbot", description="The creator campus bot.")
    parser.add_argument("--version", action="version", version=f"campusbot {version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, handler, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help)
        p.add_argument("--config", metavar="FILE",
                       help="TOML settings (default: ./config.toml if it exists)")
        p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
        p.set_defaults(handler=handler)
        return p

    add("run", _run, "start the enabled chat adapters")
    console = add("console", _console, "talk to the bot in this terminal")
    console.add_argument("--user", default="console", help="console account name")
    console.add_argument("--locale", help="language hint, like Telegram's language_code")
    console.add_argument("--role", choices=[r.code for r in Role],
                         help="role for this session (the terminal is trusted)")
    add("migrate", _migrate, "apply database migrations")
    add("check-config", _check_config, "validate the configuration")
    _add_exports(add("export", _export, "write a CSV export"), registry)
    add("discord-sync", _discord_sync, "force a Discord slash-command sync")
    commands = add("commands", None, "list the chat commands (reads no settings)")
    commands.add_argument("--markdown", action="store_true",
                          help="the reference in docs/commands.md, as Markdown")
    # The catalog tools read no settings; --config and -v are accepted like everywhere else.
    i18n = add("i18n", None, "translation catalogs")
    i18n.add_argument("action", choices=["extract", "update", "compile", "check"])
    i18n.add_argument("--locales", metavar="DIR",
                      help="the catalogs folder (default: the locales/ campusbot reads)")
    return parser


def version() -> str:
    """The installed distribution's version, or pyproject.toml's in a checkout never installed."""
    from importlib import metadata

    try:
        return metadata.version("campusbot")
    except metadata.PackageNotFoundError:
        import tomllib

        pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
        try:
            return tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"]
        except (OSError, KeyError, tomllib.TOMLDecodeError):
            return "unknown"


def _commands(args) -> int:
    from bot import reference
    from bot.commands import load_registry

    registry = load_registry()
    text = reference.markdown(registry) if args.markdown else reference.plain_text(registry)
    sys.stdout.write(text)
    return 0


def _console(args, settings: Settings) -> int:
    from adapters.console.app import run_console
    from bot.app import App

    role = Role.from_code(args.role) if args.role else None
    # The console is the core and the database only: any database error is the database's.
    with _database_errors(settings.database.url):
        _preflight(settings.database.url)
        app = App(settings)
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(run_console(app, args.user, args.locale, role, verbose=args.verbose))
    return 0


def _migrate(args, settings: Settings) -> int:
    from bot.storage import migrate
    from bot.storage.db import Database

    async def go() -> str | None:
        db = Database(settings.database.url)
        try:
            await migrate.upgrade(db)
            return await migrate.current_revision(db)
        finally:
            await db.dispose()

    with _database_errors(settings.database.url):
        _preflight(settings.database.url)
        revision = asyncio.run(go())
    print(f"database at revision {revision}")
    return 0


def _check_config(args, settings: Settings) -> int:
    print("ok")
    return 0


@contextlib.contextmanager
def _database_errors(url: str) -> Iterator[None]:
    """What the database raises in here becomes StartupError("database.url: …")."""
    from bot.storage.errors import describe_database_error, is_database_error

    try:
        yield
    except Exception as exc:
        if isinstance(exc, StartupError) or not is_database_error(exc):
            raise
        raise StartupError(describe_database_error(url, exc)) from exc


def _preflight(url: str) -> None:
    from bot.storage.errors import preflight

    problem = preflight(url)
    if problem:
        raise StartupError(problem)


async def _open_app(settings: Settings):
    """The started App, or StartupError saying why the database cannot be used.

    Only this part is read as the database's: an OSError from a chat platform later is not.
    """
    import sqlalchemy as sa

    from bot.app import App

    with _database_errors(settings.database.url):
        _preflight(settings.database.url)
        app = App(settings)
        try:
            await app.start()
            if not settings.database.migrate_on_start:  # nothing connected yet: try it now
                async with app.db.engine.connect() as conn:
                    await conn.execute(sa.text("SELECT 1"))
        except BaseException:
            await app.close()
            raise
    return app


def _run(args, settings: Settings) -> int:
    platforms = [name for name, section in (("telegram", settings.telegram),
                                            ("discord", settings.discord)) if section.enabled]
    if not platforms:
        print("nothing to run: set [telegram] enabled = true or [discord] enabled = true "
              "(or try `campusbot console`)", file=sys.stderr)
        return 1

    async def go() -> None:
        app = await _open_app(settings)
        try:
            await app.start_scheduler()  # what came due while down is queued for the adapters
            await _serve_all(app, platforms)
        finally:
            await app.close()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(go())
    return 0


async def _serve_all(app, platforms: list[str]) -> None:
    """Every adapter until all end; the first failure stops the others (each closes what it
    opened) and is raised once they have."""
    tasks = [asyncio.create_task(_adapter(name).serve(app), name=f"serve-{name}")
             for name in platforms]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    finally:
        for task in tasks:
            task.cancel()
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException) and not isinstance(outcome,
                                                                 asyncio.CancelledError):
            raise outcome


def _adapter(name: str):
    if name == "telegram":
        from adapters.telegram import app as module
    else:
        from adapters.discord import app as module
    return module


def _discord_sync(args, settings: Settings) -> int:
    if not settings.discord.token:
        print("discord.token: set CAMPUSBOT_DISCORD__TOKEN", file=sys.stderr)
        return 1

    async def go() -> None:
        app = await _open_app(settings)
        try:
            await _adapter("discord").sync_now(app)
        finally:
            await app.close()

    asyncio.run(go())
    return 0


def _add_exports(export: argparse.ArgumentParser, registry: Registry | None) -> None:
    """A subparser per registered export kind, with that kind's own options and --out."""
    if registry is None:
        from bot.commands import load_registry

        registry = load_registry()
    kinds = export.add_subparsers(dest="kind", metavar="KIND", required=True,
                                  help=", ".join(registry.exports))
    for spec in registry.exports.values():
        p = kinds.add_parser(spec.kind, help=spec.help, description=spec.help)
        # Also accepted after the kind; SUPPRESS keeps a value given before it.
        p.add_argument("--config", metavar="FILE", default=argparse.SUPPRESS,
                       help="TOML settings (default: ./config.toml if it exists)")
        p.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                       help="debug logging")
        for option in spec.options:
            # Typed by _export, to say which format it wants (argparse would print "invalid
            # fromisoformat value") before the database is opened.
            p.add_argument(option.flag, dest=_dest(option), metavar=option.metavar,
                           required=option.required, help=option.help)
        p.add_argument("--out", metavar="FILE", help="default: standard output")
        p.set_defaults(export=spec)


def _dest(option: ExportOpt) -> str:
    return "export_" + option.name


def _export(args, settings: Settings) -> int:
    spec = args.export
    try:
        values = {o.name: o.parse(getattr(args, _dest(o))) for o in spec.options}
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2  # a usage error, like argparse's own

    async def rows():
        app = await _open_app(settings)
        try:
            return await spec.run(app.services, **values)
        finally:
            await app.close()

    with _database_errors(settings.database.url):  # export talks to nothing else
        table = asyncio.run(rows())
    if not args.out:
        write_csv(sys.stdout, table.header, table.rows)
        return 0
    with Path(args.out).open("w", newline="", encoding="utf-8") as out:
        write_csv(out, table.header, table.rows)
    print(args.out, file=sys.stderr)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
