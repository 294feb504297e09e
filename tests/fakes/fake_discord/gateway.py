"""The gateway: websocket sessions, HELLO/IDENTIFY/RESUME, heartbeats and event dispatch.

Why: discord.py only becomes ready through the gateway and receives every interaction from
it. Sessions keep a log of what they dispatched so that a reconnecting client can RESUME and
get the events it missed, and sharding decides which session owns a guild.
"""

from __future__ import annotations

import asyncio
import copy
import json
import secrets
import time
import zlib
from dataclasses import dataclass, field

from aiohttp import WSMsgType, web

from .protocol import APPLICATION_INTENT_FLAGS, JSON, PRIVILEGED_INTENTS
from .state import _Guild


class _Connection:
    """One websocket; sends in order and compresses as the client asked."""

    def __init__(self, ws: web.WebSocketResponse, compress: str | None) -> None:
        self.ws = ws
        self.compress = compress
        self._zlib = zlib.compressobj() if compress == "zlib-stream" else None
        self._lock = asyncio.Lock()
        self.session: _Session | None = None
        self.opened_at = time.monotonic()

    @property
    def live(self) -> bool:
        return not self.ws.closed

    async def send(self, payload: JSON) -> None:
        text = json.dumps(payload, separators=(",", ":"))
        async with self._lock:
            if self.ws.closed:
                raise ConnectionResetError("websocket closed")
            if self._zlib is not None:
                data = self._zlib.compress(text.encode()) + self._zlib.flush(zlib.Z_SYNC_FLUSH)
                await self.ws.send_bytes(data)
            else:
                await self.ws.send_str(text)


@dataclass
class _Session:
    id: str
    shard_id: int
    shard_count: int
    intents: int
    seq: int = 0
    log: list[JSON] = field(default_factory=list)
    conn: _Connection | None = None
    created_at: float = field(default_factory=time.monotonic)
    ready: bool = False

    def owns(self, guild_id: int | None) -> bool:
        if guild_id is None:
            return self.shard_id == 0
        return (guild_id >> 22) % self.shard_count == self.shard_id


class _GatewayClose(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class GatewayMixin:
    """Gateway sessions and dispatch; part of FakeDiscord (server.py).

    Uses ``_sessions``, ``_connections``, the ``gateway_*`` records and counters, ``token``,
    ``heartbeat_interval_ms``, ``privileged_intents`` and ``compress``, which FakeDiscord's
    constructor creates, and the guilds of StateMixin; stamps ``dispatched_at`` on the
    interaction records of InteractionsMixin.
    """

    @property
    def live_connections(self) -> int:
        return sum(1 for conn in self._connections if conn.live)

    async def wait_connected(self, timeout: float = 5.0) -> None:
        """Wait until live, READY sessions cover every shard and so every guild."""

        def covered() -> bool:
            live = [s for s in self._sessions.values() if s.ready and s.conn and s.conn.live]
            if not live:
                return False
            return all(any(s.owns(g) for s in live) for g in self._guilds)

        await self.wait_for(covered, timeout, "a READY gateway session for every guild")

    async def dispatch_event(self, event: str, data: JSON, guild_id: int | None = None) -> None:
        """Send any DISPATCH event to the session owning ``guild_id`` (shard 0 for None)."""
        session = self._session_for(guild_id)
        await self._dispatch(session, event, data)

    async def drop_connections(self, code: int = 4000, resumable: bool = True) -> None:
        """Close every gateway websocket; with ``resumable=False`` sessions are forgotten."""
        for conn in list(self._connections):
            if conn.live:
                await conn.ws.close(code=code, message=b"dropped by the fake")
        if not resumable:
            self._sessions.clear()
        await self._notify()

    def _guild_create(self, guild: _Guild, intents: int) -> JSON:
        body = self._guild_json(guild, with_members=False)
        members_intent = intents & PRIVILEGED_INTENTS["members"]
        visible = list(guild.members) if members_intent else [self.bot_user_id]
        body.update(
            joined_at=guild.members[self.bot_user_id]["joined_at"],
            large=False,
            unavailable=False,
            member_count=len(guild.members),
            members=[self._full_member(guild, uid) for uid in visible],
            channels=copy.deepcopy(list(guild.channels.values())),
            threads=[],
            presences=[],
            voice_states=[],
            stage_instances=[],
            guild_scheduled_events=[],
            soundboard_sounds=[],
            embedded_activities=[],
        )
        return body

    def _session_for(self, guild_id: int | None) -> _Session:
        candidates = [s for s in self._sessions.values() if s.owns(guild_id)]
        if not candidates:
            raise RuntimeError(
                f"no gateway session owns guild {guild_id}: is the bot "
                f"connected?\n{self.summary()}"
            )
        candidates.sort(key=lambda s: (s.conn is not None and s.conn.live, s.created_at))
        return candidates[-1]

    async def _dispatch(self, session: _Session, event: str, data: JSON) -> None:
        session.seq += 1
        frame = {"op": 0, "t": event, "s": session.seq, "d": data}
        session.log.append(frame)
        del session.log[:-1000]
        if session.conn is not None and session.conn.live:
            await self._send_frame(session.conn, frame)
        await self._notify()

    async def _send_frame(self, conn: _Connection, frame: JSON) -> None:
        try:
            await conn.send(frame)
        except (ConnectionResetError, RuntimeError):
            return  # the client went away; RESUME will replay the session log
        session_id = conn.session.id if conn.session else ""
        self.gateway_sent.append((session_id, frame))
        if frame.get("t") == "INTERACTION_CREATE":
            record = self._interactions_by_id.get(int(frame["d"]["id"]))
            if record is not None and record.dispatched_at is None:
                record.dispatched_at = time.monotonic()

    async def _gateway_handler(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await ws.prepare(request)
        self.gateway_queries.append(dict(request.query))
        compress = request.query.get("compress") if self.compress else None
        conn = _Connection(ws, compress)
        self._connections.append(conn)
        self.connection_count += 1
        try:
            if request.query.get("encoding", "json") != "json":
                raise _GatewayClose(4002, "Error while decoding payload.")
            await conn.send(
                {
                    "op": 10,
                    "d": {
                        "heartbeat_interval": self.heartbeat_interval_ms,
                        "_trace": ["fake-gateway"],
                    },
                    "s": None,
                    "t": None,
                }
            )
            async for message in ws:
                if message.type is not WSMsgType.TEXT:
                    raise _GatewayClose(4002, "Error while decoding payload.")
                try:
                    frame = json.loads(message.data)
                except ValueError:
                    raise _GatewayClose(4002, "Error while decoding payload.") from None
                await self._on_gateway_message(conn, frame)
            self.gateway_closes.append((int(ws.close_code or 1006), "closed"))
        except _GatewayClose as close:
            self.gateway_closes.append((close.code, close.reason))
            await ws.close(code=close.code, message=close.reason.encode())
        except ConnectionResetError:
            self.gateway_closes.append((1006, "connection reset"))
        finally:
            if conn.session is not None and conn.session.conn is conn:
                conn.session.conn = None
            await self._notify()
        return ws

    async def _on_gateway_message(self, conn: _Connection, frame: JSON) -> None:
        self.gateway_received.append(frame)
        op = frame.get("op")
        data = frame.get("d")
        if op == 1:
            await conn.send({"op": 11, "d": None, "s": None, "t": None})
        elif op == 2:
            await self._identify(conn, data or {})
        elif op == 6:
            await self._resume(conn, data or {})
        elif op == 8:
            await self._request_members(conn, data or {})
        elif op in (3, 4):
            pass  # presence and voice state updates are accepted and ignored
        else:
            raise _GatewayClose(4001, "Unknown opcode.")
        await self._notify()

    async def _identify(self, conn: _Connection, data: JSON) -> None:
        if data.get("token") != self.token:
            raise _GatewayClose(4004, "Authentication failed.")
        if conn.session is not None:
            raise _GatewayClose(4005, "Already authenticated.")
        shard_id, shard_count = data.get("shard") or [0, 1]
        if not 0 <= shard_id < shard_count:
            raise _GatewayClose(4010, "Invalid shard.")
        if "intents" not in data:
            raise _GatewayClose(4013, "Invalid intent(s).")
        intents = int(data["intents"])
        for name, bit in PRIVILEGED_INTENTS.items():
            if intents & bit and name not in self.privileged_intents:
                raise _GatewayClose(4014, "Disallowed intent(s).")
        self.identify_count += 1
        session = _Session(
            id=secrets.token_hex(16),
            shard_id=shard_id,
            shard_count=shard_count,
            intents=intents,
            conn=conn,
        )
        conn.session = session
        self._sessions[session.id] = session
        guilds = [g for g in self._guilds.values() if session.owns(g.id)]
        ready: JSON = {
            "v": 10,
            "user": copy.deepcopy(self.bot_user),
            "session_type": "normal",
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.id,
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(self.application_id), "flags": self._application_flags()},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "user_settings": {},
            "auth": {},
            "_trace": ["fake-gateway"],
        }
        if "shard" in data:
            ready["shard"] = [shard_id, shard_count]
        await self._dispatch(session, "READY", ready)
        for guild in guilds:
            await self._dispatch(session, "GUILD_CREATE", self._guild_create(guild, intents))
        session.ready = True

    async def _resume(self, conn: _Connection, data: JSON) -> None:
        if data.get("token") != self.token:
            raise _GatewayClose(4004, "Authentication failed.")
        session = self._sessions.get(str(data.get("session_id")))
        if session is None:
            await conn.send({"op": 9, "d": False, "s": None, "t": None})
            return
        self.resume_count += 1
        old = session.conn
        session.conn = conn
        conn.session = session
        if old is not None and old is not conn and old.live:
            await old.ws.close(code=4000, message=b"session resumed elsewhere")
        last_seen = int(data.get("seq") or 0)
        for frame in [f for f in session.log if f["s"] > last_seen]:
            await self._send_frame(conn, frame)
        await self._dispatch(session, "RESUMED", {"_trace": ["fake-gateway"]})

    async def _request_members(self, conn: _Connection, data: JSON) -> None:
        if conn.session is None:
            raise _GatewayClose(4003, "Not authenticated.")
        guild = self._guilds.get(int(data.get("guild_id", 0)))
        if guild is None:
            return
        wanted = data.get("user_ids")
        ids = [int(u) for u in wanted] if wanted else list(guild.members)
        members = [self._full_member(guild, uid) for uid in ids if uid in guild.members]
        chunk: JSON = {
            "guild_id": str(guild.id),
            "members": members,
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [str(uid) for uid in ids if uid not in guild.members],
        }
        if data.get("nonce"):
            chunk["nonce"] = data["nonce"]
        await self._dispatch(conn.session, "GUILD_MEMBERS_CHUNK", chunk)

    def _application_flags(self) -> int:
        flags = 1 << 23  # APPLICATION_COMMAND_BADGE
        for name in self.privileged_intents:
            flags |= APPLICATION_INTENT_FLAGS[name]
        return flags
