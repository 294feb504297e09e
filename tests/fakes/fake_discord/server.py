"""FakeDiscord, the object the tests create: it assembles the parts and serves them.

Why: a test needs one object to start on a port, configure, drive and inspect. The behaviour
lives in the role mixins of this package; this module holds the constructor (which creates
every attribute the mixins share), the aiohttp application and its URLs, and the waiting and
summary helpers built on one ``asyncio.Condition``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from aiohttp import web

from .commands import CommandsMixin, SyncRecord
from .gateway import GatewayMixin, _Connection, _Session
from .injection import InjectionMixin
from .interactions import FakeInteraction, InteractionsMixin
from .messages import FakeAttachment, FakeEdit, FakeMessage, MessagesMixin
from .protocol import API_PREFIX, DEFAULT_USER_ID, JSON, PRIVILEGED_INTENTS, SnowflakeFactory
from .rest import FakeRequest, InjectedFailure, RestMixin
from .state import StateMixin, _Guild

T = TypeVar("T")


class FakeDiscord(
    StateMixin,
    MessagesMixin,
    CommandsMixin,
    InjectionMixin,
    InteractionsMixin,
    GatewayMixin,
    RestMixin,
):
    """Discord's REST API and gateway on 127.0.0.1, for discord.py to connect to.

    ``guilds`` takes minimal dicts: ``{"id", "name", "preferred_locale", "owner_id",
    "channels": [{"id", "name", "type"}], "roles": [{"id", "name", "permissions"}],
    "members": [{"id", "username", "roles"}]}``; missing fields get Discord's defaults and an
    ``@everyone`` role whose id is the guild id.

    Its public API, by the module that implements it: ``add_user``, ``add_member``,
    ``close_dms``, ``open_dms`` and ``dm_channel_id`` (state); ``messages``, ``edits``,
    ``channel_messages`` and ``dm_messages`` (messages); ``commands``, ``syncs`` and
    ``sync_count`` (commands); ``slash``, ``autocomplete``, ``press`` and ``submit_modal``
    (injection); ``interactions`` and ``interaction`` (interactions); ``dispatch_event``,
    ``drop_connections``, ``live_connections`` and ``wait_connected`` (gateway);
    ``fail_next`` and ``requests`` (rest); ``start``, ``stop``, the URLs, ``wait_for`` and
    ``summary`` (here).
    """

    def __init__(
        self,
        token: str = "fake-token",
        application_id: int = 1000,
        bot_user_id: int | None = None,
        guilds: Sequence[Mapping[str, Any]] = (),
        *,
        bot_username: str = "CampusBot",
        application_name: str = "CampusBot",
        host: str = "127.0.0.1",
        port: int = 0,
        ack_deadline: float = 3.0,
        token_lifetime: float = 900.0,
        heartbeat_interval_ms: int = 41250,
        recommended_shards: int = 1,
        privileged_intents: Iterable[str] = (),
        require_registered_commands: bool = True,
        compress: bool = True,
    ) -> None:
        self.token = token
        self.application_id = application_id
        self.bot_user_id = bot_user_id if bot_user_id is not None else application_id
        self.host = host
        self.ack_deadline = ack_deadline
        self.token_lifetime = token_lifetime
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.recommended_shards = recommended_shards
        self.privileged_intents = frozenset(privileged_intents)
        unknown = self.privileged_intents - PRIVILEGED_INTENTS.keys()
        if unknown:
            raise ValueError(f"unknown privileged intents: {sorted(unknown)}")
        self.require_registered_commands = require_registered_commands
        self.compress = compress
        self.application_name = application_name
        self.snowflakes = SnowflakeFactory()
        self._port = port
        self._runner: web.AppRunner | None = None
        self._cond = asyncio.Condition()

        self.bot_user: JSON = {
            "id": str(self.bot_user_id),
            "username": bot_username,
            "discriminator": "0",
            "global_name": None,
            "avatar": None,
            "bot": True,
            "system": False,
            "verified": True,
            "mfa_enabled": False,
            "flags": 0,
            "public_flags": 0,
            "locale": "en-US",
            "email": None,
            "banner": None,
            "accent_color": None,
        }
        self.owner_user: JSON = self._user_json(DEFAULT_USER_ID - 1, "campus-owner")
        self._users: dict[int, JSON] = {self.bot_user_id: self.bot_user}
        self._guilds: dict[int, _Guild] = {}
        for raw in guilds:
            guild = self._normalize_guild(raw)
            self._guilds[guild.id] = guild
        self._dm_channels: dict[int, int] = {}  # user id -> DM channel id
        self._closed_dms: set[int] = set()
        self._commands: dict[int | None, list[JSON]] = {}
        self._interactions_by_id: dict[int, FakeInteraction] = {}
        self._interactions_by_token: dict[str, FakeInteraction] = {}
        self._attachments: dict[int, FakeAttachment] = {}
        self._failures: list[InjectedFailure] = []
        self._sessions: dict[str, _Session] = {}
        self._connections: list[_Connection] = []

        self.messages: list[FakeMessage] = []
        self.edits: list[FakeEdit] = []
        self.requests: list[FakeRequest] = []
        self.unknown_routes: list[FakeRequest] = []
        self.interactions: list[FakeInteraction] = []
        self.syncs: list[SyncRecord] = []
        self.gateway_sent: list[tuple[str, JSON]] = []  # (session id, payload)
        self.gateway_received: list[JSON] = []
        self.gateway_closes: list[tuple[int, str]] = []
        self.gateway_queries: list[dict[str, str]] = []  # query string of each connection
        self.internal_errors: list[tuple[FakeRequest, BaseException]] = []
        self.identify_count = 0
        self.resume_count = 0
        self.connection_count = 0

    async def start(self) -> FakeDiscord:
        """Serve REST and the gateway on ``host`` (a free port unless ``port`` was given)."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("GET", "/gateway", self._gateway_handler)
        app.router.add_route("GET", "/attachments/{attachment_id}/{filename}", self._file_handler)
        app.router.add_route("*", "/{tail:.*}", self._rest_handler)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self._port)
        await site.start()
        self._port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        """Close gateway sockets (code 1001) and the server; close the client first."""
        for conn in list(self._connections):
            if conn.live:
                await conn.ws.close(code=1001, message=b"fake stopped")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self._port}"

    @property
    def api_base_url(self) -> str:
        return f"{self.base_url}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        return f"ws://{self.host}:{self._port}/gateway"

    async def wait_for(
        self, predicate: Callable[[], T], timeout: float = 5.0, description: str | None = None
    ) -> T:
        """Wait until ``predicate()`` is truthy and return its value; re-checked on changes.

        Raises AssertionError with a summary of the fake's state on timeout.
        """

        async def waiter() -> T:
            async with self._cond:
                return await self._cond.wait_for(predicate)

        try:
            return await asyncio.wait_for(waiter(), timeout)
        except TimeoutError:
            what = description or getattr(predicate, "__name__", repr(predicate))
            raise AssertionError(
                f"timed out after {timeout}s waiting for {what}\n{self.summary()}"
            ) from None

    def summary(self, limit: int = 12) -> str:
        """A short report of recent traffic, for assertion messages."""
        lines = ["FakeDiscord state:"]
        lines.append(
            f"  gateway: {self.live_connections} live connection(s), "
            f"{self.identify_count} identify, {self.resume_count} resume, "
            f"closes={self.gateway_closes[-3:]}"
        )
        lines.append(f"  last {limit} of {len(self.requests)} requests:")
        for req in self.requests[-limit:]:
            detail = ""
            if isinstance(req.response, dict) and req.status and req.status >= 400:
                detail = f" -> {json.dumps(req.response)[:200]}"
            lines.append(f"    {req.method} {req.path} {req.status}{detail}")
        for req, exc in self.internal_errors[-3:]:
            lines.append(f"  fake failed on {req.method} {req.path}: {exc!r}")
        if self.unknown_routes:
            lines.append(
                "  unknown routes: "
                + ", ".join(f"{r.method} {r.path}" for r in self.unknown_routes[-5:])
            )
        lines.append(f"  {len(self.messages)} messages, last ones:")
        for msg in self.messages[-5:]:
            lines.append(
                f"    {msg.id} in {msg.channel_id} [{msg.kind}, flags={msg.flags}] "
                f"{msg.content[:80]!r}"
            )
        for rec in self.interactions[-5:]:
            lines.append(f"  {rec.describe()}")
        return "\n".join(lines)

    async def _notify(self) -> None:
        async with self._cond:
            self._cond.notify_all()
