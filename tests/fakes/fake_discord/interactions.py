"""Interactions and the bot's answers to them: callbacks, follow-ups and ``@original`` edits.

Why: interaction answers follow Discord's strictest rules (acknowledge within 3 seconds and
only once, callback types allowed per interaction type, a deferral resolved by the first
follow-up, tokens that expire). FakeInteraction records each interaction's outcome and
latencies so that tests and bench/ can wait for and assert on them.
"""

from __future__ import annotations

import asyncio
import copy
import re
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .protocol import EPHEMERAL, JSON, LOADING, ApiError
from .validation import FormErrors, validate_choices, validate_message, validate_modal

if TYPE_CHECKING:
    from .messages import FakeMessage
    from .rest import FakeRequest, RouteResult
    from .server import FakeDiscord


#: Which callback types Discord accepts for each interaction type.
ALLOWED_CALLBACKS: dict[int, frozenset[int]] = {
    2: frozenset({4, 5, 9}),
    3: frozenset({4, 5, 6, 7, 9}),
    4: frozenset({8}),
    5: frozenset({4, 5, 6, 7}),
}


class FakeInteraction:
    """One injected interaction, with everything the bot did about it.

    ``response()`` waits for the callback body; ``readable()`` for the first message the user
    can read (a message-carrying callback, or for deferred responses the first edit of
    ``@original`` or first follow-up). Latencies are measured from dispatch on the socket.
    """

    def __init__(self, fake: FakeDiscord, payload: JSON, source_message: FakeMessage | None):
        self._fake = fake
        self.payload = payload
        self.id = int(payload["id"])
        self.token: str = payload["token"]
        self.type: int = payload["type"]
        self.guild_id = int(payload["guild_id"]) if payload.get("guild_id") else None
        self.channel_id = int(payload["channel_id"])
        user = (payload.get("member") or {}).get("user") or payload.get("user") or {}
        self.user_id = int(user["id"])
        self.locale: str = payload.get("locale", "en-US")
        self.source_message = source_message
        self.created_at = time.monotonic()
        self.dispatched_at: float | None = None
        self.acked_at: float | None = None
        self.readable_at: float | None = None
        self.callback_type: int | None = None
        self.callback: JSON | None = None
        self.original: FakeMessage | None = None
        self.readable_message: FakeMessage | None = None
        self.followups: list[FakeMessage] = []
        self.rejections: list[tuple[int, int, str]] = []
        self.choices: list[JSON] | None = None
        self.modal: JSON | None = None
        loop = asyncio.get_running_loop()
        self._response: asyncio.Future[JSON] = loop.create_future()
        self._readable: asyncio.Future[FakeMessage] = loop.create_future()

    @property
    def name(self) -> str | None:
        return (self.payload.get("data") or {}).get("name")

    @property
    def custom_id(self) -> str | None:
        return (self.payload.get("data") or {}).get("custom_id")

    @property
    def acknowledged(self) -> bool:
        return self.acked_at is not None

    @property
    def ephemeral(self) -> bool:
        """Whether the answer is only visible to the caller (flags & 64)."""
        if self.readable_message is not None:
            return self.readable_message.ephemeral
        if self.original is not None:
            return self.original.ephemeral
        return bool(((self.callback or {}).get("data") or {}).get("flags", 0) & EPHEMERAL)

    @property
    def ack_latency(self) -> float | None:
        start = self.dispatched_at or self.created_at
        return None if self.acked_at is None else self.acked_at - start

    @property
    def readable_latency(self) -> float | None:
        start = self.dispatched_at or self.created_at
        return None if self.readable_at is None else self.readable_at - start

    async def response(self, timeout: float = 5.0) -> JSON:
        """The accepted callback body (``{"type": ..., "data": ...}``)."""
        return await self._await(self._response, timeout, "the interaction callback")

    async def readable(self, timeout: float = 5.0) -> FakeMessage:
        """The message the user can read first."""
        return await self._await(self._readable, timeout, "a readable answer")

    async def _await(self, future: asyncio.Future[Any], timeout: float, what: str) -> Any:
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout)
        except TimeoutError:
            raise AssertionError(
                f"interaction {self.id} ({self.name or self.custom_id}): no {what} within "
                f"{timeout}s\n{self._fake.summary()}"
            ) from None

    def _acknowledge(self, body: JSON) -> None:
        self.acked_at = time.monotonic()
        self.callback_type = body["type"]
        self.callback = body
        if not self._response.done():
            self._response.set_result(body)

    def _mark_readable(self, message: FakeMessage) -> None:
        if self.readable_at is None:
            self.readable_at = time.monotonic()
            self.readable_message = message
            self._readable.set_result(message)

    def describe(self) -> str:
        state = f"callback={self.callback_type}" if self.acknowledged else "not acknowledged"
        rejected = f" rejected={self.rejections}" if self.rejections else ""
        label = self.name or self.custom_id
        return f"interaction {self.id} type={self.type} {label}: {state}{rejected}"

    def __repr__(self) -> str:
        return f"<FakeInteraction {self.describe()}>"


class InteractionsMixin:
    """Interaction records and the bot's answers; part of FakeDiscord (server.py).

    Uses ``interactions``, ``_interactions_by_id``, ``_interactions_by_token``,
    ``token_lifetime`` and ``application_id``, which FakeDiscord's constructor creates, the
    messages of MessagesMixin and the dispatch of GatewayMixin.
    """

    def interaction(self, interaction_id: int) -> FakeInteraction:
        return self._interactions_by_id[interaction_id]

    async def _send_interaction(
        self, payload: JSON, source: FakeMessage | None
    ) -> FakeInteraction:
        guild_id = int(payload["guild_id"]) if payload.get("guild_id") else None
        session = self._session_for(guild_id)
        record = FakeInteraction(self, payload, source)
        self.interactions.append(record)
        self._interactions_by_id[record.id] = record
        self._interactions_by_token[record.token] = record
        await self._dispatch(session, "INTERACTION_CREATE", payload)
        return record

    def _interaction_for_webhook(self, application_id: int, token: str) -> FakeInteraction:
        record = self._interactions_by_token.get(token)
        if record is None or application_id != self.application_id:
            raise ApiError(404, 10015, "Unknown Webhook")
        if time.monotonic() - record.created_at > self.token_lifetime:
            raise ApiError(401, 50027, "Invalid Webhook Token")
        if not record.acknowledged:
            raise ApiError(404, 10015, "Unknown Webhook")
        return record

    def _interaction_message(self, record: FakeInteraction, which: str) -> FakeMessage:
        if which == "@original":
            message = record.original
        else:
            wanted = int(which)
            candidates = [record.original, *record.followups]
            message = next((m for m in candidates if m is not None and m.id == wanted), None)
        if message is None or message.deleted:
            raise ApiError(404, 10008, "Unknown Message")
        return message

    def _apply_callback(
        self, record: FakeInteraction, body: JSON, files: list[tuple[str, str, bytes]]
    ) -> FakeMessage | None:
        kind = body["type"]
        data = body.get("data") or {}
        guild_id = record.guild_id
        if kind == 4:
            message = self._create_message(
                data,
                files,
                channel_id=record.channel_id,
                guild_id=guild_id,
                kind="interaction_response",
                interaction=record,
            )
            record.original = message
            record._acknowledge(body)
            record._mark_readable(message)
            return message
        if kind == 5:
            flags = LOADING | (int(data.get("flags") or 0) & EPHEMERAL)
            placeholder = {"content": "", "flags": flags}
            message = self._create_message(
                placeholder,
                [],
                channel_id=record.channel_id,
                guild_id=guild_id,
                kind="interaction_response",
                interaction=record,
                flags_mask=flags,
            )
            record.original = message
            record._acknowledge(body)
            return message
        if kind in (6, 7):
            record.original = record.source_message
            record._acknowledge(body)
            if kind == 7 and record.source_message is not None:
                message = self._edit_message(
                    record.source_message, data, files, "callback", record
                )
                record._mark_readable(message)
                return message
            return None
        if kind == 8:
            record.choices = copy.deepcopy(data.get("choices") or [])
        elif kind == 9:
            record.modal = copy.deepcopy(data)
        record._acknowledge(body)
        return None

    def _validate_callback(
        self, record: FakeInteraction, body: Any, files: list[tuple[str, str, bytes]]
    ) -> None:
        errors = FormErrors()
        if not isinstance(body, dict) or not isinstance(body.get("type"), int):
            errors.add(("type",), "BASE_TYPE_REQUIRED", "This field is required")
            errors.raise_if_any()
        kind = body["type"]
        if kind not in ALLOWED_CALLBACKS.get(record.type, frozenset()):
            message = f"Interaction response type {kind} is not valid for type {record.type}"
            raise _response_type_error(message)
        data = body.get("data") or {}
        if kind == 4:
            validate_message(data, ("data",), creating=True, has_files=bool(files))
        elif kind == 7:
            if record.source_message is None:
                raise _response_type_error("UPDATE_MESSAGE needs an interaction on a message")
            validate_message(data, ("data",), creating=False)
        elif kind == 8:
            validate_choices(data.get("choices", []), errors, ("data", "choices"))
        elif kind == 9:
            validate_modal(data, ("data",))
        errors.raise_if_any()


def _response_type_error(message: str) -> ApiError:
    errors = FormErrors()
    errors.add(("type",), "INTERACTION_RESPONSE_TYPE_INVALID", message)
    return ApiError(400, 50035, "Invalid Form Body", errors.to_dict())


async def _callback(
    fake: FakeDiscord, req: FakeRequest, m: re.Match[str], r: web.Request
) -> RouteResult:
    record = fake._interactions_by_id.get(int(m["interaction"]))
    if record is None or record.token != m["token"]:
        raise ApiError(404, 10062, "Unknown interaction")
    try:
        if record.acknowledged:
            raise ApiError(400, 40060, "Interaction has already been acknowledged.")
        if time.monotonic() - record.created_at > fake.ack_deadline:
            raise ApiError(404, 10062, "Unknown interaction")
        fake._validate_callback(record, req.json, req.files)
    except ApiError as error:
        record.rejections.append((error.status, error.code, error.message))
        raise
    message = fake._apply_callback(record, req.json, req.files)
    if req.query.get("with_response") not in ("1", "true", "True"):
        return None
    summary: JSON = {"id": str(record.id), "type": record.type}
    resource: JSON = {"type": req.json["type"]}
    if message is not None:
        summary.update(
            response_message_id=str(message.id),
            response_message_loading=message.loading,
            response_message_ephemeral=message.ephemeral,
        )
        resource["message"] = message.to_api()
    return 200, {"interaction": summary, "resource": resource}


async def _followup(
    fake: FakeDiscord, req: FakeRequest, m: re.Match[str], r: web.Request
) -> RouteResult:
    record = fake._interaction_for_webhook(int(m["app"]), m["token"])
    payload = req.json if isinstance(req.json, dict) else {}
    validate_message(payload, creating=True, has_files=bool(req.files))
    original = record.original
    if record.callback_type == 5 and original is not None and original.loading:
        # Discord: a follow-up while "thinking" resolves the deferred message itself and keeps
        # the deferral's ephemerality, whatever flags the follow-up asks for.
        message = fake._edit_message(original, payload, req.files, "followup", record)
    else:
        message = fake._create_message(
            payload,
            req.files,
            channel_id=record.channel_id,
            guild_id=record.guild_id,
            kind="followup",
            interaction=record,
        )
        record.followups.append(message)
    record._mark_readable(message)
    return 200, message.to_api()


async def _webhook_message_get(
    fake: FakeDiscord, req: FakeRequest, m: re.Match[str], r: web.Request
) -> RouteResult:
    record = fake._interaction_for_webhook(int(m["app"]), m["token"])
    return 200, fake._interaction_message(record, m["message"]).to_api()


async def _webhook_message_patch(
    fake: FakeDiscord, req: FakeRequest, m: re.Match[str], r: web.Request
) -> RouteResult:
    record = fake._interaction_for_webhook(int(m["app"]), m["token"])
    message = fake._interaction_message(record, m["message"])
    payload = req.json if isinstance(req.json, dict) else {}
    validate_message(payload, creating=False)
    fake._edit_message(message, payload, req.files, "webhook", record)
    record._mark_readable(message)
    return 200, message.to_api()


async def _webhook_message_delete(
    fake: FakeDiscord, req: FakeRequest, m: re.Match[str], r: web.Request
) -> RouteResult:
    record = fake._interaction_for_webhook(int(m["app"]), m["token"])
    fake._interaction_message(record, m["message"]).deleted = True
    return None
