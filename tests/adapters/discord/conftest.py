"""The real discord.py client of the adapter, against FakeDiscord, on a real core and SQLite.

Only the two class attributes the adapter itself sets (`Route.BASE` and
`DiscordWebSocket.DEFAULT_GATEWAY`) are touched; every test puts them back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import pytest_asyncio
from discord.gateway import DiscordWebSocket
from discord.http import Route

from adapters.discord.app import DiscordAdapter
from bot.app import App
from bot.config import DatabaseSettings, DiscordSettings, RolesSettings, Settings
from tests.fakes.discord_api import FakeDiscord

TOKEN = "fake-token"
GUILD_ID = 5000
CHANNEL_ID = 5001
ORGANISER_ROLE = 6001
ORGANISER_ID = 2001  # an organiser by config (roles.organisers)
MEMBER_ID = 3001
OTHER_ID = 3002
QUICK_READY = 0.05  # one small guild: no need to wait 2 s for more GUILD_CREATEs
GUILDS = [{
    "id": GUILD_ID, "name": "Campus", "preferred_locale": "en-US",
    "channels": [{"id": CHANNEL_ID, "name": "general", "type": 0}],
    "roles": [{"id": ORGANISER_ROLE, "name": "Campus team", "permissions": 0}],
}]


@pytest.fixture(autouse=True)
def _restore_discord_globals():
    base, gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    yield
    Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = base, gateway


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord(token=TOKEN, guilds=GUILDS)
    await server.start()
    yield server
    await server.stop()


def make_settings(tmp_path, fake: FakeDiscord, token: str = TOKEN, **discord_opts) -> Settings:
    discord_opts.setdefault("guild_ids", (GUILD_ID,))
    return Settings(
        database=DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path}/d.db"),
        roles=RolesSettings(organisers=(f"discord:{ORGANISER_ID}",)),
        discord=DiscordSettings(enabled=True, token=token, api_base_url=fake.api_base_url,
                                organiser_role_ids=(ORGANISER_ROLE,),
                                **discord_opts),
    )


@pytest_asyncio.fixture
async def app(tmp_path, fake) -> AsyncIterator[App]:
    core = App(make_settings(tmp_path, fake))
    await core.start()
    yield core
    await core.close()


Starter = Callable[..., Awaitable[DiscordAdapter]]


@pytest_asyncio.fixture
async def start_adapter(app) -> AsyncIterator[Starter]:
    """Start adapters on the shared app; all are stopped at the end of the test."""
    started: list[DiscordAdapter] = []

    async def start(core: App | None = None, **kwargs) -> DiscordAdapter:
        kwargs.setdefault("guild_ready_timeout", QUICK_READY)
        adapter = DiscordAdapter(core or app, **kwargs)
        await adapter.start()
        started.append(adapter)
        return adapter

    yield start
    for adapter in started:
        await adapter.stop()


@pytest_asyncio.fixture
async def bot(start_adapter, fake) -> DiscordAdapter:
    adapter = await start_adapter()
    await fake.wait_connected()
    return adapter
