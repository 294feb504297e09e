"""Feature tests drive the real console adapter: the same path a terminal user takes."""

from __future__ import annotations

import io

import pytest

from adapters.console.app import ConsoleSession
from bot.model import Role


class Terminal:
    """Several console users on one App; `say` returns what that user's terminal printed."""

    def __init__(self, app):
        self.app = app
        self.sessions: dict[tuple, tuple[ConsoleSession, io.StringIO]] = {}

    async def session(self, user: str, role: Role | None = None, locale: str | None = None):
        key = (user, role, locale)
        if key not in self.sessions:
            out = io.StringIO()
            session = ConsoleSession(self.app, user, locale, role, out=out)
            await session.start()
            self.sessions[key] = (session, out)
        return self.sessions[key]

    async def say(self, user: str, line: str, role: Role | None = None,
                  locale: str | None = None) -> str:
        session, out = await self.session(user, role, locale)
        start = out.tell()
        await session.handle_line(line)
        return out.getvalue()[start:].strip("\n")

    async def opened(self, user: str, role: Role | None = None, locale: str | None = None) -> str:
        """What a fresh console session for `user` prints before any command."""
        self.sessions.pop((user, role, locale), None)
        _session, out = await self.session(user, role, locale)
        return out.getvalue().strip("\n")


@pytest.fixture
def term(app) -> Terminal:
    return Terminal(app)


@pytest.fixture
def term_sqlite(sqlite_app) -> Terminal:
    return Terminal(sqlite_app)


ORG = Role.ORGANISER
