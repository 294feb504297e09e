"""Shared fixtures: an App on a fresh database (SQLite, and PostgreSQL when configured).

PostgreSQL tests run when CAMPUSBOT_TEST_POSTGRES_URL is set (CI sets it); without it they skip
with a visible reason, and under CI=true a skipped PostgreSQL test fails the run (see
pytest_terminal_summary / the hook below).
"""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from bot.app import App
from bot.config import DatabaseSettings, RolesSettings, Settings

PG_URL = os.environ.get("CAMPUSBOT_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", "postgres"]


class Clock:
    """A clock tests can move: link codes expire, weeks turn over."""

    def __init__(self, now: datetime | None = None):
        self.now = now or datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        from datetime import timedelta

        self.now += timedelta(**delta)


async def reset_postgres(url: str) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
        await conn.execute(sa.text("CREATE SCHEMA public"))
    await engine.dispose()


@pytest.fixture(params=BACKENDS)
async def db_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/campusbot.db"
    if not PG_URL:
        pytest.skip("PostgreSQL: set CAMPUSBOT_TEST_POSTGRES_URL to run this against it")
    await reset_postgres(PG_URL)
    return PG_URL


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path}/campusbot.db"


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make_settings(url: str, organisers: tuple[str, ...] = ("console:boss",),
                  **sections) -> Settings:
    settings = Settings(database=DatabaseSettings(url=url),
                        roles=RolesSettings(organisers=organisers))
    return replace(settings, **sections)


async def started_app(url: str, clock: Clock):
    application = App(make_settings(url), clock=clock)
    await application.start()
    yield application
    await application.close()


@pytest.fixture
async def app(db_url, clock):
    async for application in started_app(db_url, clock):
        yield application


@pytest.fixture
async def sqlite_app(sqlite_url, clock):
    async for application in started_app(sqlite_url, clock):
        yield application


def pytest_collection_modifyitems(config, items):
    """Under CI a PostgreSQL test must not skip quietly: make the missing URL an error."""
    if os.environ.get("CI") == "true" and not PG_URL:
        raise pytest.UsageError("CI=true but CAMPUSBOT_TEST_POSTGRES_URL is not set")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") == "true" and report.skipped and "postgres" in item.nodeid:
        report.outcome = "failed"
        report.longrepr = f"PostgreSQL test skipped under CI: {report.longrepr}"
