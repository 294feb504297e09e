"""Alembic environment: campusbot passes in an open connection (see bot/storage/migrate.py).

Run standalone (`alembic -c migrations/alembic.ini …`) it opens its own async engine from the
configured URL.
"""

import asyncio

from alembic import context
from sqlalchemy.ext.asyncio import create_async_engine


def run(connection) -> None:
    context.configure(connection=connection, target_metadata=None, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


async def run_standalone() -> None:
    engine = create_async_engine(context.config.get_main_option("sqlalchemy.url"))
    async with engine.connect() as conn:
        await conn.run_sync(run)
        await conn.commit()
    await engine.dispose()


connection = context.config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    asyncio.run(run_standalone())
