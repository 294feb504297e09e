"""What the database benches share: where they run (a temporary SQLite file, or a PostgreSQL
database whose `public` schema they wipe) and how they read a latency percentile."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine


async def reset_postgres(url: str) -> None:
    """Drop and recreate the `public` schema: every run starts from an empty database."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
            await conn.execute(sa.text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def bench_database(postgres: str | None, name: str) -> AsyncIterator[tuple[str, str]]:
    """(backend, url): the PostgreSQL database given, emptied, or a fresh SQLite file that is
    deleted afterwards."""
    if postgres:
        await reset_postgres(postgres)
        yield "postgres", postgres
        return
    with tempfile.TemporaryDirectory(prefix=f"campusbot-{name}-bench-") as folder:
        yield "sqlite", f"sqlite+aiosqlite:///{Path(folder) / f'{name}.db'}"


def percentile(values: list[float], q: float) -> float:
    """The value below which a share `q` (0.5, 0.99) of `values` lies; 0 when there are none."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0
