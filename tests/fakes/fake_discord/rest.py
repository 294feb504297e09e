"""The REST API: request recording, injected failures, Discord's headers and the routes.

Why: discord.py's HTTP client needs Discord's exact answers (JSON errors, rate-limit headers,
``Via`` on a 429 before it retries) and tests need every request recorded. The handlers for
users, the gateway URL, the application, channels, messages and guilds are here; those for
commands and interactions live with their state and are listed in ROUTES below.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .commands import (
    _delete_command,
    _get_command,
    _list_commands,
    _patch_command,
    _post_command,
    _put_commands,
)
from .interactions import (
    _callback,
    _followup,
    _webhook_message_delete,
    _webhook_message_get,
    _webhook_message_patch,
)
from .protocol import API_PREFIX, CHANNEL_FLAGS, JSON, ApiError
from .validation import FormErrors, validate_message

if TYPE_CHECKING:
    from .server import FakeDiscord


def _bucket(template: str) -> str:
    return hashlib.md5(template.encode()).hexdigest()[:16]


@dataclass
class FakeRequest:
    """One HTTP request to the REST API; ``path`` is relative to ``/api/v10``."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    files: list[tuple[str, str, bytes]]
    headers: dict[str, str]
    timestamp: float = field(default_factory=time.monotonic)
    status: int | None = None
    response: Any = None


@dataclass
class InjectedFailure:
    """A planned error answer; ``hits`` lists the requests that received it."""

    method: str
    pattern: re.Pattern[str]
    status: int
    retry_after: float
    remaining: int
    code: int | None
    global_: bool
    message: str | None
    hits: list[FakeRequest] = field(default_factory=list)

    def matches(self, method: str, path: str) -> bool:
        wanted = self.method.upper()
        return self.remaining > 0 and wanted in ("*", method) and bool(self.pattern.search(path))


Handler = Callable[["FakeDiscord", FakeRequest, "re.Match[str]", web.Request], Any]


@dataclass
class _Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    bot_auth: bool
    template: str


RouteResult = tuple[int, Any] | None


class RestMixin:
    """Serving REST requests; part of FakeDiscord (server.py).

    Uses ``requests``, ``unknown_routes``, ``internal_errors``, ``_failures``,
    ``_attachments`` and ``token``, which FakeDiscord's constructor creates.
    """

    def fail_next(
        self,
        method: str,
        path_regex: str,
        status: int = 429,
        retry_after: float = 0.5,
        count: int = 1,
        code: int | None = None,
        global_: bool = False,
        message: str | None = None,
    ) -> InjectedFailure:
        """Answer the next ``count`` matching requests with an error.

        ``path_regex`` is searched in the path relative to ``/api/v10`` (e.g.
        ``r"/callback$"``); ``method`` may be ``"*"``. A 429 carries ``Via``, ``Retry-After``
        and ``X-RateLimit-*`` headers so that discord.py sleeps ``retry_after`` and retries.
        """
        failure = InjectedFailure(
            method=method.upper(),
            pattern=re.compile(path_regex),
            status=status,
            retry_after=retry_after,
            remaining=count,
            code=code,
            global_=global_,
            message=message,
        )
        self._failures.append(failure)
        return failure

    async def _read_body(self, request: web.Request) -> tuple[Any, list[tuple[str, str, bytes]]]:
        files: list[tuple[str, str, bytes]] = []
        if request.content_type == "multipart/form-data":
            body: Any = None
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                data = await part.read(decode=False)  # type: ignore[union-attr]
                if part.name == "payload_json":
                    body = json.loads(data.decode())
                elif part.filename is not None:
                    files.append((part.name or "", part.filename, bytes(data)))
            return body, files
        raw = await request.read()
        if not raw:
            return None, files
        try:
            return json.loads(raw), files
        except ValueError:
            return raw.decode(errors="replace"), files

    def _json(self, body: Any, status: int = 200, template: str = "") -> web.Response:
        reset_after = 1.0
        headers = {
            "Content-Type": "application/json",
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "4",
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": _bucket(template),
            "Via": "1.1 google",
        }
        return web.Response(status=status, body=json.dumps(body).encode(), headers=headers)

    def _no_content(self) -> web.Response:
        return web.Response(status=204, headers={"Via": "1.1 google"})

    def _error_response(self, error: ApiError) -> web.Response:
        headers = {"Content-Type": "application/json", "Via": "1.1 google", **error.headers}
        body = json.dumps(error.body()).encode()
        return web.Response(status=error.status, body=body, headers=headers)

    def _injected(self, record: FakeRequest) -> web.Response | None:
        for failure in self._failures:
            if not failure.matches(record.method, record.path):
                continue
            failure.remaining -= 1
            failure.hits.append(record)
            if failure.status == 429:
                return self._rate_limited(failure)
            message = failure.message or {403: "Missing Access", 404: "404: Not Found"}.get(
                failure.status, f"{failure.status}: injected failure"
            )
            return self._error_response(ApiError(failure.status, failure.code or 0, message))
        return None

    def _rate_limited(self, failure: InjectedFailure) -> web.Response:
        body: JSON = {
            "message": failure.message or "You are being rate limited.",
            "retry_after": failure.retry_after,
            "global": failure.global_,
        }
        if failure.code is not None:
            body["code"] = failure.code
        headers = {
            "Content-Type": "application/json",
            "Via": "1.1 google",
            "Retry-After": str(max(1, math.ceil(failure.retry_after))),
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": f"{time.time() + failure.retry_after:.3f}",
            "X-RateLimit-Reset-After": f"{failure.retry_after:.3f}",
            "X-RateLimit-Bucket": _bucket(failure.pattern.pattern),
            "X-RateLimit-Scope": "global" if failure.global_ else "user",
        }
        if failure.global_:
            headers["X-RateLimit-Global"] = "true"
        return web.Response(status=429, body=json.dumps(body).encode(), headers=headers)

    async def _rest_handler(self, request: web.Request) -> web.StreamResponse:
        body, files = await self._read_body(request)
        path = request.path
        relative = path[len(API_PREFIX) :] if path.startswith(API_PREFIX + "/") else path
        record = FakeRequest(
            method=request.method,
            path=relative,
            query=dict(request.query),
            json=body,
            files=files,
            headers=dict(request.headers),
        )
        self.requests.append(record)
        try:
            response = self._injected(record)
            if response is None:
                if not path.startswith(API_PREFIX + "/"):
                    raise self._unknown(record)
                response = await self._route(request, record)
        except ApiError as error:
            response = self._error_response(error)
            record.response = error.body()
        except Exception as exc:  # a request the fake cannot parse, or a bug in the fake
            # A 500 would make discord.py retry for ~25 s; a 400 fails fast and says why.
            self.internal_errors.append((record, exc))
            error = ApiError(400, 50035, f"FakeDiscord could not handle this request: {exc!r}")
            response = self._error_response(error)
            record.response = error.body()
        record.status = response.status
        await self._notify()
        return response

    def _unknown(self, record: FakeRequest) -> ApiError:
        self.unknown_routes.append(record)
        return ApiError(404, 0, "404: Not Found")

    async def _route(self, request: web.Request, record: FakeRequest) -> web.Response:
        for route in ROUTES:
            match = route.pattern.fullmatch(record.path)
            if match is None or route.method != record.method:
                continue
            if route.bot_auth and request.headers.get("Authorization") != f"Bot {self.token}":
                raise ApiError(401, 0, "401: Unauthorized")
            result = await route.handler(self, record, match, request)
            if result is None:
                return self._no_content()
            status, body = result
            record.response = body
            return self._json(body, status, route.template)
        raise self._unknown(record)

    async def _file_handler(self, request: web.Request) -> web.StreamResponse:
        attachment = self._attachments.get(int(request.match_info["attachment_id"]))
        if attachment is None:
            return web.Response(status=404)
        return web.Response(body=attachment.data, content_type=attachment.content_type)


async def _get_me(
    fake: FakeDiscord, req: FakeRequest, m: re.Match[str], r: web.Request
) -> RouteResult:
    return 200, copy.deepcopy(fake.bot_user)


async def _get_user(
    fake: FakeDiscord, req: FakeRequest, m: re.Match[str], r: web.Request
) -> RouteResult:
    user = fake._users.get(int(m["user"]))
    if user is None:
        raise ApiError(404, 10013, "Unknown User")
    return 200, copy.deepcopy(user)


async def _create_dm(
    fake: FakeDiscord, req: FakeRequest, m: re.Match[str], r: web.Request
) -> RouteResult:
    body = req.json if isinstance(req.json, dict) else {}
    if "recipient_id" not in body:
        errors = FormErrors()
        errors.add(("recipient_id",), "BASE_TYPE_REQUIRED", "This field is required")
        errors.raise_if_any()
    user_id = int(body["recipient_id"])
    if user_id == fake.bot_user_id:
        raise ApiError(400, 50007, "Cannot send messages to this user")
    if user_id not in fake._users:
        fake.add_user(user_id)
    return 200, fake._dm_channel_json(user_id)


async def _gateway_bot(
    fake: FakeDiscord, req: FakeRequest, m: re.Match[str], r: web.Request
) -> RouteResult:
    return 200, {
        "url": fake.gateway_url,
        "shards": fake.recommended_shards,
        "session_start_limit": {
            "total": 1000,
            "remaining": 999,
            "reset_after": 14_400_000,
            "max_concurrency": 1,
        },
    }


async def _gateway(
    fake: FakeDiscord, req: FakeRequest, m: re.Match[str], r: web.Request
) -> RouteResult:
    return 200, {"url": fake.gateway_url}


async def _application(
    fake: FakeDiscord, req: FakeRequest, m: re.Match[str], r: web.Request
) -> RouteResult:
    return 200, {
        "id": str(fake.application_id),
        "name": fake.application_name,
        "icon": None,
        "description": "",
        "summary": "",
        "type": None,
        "hook": True,
        "bot_public": True,
        "bot_require_code_grant": False,
        "verify_key": "0" * 64,
        "flags": fake._application_flags(),
        "owner": copy.deepcopy(fake.owner_user),
        "team": None,
        "bot": copy.deepcopy(fake.bot_user),
        "rpc_origins": [],
        "redirect_uris": [],
        "interactions_endpoint_url": None,
        "install_params": None,
        "integration_types_config": {"0": {}},
        "approximate_guild_count": len(fake._guilds),
        "tags": [],
        "guild_id": None,
        "custom_install_url": None,
    }


async def _get_channel(
    fake: FakeDiscord, req: FakeRequest, m: re.Match[str], r: web.Request
) -> RouteResult:
    channel, _ = fake._channel(int(m["channel"]))
    return 200, copy.deepcopy(channel)


async def _post_message(
    fake: FakeDiscord, req: FakeRequest, m: re.Match[str], r: web.Request
) -> RouteResult:
    channel_id = int(m["channel"])
    _, guild_id = fake._channel(channel_id)
    recipient = fake._dm_recipient(channel_id)
    if recipient is not None and recipient in fake._closed_dms:
        raise ApiError(403, 50007, "Cannot send messages to this user")
    payload = req.json if isinstance(req.json, dict) else {}
    validate_message(payload, creating=True, has_files=bool(req.files))
    kind = "dm" if recipient is not None else "channel"
    message = fake._create_message(
        payload,
        req.files,
        channel_id=channel_id,
        guild_id=guild_id,
        kind=kind,
        flags_mask=CHANNEL_FLAGS,
    )
    return 200, message.to_api()


async def _get_message(
    fake: FakeDiscord, req: FakeRequest, m: re.Match[str], r: web.Request
) -> RouteResult:
    return 200, fake._channel_message(int(m["channel"]), int(m["message"])).to_api()


async def _patch_message(
    fake: FakeDiscord, req: FakeRequest, m: re.Match[str], r: web.Request
) -> RouteResult:
    message = fake._channel_message(int(m["channel"]), int(m["message"]))
    if int(message.author["id"]) != fake.bot_user_id:
        raise ApiError(403, 50005, "Cannot edit a message authored by another user")
    payload = req.json if isinstance(req.json, dict) else {}
    validate_message(payload, creating=False)
    fake._edit_message(message, payload, req.files, "channel")
    return 200, message.to_api()


async def _delete_message(
    fake: FakeDiscord, req: FakeRequest, m: re.Match[str], r: web.Request
) -> RouteResult:
    fake._channel_message(int(m["channel"]), int(m["message"])).deleted = True
    return None


async def _typing(
    fake: FakeDiscord, req: FakeRequest, m: re.Match[str], r: web.Request
) -> RouteResult:
    fake._channel(int(m["channel"]))
    return None


async def _get_guild(
    fake: FakeDiscord, req: FakeRequest, m: re.Match[str], r: web.Request
) -> RouteResult:
    guild = fake._guild(int(m["guild"]))
    body = fake._guild_json(guild, with_members=False)
    body.update(approximate_member_count=len(guild.members), approximate_presence_count=0)
    return 200, body


async def _get_member(
    fake: FakeDiscord, req: FakeRequest, m: re.Match[str], r: web.Request
) -> RouteResult:
    guild = fake._guild(int(m["guild"]))
    user_id = int(m["user"])
    if user_id not in guild.members:
        raise ApiError(404, 10007, "Unknown Member")
    return 200, fake._full_member(guild, user_id)


PARAMETERS = {"message": r"\d+|@original", "token": r"[^/]+"}


def _route(method: str, template: str, handler: Handler, bot_auth: bool = True) -> _Route:
    parts = re.split(r"\{(\w+)\}", template)
    pattern = "".join(
        re.escape(part) if index % 2 == 0 else f"(?P<{part}>{PARAMETERS.get(part, r'[0-9]+')})"
        for index, part in enumerate(parts)
    )
    return _Route(method, re.compile(pattern), handler, bot_auth, template)


ROUTES: list[_Route] = [
    _route("GET", "/users/@me", _get_me),
    _route("POST", "/users/@me/channels", _create_dm),
    _route("GET", "/users/{user}", _get_user),
    _route("GET", "/gateway/bot", _gateway_bot),
    _route("GET", "/gateway", _gateway, bot_auth=False),
    _route("GET", "/oauth2/applications/@me", _application),
    _route("GET", "/applications/@me", _application),
    _route("GET", "/applications/{app}/commands", _list_commands),
    _route("PUT", "/applications/{app}/commands", _put_commands),
    _route("POST", "/applications/{app}/commands", _post_command),
    _route("GET", "/applications/{app}/commands/{command}", _get_command),
    _route("PATCH", "/applications/{app}/commands/{command}", _patch_command),
    _route("DELETE", "/applications/{app}/commands/{command}", _delete_command),
    _route("GET", "/applications/{app}/guilds/{guild}/commands", _list_commands),
    _route("PUT", "/applications/{app}/guilds/{guild}/commands", _put_commands),
    _route("POST", "/applications/{app}/guilds/{guild}/commands", _post_command),
    _route("GET", "/applications/{app}/guilds/{guild}/commands/{command}", _get_command),
    _route("PATCH", "/applications/{app}/guilds/{guild}/commands/{command}", _patch_command),
    _route("DELETE", "/applications/{app}/guilds/{guild}/commands/{command}", _delete_command),
    _route("POST", "/interactions/{interaction}/{token}/callback", _callback, bot_auth=False),
    _route("POST", "/webhooks/{app}/{token}", _followup, bot_auth=False),
    _route(
        "GET", "/webhooks/{app}/{token}/messages/{message}", _webhook_message_get, bot_auth=False
    ),
    _route(
        "PATCH",
        "/webhooks/{app}/{token}/messages/{message}",
        _webhook_message_patch,
        bot_auth=False,
    ),
    _route(
        "DELETE",
        "/webhooks/{app}/{token}/messages/{message}",
        _webhook_message_delete,
        bot_auth=False,
    ),
    _route("GET", "/channels/{channel}", _get_channel),
    _route("POST", "/channels/{channel}/messages", _post_message),
    _route("GET", "/channels/{channel}/messages/{message}", _get_message),
    _route("PATCH", "/channels/{channel}/messages/{message}", _patch_message),
    _route("DELETE", "/channels/{channel}/messages/{message}", _delete_message),
    _route("POST", "/channels/{channel}/typing", _typing),
    _route("GET", "/guilds/{guild}", _get_guild),
    _route("GET", "/guilds/{guild}/members/{user}", _get_member),
]
