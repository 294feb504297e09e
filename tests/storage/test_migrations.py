"""The schema is built only by migrations, from empty, on both backends, and matches the code."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bot.storage import migrate
from bot.storage.db import Database
from bot.storage.schema import metadata


async def test_migrations_build_the_schema_the_code_expects(db_url):
    db = Database(db_url)
    try:
        await migrate.upgrade(db)
        await migrate.upgrade(db)  # a second run is a no-op
        assert await migrate.current_revision(db) == migrate.head_revision()

        def diff(sync_conn):
            context = MigrationContext.configure(sync_conn, opts={"compare_type": True})
            return compare_metadata(context, metadata)

        async with db.engine.connect() as conn:
            differences = await conn.run_sync(diff)
        assert differences == []
    finally:
        await db.dispose()


async def test_sqlite_connections_use_wal_and_foreign_keys(sqlite_url):
    db = Database(sqlite_url)
    try:
        async with db.read() as conn:
            mode = (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar()
            fks = (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar()
            timeout = (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar()
        assert (mode, fks) == ("wal", 1) and timeout >= 5000
    finally:
        await db.dispose()
