"""Apply the Alembic migrations in `migrations/` to the configured database."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from bot.paths import migrations_dir
from bot.storage.db import Database


def _config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.set_main_option("sqlalchemy.url", url)
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_config("sqlite://")).get_current_head()


async def upgrade(db: Database) -> None:
    """Bring the schema to the newest revision; a no-op when it is there already."""
    config = _config(db.url)

    def run(sync_conn) -> None:
        config.attributes["connection"] = sync_conn
        command.upgrade(config, "head")

    async with db.engine.begin() as conn:
        await conn.run_sync(run)


async def current_revision(db: Database) -> str | None:
    from alembic.runtime.migration import MigrationContext

    async with db.engine.connect() as conn:
        return await conn.run_sync(
            lambda sync_conn: MigrationContext.configure(sync_conn).get_current_revision()
        )
