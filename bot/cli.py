"""`campusbot …`: the one entry point, and the only module that imports adapters (lazily)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

from bot.config import ConfigError, Settings, load_settings
from bot.csvfile import write_csv
from bot.errors import StartupError
from bot.model import Role

log = logging.getLogger("campusbot")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if getattr(args, "verbose", False) else logging.INFO,
                        stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "apscheduler", "discord.gateway", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if args.command == "i18n":
        from bot.i18n_tools import run_i18n

        return run_i18n(args.action)
    if args.command == "commands":
        return _commands(args)
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr if args.command != "check-config" else sys.stdout)
        return 1
    return args.handler(args, settings)


def _parser() -> argparse.ArgumentParser:
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
    export = add("export", _export, "write a CSV export")
    export.add_argument("kind", choices=["ledger", "members"])
    export.add_argument("--since", type=date.fromisoformat, help="YYYY-MM-DD")
    export.add_argument("--out", metavar="FILE", help="default: standard output")
    add("discord-sync", _discord_sync, "force a Discord slash-command sync")
    commands = add("commands", None, "list the chat commands (reads no settings)")
    commands.add_argument("--markdown", action="store_true",
                          help="the reference in docs/commands.md, as Markdown")
    # The catalog tools read no settings; --config and -v are accepted like everywhere else.
    i18n = add("i18n", None, "translation catalogs")
    i18n.add_argument("action", choices=["extract", "update", "compile", "check"])
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
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_console(App(settings), args.user, args.locale, role))
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

    print(f"database at revision {asyncio.run(go())}")
    return 0


def _check_config(args, settings: Settings) -> int:
    print("ok")
    return 0


def _run(args, settings: Settings) -> int:
    from bot.app import App

    platforms = [name for name, section in (("telegram", settings.telegram),
                                            ("discord", settings.discord)) if section.enabled]
    if not platforms:
        print("nothing to run: set [telegram] enabled = true or [discord] enabled = true "
              "(or try `campusbot console`)", file=sys.stderr)
        return 1

    async def go() -> int:
        app = App(settings)
        await app.start()
        try:
            servers = [_adapter(name).serve(app) for name in platforms]
            await asyncio.gather(*servers)
        except StartupError as exc:
            print(str(exc), file=sys.stderr)
            return 1
        finally:
            await app.close()
        return 0

    try:
        return asyncio.run(go())
    except KeyboardInterrupt:
        return 0


def _adapter(name: str):
    if name == "telegram":
        from adapters.telegram import app as module
    else:
        from adapters.discord import app as module
    return module


def _discord_sync(args, settings: Settings) -> int:
    from bot.app import App

    if not settings.discord.token:
        print("discord.token: set CAMPUSBOT_DISCORD__TOKEN", file=sys.stderr)
        return 1

    async def go() -> int:
        app = App(settings)
        await app.start()
        try:
            await _adapter("discord").sync_now(app)
        except StartupError as exc:
            print(str(exc), file=sys.stderr)
            return 1
        finally:
            await app.close()
        return 0

    return asyncio.run(go())


def _export(args, settings: Settings) -> int:
    from bot.app import App
    from bot.storage import ledger, members

    async def rows() -> tuple[list[str], list[list]]:
        app = App(settings)
        await app.start()
        try:
            async with app.db.read() as conn:
                if args.kind == "ledger":
                    since = (datetime.combine(args.since, datetime.min.time(), UTC)
                             if args.since else None)
                    entries = await ledger.entries_since(conn, since)
                    return (["id", "member_id", "amount", "kind", "reason", "ref", "actor",
                             "created_at"],
                            [[e.id, e.member_id, e.amount, e.kind, e.reason, e.ref,
                              e.actor_member_id, e.created_at.isoformat()]
                             for e in entries])
                found = await members.all_members(conn)
                return (["id", "display_name", "role", "balance", "earned", "locale"],
                        [[m.id, m.display_name, m.role, m.balance, m.earned, m.locale]
                         for m in found])
        finally:
            await app.close()

    header, body = asyncio.run(rows())
    if not args.out:
        write_csv(sys.stdout, header, body)
        return 0
    with Path(args.out).open("w", newline="", encoding="utf-8") as out:
        write_csv(out, header, body)
    print(args.out, file=sys.stderr)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
