"""A small fake of the Telegram Bot API, served over real HTTP with aiohttp.web.

Why: campusbot's tests should drive the *real* python-telegram-bot ``Application`` (polling,
handlers, rate limiter, error mapping) without ever talking to Telegram. Point the application
at :attr:`FakeTelegram.base_url` and the library cannot tell the difference for the methods
below; tests inject user messages and button presses and then assert what the bot sent.

What it covers
    * Routes ``/bot{token}/{method}`` (GET or POST; form-encoded, JSON or multipart bodies).
      A wrong token answers 401, an unimplemented method answers 404 "method not found".
    * getMe, logOut, close, deleteWebhook, setWebhook, getWebhookInfo, getUpdates (offset,
      limit, allowed_updates and long polling that wakes as soon as an update is injected),
      sendMessage, editMessageText, editMessageReplyMarkup, deleteMessage, answerCallbackQuery,
      sendDocument, getFile, sendChatAction, setMyCommands, getMyCommands, deleteMyCommands,
      getChat (a ChatFullInfo PTB can parse), getChatMember, getChatAdministrators.
    * Telegram's validation where bots usually get it wrong: text length (1..4096 characters
      after entity parsing), HTML parse mode (allowed tags, nesting, escaping), callback_data
      (1..64 bytes), command lists, "message is not modified", 403 for users who never
      started or blocked the bot, 409 for getUpdates while a webhook is set or when a second
      poller takes over.
    * Error injection (:meth:`FakeTelegram.fail_next`) and a request log with monotonic
      timestamps (:attr:`FakeTelegram.requests`) to assert pacing.

What it does not cover (on purpose; extend when the bot needs it)
    * Media other than documents, inline mode, payments, forum topics, reactions, polls.
    * MarkdownV2/Markdown parse modes are accepted but not validated: use HTML in campusbot.
    * Automatic entities (urls, mentions, hashtags) except the ``bot_command`` entity.
    * Pushing updates to a webhook by itself: use :meth:`FakeTelegram.post_webhook`.
    * Server-side flood control: only injected 429s happen; assert pacing from the log.
    * HTTPS/port checks on setWebhook, the 48-hour edit window, callback query expiry.

Where it is deliberately stricter than Telegram
    Telegram's HTML parser tolerates a bare ``&`` or ``>`` in text, but its documentation says
    every ``<``, ``>`` and ``&`` that is not part of a tag or entity must be escaped. The fake
    rejects them (with a "can't parse entities" 400) so an unescaped user string is caught in
    tests, not in production the day someone types ``<3``.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import html
import itertools
import json
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

JSON = dict[str, Any]
Record = dict[str, Any]
Predicate = Callable[[Record], bool]
MessageRef = Any  # a record from sent/edits, a Message dict or PTB Message, or (chat_id, id)

GROUP_ANONYMOUS_BOT_ID = 1087968824
DEFAULT_USER_ID = 1001
MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_COMMANDS = 100
MAX_UPLOAD_BYTES = 50 * 1024 * 1024


def _names(words: str) -> frozenset[str]:
    """A set of API names from one space-separated string (keeps the tables compact)."""
    return frozenset(words.split())


NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"
DEFAULT_UPDATE_TYPES = _names(
    "message edited_message channel_post edited_channel_post business_connection "
    "business_message edited_business_message deleted_business_messages "
    "inline_query chosen_inline_result callback_query shipping_query "
    "pre_checkout_query purchased_paid_media poll poll_answer my_chat_member "
    "chat_join_request chat_boost removed_chat_boost"
)  # Telegram's default: everything except chat_member and message_reaction(_count).
CHAT_ACTIONS = _names(
    "typing upload_photo record_video upload_video record_voice upload_voice "
    "upload_document choose_sticker find_location record_video_note "
    "upload_video_note"
)
COMMAND_SCOPES = _names(
    "default all_private_chats all_group_chats all_chat_administrators chat "
    "chat_administrators chat_member"
)
BUTTON_ACTIONS = _names(
    "url callback_data web_app login_url switch_inline_query "
    "switch_inline_query_current_chat switch_inline_query_chosen_chat copy_text "
    "callback_game pay"
)
# Form values arrive as strings; PTB JSON-encodes everything that is not a string. These
# parameters are strings in the Bot API and must not be JSON-decoded ("123" stays "123").
STRING_PARAMS = _names(
    "text caption parse_mode callback_query_id url secret_token language_code "
    "inline_message_id action ip_address document photo thumbnail file_id "
    "business_connection_id message_effect_id title description short_description "
    "name custom_title query data emoji"
)
JSON_PARAMS = _names(
    "reply_markup commands scope allowed_updates reply_parameters "
    "link_preview_options entities caption_entities"
)
STATUS_TEXT = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
    502: "Bad Gateway",
}
_USE_RECORDED_SECRET: Any = object()


class ApiError(Exception):
    """A Bot API error answer: ``{"ok": false, "error_code": status, "description": ...}``."""

    def __init__(self, status: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def payload(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(reason: str) -> ApiError:
    """400 with Telegram's "Bad Request: " prefix, which bots sometimes match on."""
    return ApiError(400, f"Bad Request: {reason}")


# --------------------------------------------------------------------------------------------
# HTML parse mode
# --------------------------------------------------------------------------------------------

ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_CHAR_REF_RE = re.compile(r"&(?:(lt|gt|amp|quot)|#([0-9]{1,8})|#[xX]([0-9a-fA-F]{1,8}));")
_NAMED_REFS = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ATTR_RE = re.compile(
    r"""([A-Za-z][A-Za-z0-9_-]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?"""
)
_END_TAG_RE = re.compile(r"</([A-Za-z][A-Za-z0-9-]*)\s*>")
_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?")
_COMMAND_NAME_RE = re.compile(r"[a-z0-9_]{1,32}")
_LANGUAGE_RE = re.compile(r"[a-z]{2}")


class HtmlParseError(ValueError):
    """Raised with the text Telegram appends to "Bad Request: can't parse entities: "."""


def utf16_len(text: str) -> int:
    """Entity offsets and lengths are counted in UTF-16 code units, like Telegram does."""
    return len(text.encode("utf-16-le")) // 2


@dataclass
class _OpenTag:
    name: str
    attrs: dict[str, str]
    offset: int
    language: str | None = None


class _HtmlParser:
    """Telegram-style HTML to (plain text, entities); raises HtmlParseError like the server."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.pos = 0
        self.out: list[str] = []
        self.utf16 = 0
        self.stack: list[_OpenTag] = []
        self.entities: list[JSON] = []

    def byte_offset(self, index: int) -> int:
        return len(self.source[:index].encode("utf-8"))

    def emit_text(self, text: str) -> None:
        self.out.append(text)
        self.utf16 += utf16_len(text)

    def parse(self) -> tuple[str, list[JSON]]:
        while self.pos < len(self.source):
            char = self.source[self.pos]
            if char == "&":
                self.char_ref()
            elif char == ">":
                raise HtmlParseError(
                    f'Character ">" at byte offset {self.byte_offset(self.pos)} must be '
                    'escaped as "&gt;"'
                )
            elif char == "<" and self.source.startswith("</", self.pos):
                self.end_tag()
            elif char == "<":
                self.start_tag()
            else:
                self.emit_text(char)
                self.pos += 1
        if self.stack:
            raise HtmlParseError(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"'
            )
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.out), self.entities

    def char_ref(self) -> None:
        match = _CHAR_REF_RE.match(self.source, self.pos)
        if match is None:
            raise HtmlParseError(
                f'Character "&" at byte offset {self.byte_offset(self.pos)} must be escaped '
                'as "&amp;"'
            )
        named, decimal, hexadecimal = match.groups()
        if named:
            self.emit_text(_NAMED_REFS[named])
        else:
            code_point = int(decimal, 10) if decimal else int(hexadecimal, 16)
            if not 0 < code_point <= 0x10FFFF or 0xD800 <= code_point <= 0xDFFF:
                raise HtmlParseError(
                    f"Invalid character reference at byte offset {self.byte_offset(self.pos)}"
                )
            self.emit_text(chr(code_point))
        self.pos = match.end()

    def start_tag(self) -> None:
        begin = self.pos
        end = begin + 1
        while (
            end < len(self.source) and not self.source[end].isspace() and (self.source[end] != ">")
        ):
            end += 1
        name = self.source[begin + 1 : end].lower()
        if name not in ENTITY_TYPES:
            raise HtmlParseError(
                f'Unsupported start tag "{self.source[begin + 1 : end]}" at byte offset '
                f"{self.byte_offset(begin)}"
            )
        attrs, self.pos = self.attributes(end, begin)
        self.check_tag_attributes(name, attrs, begin)
        self.stack.append(_OpenTag(name=name, attrs=attrs, offset=self.utf16))

    def attributes(self, index: int, tag_begin: int) -> tuple[dict[str, str], int]:
        attrs: dict[str, str] = {}
        while True:
            while index < len(self.source) and self.source[index].isspace():
                index += 1
            if index >= len(self.source):
                raise HtmlParseError(
                    f"Unclosed start tag at byte offset {self.byte_offset(tag_begin)}"
                )
            if self.source[index] == ">":
                return attrs, index + 1
            match = _ATTR_RE.match(self.source, index)
            if match is None:
                raise HtmlParseError(
                    f"Unclosed start tag at byte offset {self.byte_offset(tag_begin)}"
                )
            value = next((v for v in match.groups()[1:] if v is not None), "")
            attrs[match.group(1).lower()] = html.unescape(value)
            index = match.end()

    def check_tag_attributes(self, name: str, attrs: dict[str, str], begin: int) -> None:
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise HtmlParseError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {self.byte_offset(begin)}'
            )
        if name == "tg-emoji" and not attrs.get("emoji-id", "").isdigit():
            raise HtmlParseError(
                f'Tag "tg-emoji" must have attribute "emoji-id" at byte offset '
                f"{self.byte_offset(begin)}"
            )

    def end_tag(self) -> None:
        match = _END_TAG_RE.match(self.source, self.pos)
        offset = self.byte_offset(self.pos)
        if match is None:
            raise HtmlParseError(f"Unclosed end tag at byte offset {offset}")
        name = match.group(1).lower()
        if not self.stack:
            raise HtmlParseError(f"Unexpected end tag at byte offset {offset}")
        top = self.stack[-1]
        if top.name != name:
            raise HtmlParseError(
                f'Unmatched end tag at byte offset {offset}, expected "</{top.name}>", found '
                f'"</{name}>"'
            )
        self.stack.pop()
        self.pos = match.end()
        self.close_entity(top)

    def close_entity(self, tag: _OpenTag) -> None:
        language = tag.attrs.get("class", "")
        parent = self.stack[-1] if self.stack else None
        if (
            tag.name == "code"
            and parent
            and parent.name == "pre"
            and (language.startswith("language-"))
        ):
            parent.language = language.removeprefix("language-")
            return
        length = self.utf16 - tag.offset
        if length == 0 or (tag.name == "a" and not tag.attrs.get("href")):
            return
        entity: JSON = {"type": ENTITY_TYPES[tag.name], "offset": tag.offset, "length": length}
        if tag.name == "a":
            entity["url"] = tag.attrs["href"]
        elif tag.name == "pre" and tag.language:
            entity["language"] = tag.language
        elif tag.name == "blockquote" and "expandable" in tag.attrs:
            entity["type"] = "expandable_blockquote"
        elif tag.name == "tg-emoji":
            entity["custom_emoji_id"] = tag.attrs["emoji-id"]
        self.entities.append(entity)


def parse_html(source: str) -> tuple[str, list[JSON]]:
    """Parse Telegram HTML; returns the text users see and its entities (UTF-16 offsets)."""
    return _HtmlParser(source).parse()


# --------------------------------------------------------------------------------------------
# Request decoding
# --------------------------------------------------------------------------------------------


@dataclass
class UploadedFile:
    """A file part of a multipart request (e.g. sendDocument's ``document``)."""

    filename: str
    content: bytes
    content_type: str


def decode_form_value(name: str, value: str) -> Any:
    """Undo PTB's form encoding: non-string parameters were sent as JSON text."""
    if name in STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def decode_json_value(name: str, value: Any) -> Any:
    """JSON bodies may still carry objects as JSON strings (Telegram accepts both), and chat
    ids as numeric strings ("Integer or String")."""
    if name in ("chat_id", "from_chat_id", "user_id") and isinstance(value, str):
        return int(value) if value.lstrip("-").isdigit() else value
    if name in JSON_PARAMS and isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


async def read_params(request: web.Request) -> tuple[JSON, dict[str, UploadedFile]]:
    """Collect query, form, multipart or JSON parameters into one decoded dict."""
    params: JSON = {k: decode_form_value(k, v) for k, v in request.query.items()}
    files: dict[str, UploadedFile] = {}
    if not request.can_read_body:
        return params, files
    if request.content_type == "application/json":
        body = await request.json()
        if isinstance(body, dict):
            params.update({k: decode_json_value(k, v) for k, v in body.items()})
        return params, files
    form = await request.post()
    for key, value in form.items():
        if isinstance(value, web.FileField):
            files[key] = UploadedFile(value.filename, value.file.read(), value.content_type)
        else:
            params[key] = decode_form_value(key, str(value))
    return params, files


def as_int(value: Any, name: str) -> int:
    """Telegram answers 400 for a non-integer where an integer belongs."""
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad_request(f"invalid {name} specified") from None


def scope_key(scope: Any) -> str:
    """A canonical key for a BotCommandScope given as dict, JSON string or PTB object."""
    if scope is None:
        scope = {"type": "default"}
    elif hasattr(scope, "to_dict"):
        scope = scope.to_dict()
    elif isinstance(scope, str):
        scope = json.loads(scope)
    normalized = dict(scope)
    for key in ("chat_id", "user_id"):
        if key in normalized:
            with contextlib.suppress(TypeError, ValueError):
                normalized[key] = int(normalized[key])
    return json.dumps(normalized, sort_keys=True, separators=(",", ":"))


# --------------------------------------------------------------------------------------------
# State
# --------------------------------------------------------------------------------------------


@dataclass
class UserState:
    """A Telegram user as the fake server knows it."""

    user: JSON
    started: bool = False
    blocked: bool = False


@dataclass
class StoredMessage:
    """Every message in every chat, so replies, edits and presses see current content."""

    message: JSON
    by_bot: bool
    raw_text: str | None = None
    parse_mode: str | None = None
    deleted: bool = False


@dataclass
class _PendingUpdate:
    update: JSON
    forced: bool = False
    delivered: bool = False


@dataclass
class _Failure:
    status: int
    description: str
    parameters: JSON | None
    remaining: int


@dataclass
class _Chat:
    chat: JSON
    admins: set[int] = field(default_factory=set)
    creator_id: int | None = None


class _Signal:
    """A wake-up for many waiters: set() wakes everyone waiting now, then re-arms.

    Injection helpers are synchronous, so an asyncio.Condition (which needs ``async with``)
    does not fit; swapping a fresh Event in on every change does.
    """

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def set(self) -> None:
        event, self._event = self._event, asyncio.Event()
        event.set()

    async def wait(self, timeout: float) -> None:
        """Wait for the next set() or the timeout, whichever comes first."""
        if timeout <= 0:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), timeout)


Handler = Callable[[JSON, dict[str, UploadedFile]], Awaitable[Any]]


class FakeTelegram:
    """The fake Bot API server plus helpers to inject updates and inspect what the bot did.

    Observation lists (all appended in order, never cleared by the fake):
        ``requests``: every HTTP call (method, params, chat_id, status, description, at).
        ``sent``: messages and documents the bot sent; ``edits``; ``callback_answers``;
        ``deleted``; ``records``: all of those interleaved, each with a ``kind`` field.
        ``unknown_methods``: names of methods the fake does not implement.
    """

    def __init__(
        self,
        token: str = "123:ABC",
        bot_username: str = "campus_test_bot",
        *,
        bot_first_name: str = "Campus Test Bot",
    ) -> None:
        bot_id, _, secret = token.partition(":")
        if not bot_id.isdigit() or not secret:
            raise ValueError("token must look like '<bot id>:<secret>'")
        self.token = token
        self.bot_id = int(bot_id)
        self.bot_username = bot_username
        self.bot_user: JSON = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self.requests: list[Record] = []
        self.records: list[Record] = []
        self.sent: list[Record] = []
        self.edits: list[Record] = []
        self.callback_answers: list[Record] = []
        self.deleted: list[Record] = []
        self.unknown_methods: list[str] = []
        self.webhook: JSON | None = None
        self.logged_out = False
        self.closed = False

        self._users: dict[int, UserState] = {}
        self._chats: dict[int, _Chat] = {}
        self._messages: dict[tuple[int, int], StoredMessage] = {}
        self._last_message_id: dict[int, int] = {}
        self._pending: dict[int, _PendingUpdate] = {}
        self._update_ids = itertools.count(10_000)
        self._query_ids = itertools.count(4_000_000_000_000_000_001)
        self._file_ids = itertools.count(1)
        self._open_queries: dict[str, JSON] = {}
        self._files: dict[str, tuple[JSON, bytes]] = {}
        self._commands: dict[tuple[str, str], list[JSON]] = {}
        self._failures: dict[str, deque[_Failure]] = {}
        self._allowed_updates: frozenset[str] = DEFAULT_UPDATE_TYPES
        self._poll_generation = 0
        self._closing = False
        self._updates_signal = _Signal()
        self._records_signal = _Signal()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._port: int | None = None
        self._methods = self._method_table()

        self.add_user(DEFAULT_USER_ID, first_name="Alice", username="alice")
        self.add_user(
            GROUP_ANONYMOUS_BOT_ID, first_name="Group", username="GroupAnonymousBot", is_bot=True
        )

    # ---------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Listen on 127.0.0.1 on a free port; the Bot API and file URLs become valid."""
        self._closing = False
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self._runner = web.AppRunner(
            app, handle_signals=False, shutdown_timeout=1.0, handler_cancellation=True
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = int(self._runner.addresses[0][1])
        self._session = aiohttp.ClientSession()

    async def stop(self) -> None:
        """Release held long polls first so shutdown never waits for a poll timeout."""
        self._closing = True
        self._updates_signal.set()
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder.base_url``: PTB appends the token without a slash."""
        return f"http://127.0.0.1:{self._require_port()}/bot"

    @property
    def base_file_url(self) -> str:
        """For ``ApplicationBuilder.base_file_url``."""
        return f"http://127.0.0.1:{self._require_port()}/file/bot"

    def _require_port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeTelegram is not started: await fake.start() first")
        return self._port

    # ---------------------------------------------------------------- configuration

    def add_user(
        self,
        user_id: int,
        *,
        first_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        started: bool = False,
        is_bot: bool = False,
    ) -> JSON:
        """Make a user known. ``started=False`` models someone the bot may not message first."""
        state = self._users.get(user_id)
        if state is None:
            state = UserState(user={"id": user_id, "is_bot": is_bot, "first_name": ""})
            self._users[user_id] = state
        user = state.user
        user["first_name"] = first_name or user["first_name"] or f"User{user_id}"
        if username is not None:
            user["username"] = username
        elif "username" not in user:
            user["username"] = f"user{user_id}"
        if language_code is not None:
            user["language_code"] = language_code
        state.started = state.started or started
        return copy.deepcopy(user)

    def block_user(self, user_id: int) -> None:
        """The user blocked the bot: sends to their private chat answer 403."""
        self._user_state(user_id).blocked = True

    def unblock_user(self, user_id: int) -> None:
        self._user_state(user_id).blocked = False

    def add_chat(
        self,
        chat_id: int,
        chat_type: str | None = None,
        *,
        title: str | None = None,
        username: str | None = None,
        admins: Iterable[int] = (),
        creator_id: int | None = None,
    ) -> JSON:
        """Create or update a group, supergroup (the default) or channel, with its admins."""
        entry = self._chats.get(chat_id)
        chat_type = chat_type or (entry.chat["type"] if entry else "supergroup")
        if chat_type not in ("group", "supergroup", "channel") or chat_id >= 0:
            raise ValueError("add_chat is for groups and channels (negative ids)")
        if entry is None:
            entry = _Chat(chat={"id": chat_id, "type": chat_type, "title": "Campus Group"})
            self._chats[chat_id] = entry
        entry.chat["type"] = chat_type
        if title is not None:
            entry.chat["title"] = title
        if username is not None:
            entry.chat["username"] = username
        entry.admins.update(admins)
        if creator_id is not None:
            entry.creator_id = creator_id
        return copy.deepcopy(entry.chat)

    def fail_next(
        self,
        method: str,
        status: int = 429,
        retry_after: int = 2,
        count: int = 1,
        description: str | None = None,
    ) -> None:
        """Answer the next ``count`` calls of ``method`` with an error instead of running them.

        429 carries ``parameters.retry_after`` (PTB raises RetryAfter from it); other statuses
        carry ``description`` or the standard reason phrase.
        """
        parameters: JSON | None = None
        if status == 429:
            description = description or f"Too Many Requests: retry after {retry_after}"
            parameters = {"retry_after": retry_after}
        elif description is None:
            description = STATUS_TEXT.get(status, "Error")
        failure = _Failure(status, description, parameters, count)
        self._failures.setdefault(method.lower(), deque()).append(failure)

    # ---------------------------------------------------------------- injection

    def message(
        self,
        text: str,
        *,
        user_id: int = DEFAULT_USER_ID,
        chat_id: int | None = None,
        chat_type: str | None = None,
        language_code: str | None = "en",
        username: str | None = None,
        first_name: str | None = None,
        reply_to_message_id: int | None = None,
        sender_chat: Mapping[str, Any] | int | None = None,
        chat_title: str | None = None,
    ) -> JSON:
        """Queue a text message from a user (or a channel post) and return the Update.

        A message in the user's private chat counts as having started (and unblocked) the
        bot. ``chat_type`` defaults to the known chat's type, else private for ``chat_id``
        None/``user_id`` and supergroup for negative ids.
        """
        sender = self._sender(user_id, username, first_name, language_code)
        chat = self._chat_for_message(user_id, chat_id, chat_type, chat_title)
        fields: JSON = {"text": text}
        entities = self._command_entities(text)
        if entities:
            fields["entities"] = entities
        if reply_to_message_id is not None:
            fields["reply_to_message"] = self._reply_target(chat["id"], reply_to_message_id)
        if chat["type"] == "channel":
            fields["sender_chat"] = copy.deepcopy(chat)
            message = self._new_message(chat, None, fields, by_bot=False)
            return self._queue({"channel_post": message})
        if chat["type"] == "private":
            self._users[user_id].started = True
            self._users[user_id].blocked = False
        if sender_chat is not None:
            fields["sender_chat"] = self._chat_dict(sender_chat)
        message = self._new_message(chat, sender, fields, by_bot=False)
        return self._queue({"message": message})

    def anonymous_admin_message(
        self, text: str, chat_id: int, *, chat_title: str | None = None
    ) -> JSON:
        """A message "sent as the group" by an anonymous admin (from GroupAnonymousBot)."""
        chat = self._chat_for_message(GROUP_ANONYMOUS_BOT_ID, chat_id, None, chat_title)
        return self.message(
            text,
            user_id=GROUP_ANONYMOUS_BOT_ID,
            chat_id=chat_id,
            chat_type=chat["type"],
            language_code=None,
            sender_chat=chat,
        )

    def press(
        self,
        message: MessageRef,
        data: str,
        *,
        user_id: int | None = None,
        language_code: str | None = "en",
        username: str | None = None,
        first_name: str | None = None,
    ) -> JSON:
        """Queue a callback query on a message the bot sent, with any ``data`` (tamper away).

        ``message`` is a record from ``sent``/``edits``, a Message (dict or PTB object) or
        (chat_id, message_id). The query carries the message's *current* text and keyboard.
        The press is remembered until the bot answers it (see ``unanswered_callbacks``).
        """
        stored = self._stored_bot_message(message)
        chat = stored.message["chat"]
        if user_id is None:
            user_id = chat["id"] if chat["type"] == "private" else DEFAULT_USER_ID
        query_id = str(next(self._query_ids))
        query: JSON = {
            "id": query_id,
            "from": self._sender(user_id, username, first_name, language_code),
            "message": copy.deepcopy(stored.message),
            "chat_instance": str(abs(chat["id"]) * 1_000_003 % 10**18),
            "data": data,
        }
        self._open_queries[query_id] = query
        return self._queue({"callback_query": query})

    def press_button(
        self,
        message: MessageRef,
        label: str,
        **kwargs: Any,
    ) -> JSON:
        """Press the inline button whose text is ``label``, with its current callback_data."""
        stored = self._stored_bot_message(message)
        rows = stored.message.get("reply_markup", {}).get("inline_keyboard", [])
        for button in itertools.chain.from_iterable(rows):
            if button.get("text") == label and "callback_data" in button:
                return self.press(message, button["callback_data"], **kwargs)
        labels = [b.get("text") for b in itertools.chain.from_iterable(rows)]
        raise AssertionError(f"no callback button {label!r} on the message; buttons: {labels}")

    def redeliver(self, update: Mapping[str, Any]) -> JSON:
        """Deliver the same update (same update_id) once more, as Telegram does after a crash.

        It is handed out with the next getUpdates even if the bot already confirmed it.
        """
        update_copy = copy.deepcopy(dict(update))
        self._pending[update_copy["update_id"]] = _PendingUpdate(update_copy, forced=True)
        self._updates_signal.set()
        return update_copy

    async def post_webhook(
        self,
        url: str,
        update: Mapping[str, Any],
        secret_token: str | None = _USE_RECORDED_SECRET,
    ) -> int:
        """POST an update to the bot's webhook like Telegram does; returns the HTTP status.

        ``secret_token`` defaults to the one given to setWebhook; pass None to omit the
        ``X-Telegram-Bot-Api-Secret-Token`` header, or a wrong value to test rejection.
        """
        if secret_token is _USE_RECORDED_SECRET:
            secret_token = (self.webhook or {}).get("secret_token")
        headers = {"Content-Type": "application/json"}
        if secret_token is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret_token
        if self._session is None:
            raise RuntimeError("FakeTelegram is not started")
        async with self._session.post(url, data=json.dumps(update), headers=headers) as resp:
            await resp.read()
            return resp.status

    # ---------------------------------------------------------------- observation

    def messages_to(self, chat_id: int) -> list[Record]:
        """Messages and documents the bot sent into one chat, oldest first."""
        return [r for r in self.sent if r["chat_id"] == chat_id]

    def commands(self, scope: Any = None, language_code: str = "") -> list[JSON]:
        """The command list stored for exactly this scope and language (no fallback)."""
        return copy.deepcopy(self._commands.get((scope_key(scope), language_code), []))

    def menu(
        self, chat_id: int, user_id: int | None = None, language_code: str = ""
    ) -> list[JSON]:
        """The menu a user sees in a chat, resolved like Telegram (most specific list wins)."""
        chat = self._resolve_chat(chat_id)
        language = language_code[:2].lower()
        for scope in self._menu_scopes(chat, user_id):
            key = scope_key(scope)
            for lang in dict.fromkeys((language, "")):
                if (key, lang) in self._commands:
                    return copy.deepcopy(self._commands[(key, lang)])
        return []

    def calls(self, method: str) -> list[Record]:
        """Recorded requests of one method (case-insensitive), including failed ones."""
        return [r for r in self.requests if r["method"].lower() == method.lower()]

    @property
    def unanswered_callbacks(self) -> list[str]:
        """Ids of presses the bot has not answered with answerCallbackQuery yet."""
        return list(self._open_queries)

    @property
    def pending_updates(self) -> list[JSON]:
        """Updates not yet confirmed by getUpdates' offset."""
        return [p.update for _, p in sorted(self._pending.items())]

    def mark(self) -> int:
        """A position in ``records``; pass it as ``since`` to wait only for newer records."""
        return len(self.records)

    async def wait_for(
        self,
        predicate: Predicate | None = None,
        *,
        kind: str | Iterable[str] | None = None,
        timeout: float = 5.0,
        since: int = 0,
    ) -> Record:
        """Return the first record (from ``since`` on) of ``kind`` matching ``predicate``.

        Kinds: "message", "document", "edit", "callback_answer", "delete". Waits on a
        signal fired by each new record, so it returns as soon as the bot acts. On timeout,
        raises AssertionError with a summary of what the bot did and which calls failed.
        """
        kinds = {kind} if isinstance(kind, str) else set(kind) if kind is not None else None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for record in self.records[since:]:
                if (kinds is None or record["kind"] in kinds) and (
                    predicate is None or predicate(record)
                ):
                    return record
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(self._timeout_summary(kinds, timeout, since))
            await self._records_signal.wait(remaining)

    async def wait_for_message(
        self,
        predicate: Predicate | None = None,
        *,
        chat_id: int | None = None,
        timeout: float = 5.0,
        since: int = 0,
    ) -> Record:
        """Wait for a sent message or document, optionally into one chat."""
        return await self.wait_for(
            _with_chat(predicate, chat_id),
            kind=("message", "document"),
            timeout=timeout,
            since=since,
        )

    async def wait_for_edit(
        self,
        predicate: Predicate | None = None,
        *,
        chat_id: int | None = None,
        timeout: float = 5.0,
        since: int = 0,
    ) -> Record:
        """Wait for an editMessageText/editMessageReplyMarkup that succeeded."""
        return await self.wait_for(
            _with_chat(predicate, chat_id), kind="edit", timeout=timeout, since=since
        )

    async def wait_for_callback_answer(
        self,
        predicate: Predicate | None = None,
        *,
        callback_query_id: str | None = None,
        timeout: float = 5.0,
        since: int = 0,
    ) -> Record:
        """Wait for an answerCallbackQuery, optionally for one press (its update's id)."""

        def matches(record: Record) -> bool:
            if callback_query_id is not None and record["callback_query_id"] != callback_query_id:
                return False
            return predicate is None or predicate(record)

        return await self.wait_for(matches, kind="callback_answer", timeout=timeout, since=since)

    async def wait_for_request(
        self,
        method: str,
        predicate: Predicate | None = None,
        *,
        timeout: float = 5.0,
        since: int = 0,
        in_flight: bool = False,
    ) -> Record:
        """Wait for an answered HTTP call of ``method`` (any status), e.g. a rejected send.

        ``in_flight=True`` also matches calls still being handled, such as a held getUpdates.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for request in self.requests[since:]:
                if (
                    (request["done"] or in_flight)
                    and request["method"].lower() == method.lower()
                    and (predicate is None or predicate(request))
                ):
                    return request
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(
                    f"no {method} request within {timeout}s; "
                    f"calls: {[r['method'] for r in self.requests[since:]][-30:]}"
                )
            await self._records_signal.wait(remaining)

    def _timeout_summary(self, kinds: set[str] | None, timeout: float, since: int) -> str:
        lines = [f"nothing matching (kind={sorted(kinds) if kinds else 'any'}) within {timeout}s."]
        lines.append("The bot did:" if self.records[since:] else "The bot did nothing.")
        for record in self.records[since:][-20:]:
            text = str(record.get("text") or "")
            lines.append(
                f"  {record['kind']} chat={record.get('chat_id')} "
                f"id={record.get('message_id')} {text[:80]!r}"
            )
        failures = [r for r in self.requests if r["status"] >= 300][-10:]
        if failures:
            lines.append("Failed API calls:")
            lines += [f"  {r['method']} -> {r['status']} {r['description']}" for r in failures]
        return "\n".join(lines)

    def _add_record(self, record: Record, bucket: list[Record]) -> Record:
        record["at"] = time.monotonic()
        bucket.append(record)
        self.records.append(record)
        self._records_signal.set()
        return record

    # ---------------------------------------------------------------- HTTP layer

    async def _handle_api(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        name = request.match_info["method"]
        params, files = await read_params(request)
        canonical, handler = self._methods.get(name.lower(), (name, None))
        entry: Record = {
            "method": canonical,
            "http_method": request.method,
            "params": params,
            "files": {k: (f.filename, len(f.content)) for k, f in files.items()},
            "chat_id": params.get("chat_id"),
            "at": time.monotonic(),
            "status": 200,
            "description": None,
            "done": False,
        }
        self.requests.append(entry)
        self._records_signal.set()
        try:
            if token != self.token:
                raise ApiError(401, "Unauthorized")
            self._raise_injected_failure(canonical)
            if handler is None:
                self.unknown_methods.append(name)
                raise ApiError(404, "Not Found: method not found")
            result = await handler(params, files)
        except asyncio.CancelledError:
            entry.update(status=499, description="client closed the request")  # e.g. a held poll
            raise
        except ApiError as error:
            entry.update(status=error.status, description=error.description, done=True)
            self._records_signal.set()
            return web.json_response(error.payload(), status=error.status)
        finally:
            entry["done"] = True
        self._records_signal.set()
        body: JSON = {"ok": True, "result": result}
        if canonical in ("setWebhook", "deleteWebhook"):
            body["description"] = "Webhook was set" if self.webhook else "Webhook was deleted"
        return web.json_response(body)

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(ApiError(401, "Unauthorized").payload(), status=401)
        path = request.match_info["path"]
        for info, content in self._files.values():
            if info["file_path"] == path:
                return web.Response(body=content)
        return web.json_response(ApiError(404, "Not Found").payload(), status=404)

    def _raise_injected_failure(self, method: str) -> None:
        queue = self._failures.get(method.lower())
        if not queue:
            return
        failure = queue[0]
        failure.remaining -= 1
        if failure.remaining <= 0:
            queue.popleft()
        raise ApiError(failure.status, failure.description, failure.parameters)

    def _method_table(self) -> dict[str, tuple[str, Handler]]:
        handlers: dict[str, Handler] = {
            "getMe": self._get_me,
            "logOut": self._log_out,
            "close": self._close,
            "deleteWebhook": self._delete_webhook,
            "setWebhook": self._set_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "getUpdates": self._get_updates,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "sendDocument": self._send_document,
            "getFile": self._get_file,
            "sendChatAction": self._send_chat_action,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "getChat": self._get_chat,
            "getChatMember": self._get_chat_member,
            "getChatAdministrators": self._get_chat_administrators,
        }
        return {name.lower(): (name, handler) for name, handler in handlers.items()}

    # ---------------------------------------------------------------- methods: bot & webhook

    async def _get_me(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _log_out(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        self.logged_out = True
        return True

    async def _close(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        self.closed = True
        return True

    async def _delete_webhook(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        self.webhook = None
        if params.get("drop_pending_updates"):
            self._pending.clear()
        return True

    async def _set_webhook(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        url = params.get("url") or ""
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise bad_request("secret token contains unallowed characters")
        if params.get("drop_pending_updates"):
            self._pending.clear()
        if not url:
            self.webhook = None
            return True
        self.webhook = {
            "url": url,
            "secret_token": secret,
            "allowed_updates": params.get("allowed_updates"),
            "max_connections": params.get("max_connections", 40),
            "ip_address": params.get("ip_address"),
        }
        self._updates_signal.set()  # a held getUpdates now conflicts
        return True

    async def _get_webhook_info(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        info: JSON = {
            "url": self.webhook["url"] if self.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self.webhook:
            info["max_connections"] = self.webhook["max_connections"]
            if self.webhook["allowed_updates"] is not None:
                info["allowed_updates"] = self.webhook["allowed_updates"]
        return info

    # ---------------------------------------------------------------- methods: getUpdates

    async def _get_updates(self, params: JSON, files: dict[str, UploadedFile]) -> list[JSON]:
        if self.webhook:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use "
                "deleteWebhook to delete the webhook first",
            )
        limit = min(max(as_int(params.get("limit", 100), "limit"), 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(allowed) or DEFAULT_UPDATE_TYPES
        if params.get("offset") is not None:
            self._confirm(as_int(params["offset"], "offset"))
        self._poll_generation += 1
        generation = self._poll_generation
        self._updates_signal.set()  # an older held poll must give way (409 below)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            batch = self._take_updates(limit)
            if batch or self._closing:
                return batch
            if self.webhook:
                return []  # the held poll ends; the next one gets the 409 above
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only "
                    "one bot instance is running",
                )
            remaining = deadline - loop.time()
            if remaining <= 0:
                return []
            await self._updates_signal.wait(remaining)

    def _confirm(self, offset: int) -> None:
        """Forget updates below ``offset``; a negative offset keeps only the last -offset."""
        if offset < 0:
            for update_id in sorted(self._pending)[:offset]:
                del self._pending[update_id]
            return
        for update_id, pending in list(self._pending.items()):
            if update_id < offset and (not pending.forced or pending.delivered):
                del self._pending[update_id]

    def _take_updates(self, limit: int) -> list[JSON]:
        batch: list[JSON] = []
        for update_id in sorted(self._pending):
            pending = self._pending[update_id]
            if _update_type(pending.update) not in self._allowed_updates:
                del self._pending[update_id]  # Telegram never stores unwanted kinds
                continue
            pending.delivered = True
            batch.append(copy.deepcopy(pending.update))
            if len(batch) >= limit:
                break
        return batch

    def _queue(self, body: JSON) -> JSON:
        update = {"update_id": next(self._update_ids), **body}
        self._pending[update["update_id"]] = _PendingUpdate(copy.deepcopy(update))
        self._updates_signal.set()
        return update

    # ---------------------------------------------------------------- methods: messages

    async def _send_message(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        chat = self._sendable_chat(params.get("chat_id"))
        raw = params.get("text")
        plain, entities = self._formatted(raw, params, MAX_TEXT_LENGTH, "text")
        markup = self._checked_markup(params.get("reply_markup"))
        fields: JSON = {"text": plain}
        if entities:
            fields["entities"] = entities
        if isinstance(params.get("link_preview_options"), dict):
            fields["link_preview_options"] = params["link_preview_options"]
        reply = self._reply_from_params(chat["id"], params)
        message = self._bot_message(chat, fields, markup, reply, raw, params)
        self._add_record(self._sent_record("message", message, params), self.sent)
        return message

    async def _send_document(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        chat = self._sendable_chat(params.get("chat_id"))
        document = self._document_from(params, files)
        raw_caption = params.get("caption")
        fields: JSON = {"document": document[0]}
        if raw_caption:
            caption, entities = self._formatted(raw_caption, params, MAX_CAPTION_LENGTH, "caption")
            fields["caption"] = caption
            if entities:
                fields["caption_entities"] = entities
        markup = self._checked_markup(params.get("reply_markup"))
        reply = self._reply_from_params(chat["id"], params)
        message = self._bot_message(chat, fields, markup, reply, raw_caption, params)
        record = self._sent_record("document", message, params)
        record.update(
            caption=raw_caption,
            filename=document[0].get("file_name"),
            bytes=document[1],
            mime_type=document[0].get("mime_type"),
            file_id=document[0]["file_id"],
        )
        self._add_record(record, self.sent)
        return message

    def _document_from(self, params: JSON, files: dict[str, UploadedFile]) -> tuple[JSON, bytes]:
        upload = files.get("document")
        ref = params.get("document")
        if upload is None and isinstance(ref, str) and ref.startswith("attach://"):
            upload = files.get(ref.removeprefix("attach://"))
        if upload is not None:
            return self._store_file(upload)
        if isinstance(ref, str) and ref in self._files:
            info, content = self._files[ref]
            return copy.deepcopy(info), content
        raise bad_request("wrong file identifier/HTTP URL specified")

    def _store_file(self, upload: UploadedFile) -> tuple[JSON, bytes]:
        number = next(self._file_ids)
        file_id = f"BQACAgIAAxkDAAI{number:08d}"
        info: JSON = {
            "file_id": file_id,
            "file_unique_id": f"AgAD{number:08d}",
            "file_name": upload.filename,
            "mime_type": upload.content_type,
            "file_size": len(upload.content),
        }
        self._files[file_id] = ({**info, "file_path": f"documents/file_{number}"}, upload.content)
        return info, upload.content

    async def _get_file(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        entry = self._files.get(str(params.get("file_id")))
        if entry is None:
            raise bad_request("invalid file_id")
        info = entry[0]
        return {k: info[k] for k in ("file_id", "file_unique_id", "file_size", "file_path")}

    async def _edit_message_text(self, params: JSON, files: dict[str, UploadedFile]) -> Any:
        raw = params.get("text")
        plain, entities = self._formatted(raw, params, MAX_TEXT_LENGTH, "text")
        markup = self._checked_markup(params.get("reply_markup"))
        if params.get("inline_message_id"):
            return self._inline_edit("editMessageText", params, raw, markup)
        stored = self._editable(params)
        current = stored.message
        if "text" not in current:
            raise bad_request("there is no text in the message to edit")
        before = (current["text"], current.get("entities", []), current.get("reply_markup"))
        if before == (plain, entities, markup):
            raise ApiError(400, NOT_MODIFIED)
        current["text"] = plain
        current.pop("entities", None)
        if entities:
            current["entities"] = entities
        stored.raw_text, stored.parse_mode = raw, params.get("parse_mode")
        return self._apply_edit("editMessageText", stored, markup, params)

    async def _edit_message_reply_markup(
        self, params: JSON, files: dict[str, UploadedFile]
    ) -> Any:
        markup = self._checked_markup(params.get("reply_markup"))
        if params.get("inline_message_id"):
            return self._inline_edit("editMessageReplyMarkup", params, None, markup)
        stored = self._editable(params)
        if stored.message.get("reply_markup") == markup:
            raise ApiError(400, NOT_MODIFIED)
        return self._apply_edit("editMessageReplyMarkup", stored, markup, params)

    def _apply_edit(
        self, method: str, stored: StoredMessage, markup: JSON | None, params: JSON
    ) -> JSON:
        """Omitting reply_markup in an edit removes the keyboard, as on Telegram."""
        message = stored.message
        message.pop("reply_markup", None)
        if markup is not None:
            message["reply_markup"] = markup
        message["edit_date"] = int(time.time())
        record: Record = {
            "kind": "edit",
            "method": method,
            "chat_id": message["chat"]["id"],
            "message_id": message["message_id"],
            "inline_message_id": None,
            "text": stored.raw_text,
            "plain_text": message.get("text", message.get("caption")),
            "parse_mode": stored.parse_mode,
            "reply_markup": copy.deepcopy(markup),
            "params": params,
            "message": copy.deepcopy(message),
        }
        self._add_record(record, self.edits)
        return copy.deepcopy(message)

    def _inline_edit(
        self, method: str, params: JSON, raw: str | None, markup: JSON | None
    ) -> bool:
        """Inline messages are not stored; the edit is recorded and Telegram answers True."""
        record: Record = {
            "kind": "edit",
            "method": method,
            "chat_id": None,
            "message_id": None,
            "inline_message_id": params["inline_message_id"],
            "text": raw,
            "plain_text": None,
            "parse_mode": params.get("parse_mode"),
            "reply_markup": copy.deepcopy(markup),
            "params": params,
            "message": None,
        }
        self._add_record(record, self.edits)
        return True

    def _editable(self, params: JSON) -> StoredMessage:
        chat = self._resolve_chat(params.get("chat_id"))
        message_id = as_int(params.get("message_id"), "message_id")
        stored = self._messages.get((chat["id"], message_id))
        if stored is None or stored.deleted:
            raise bad_request("message to edit not found")
        if not stored.by_bot:
            raise bad_request("message can't be edited")
        return stored

    async def _delete_message(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        chat = self._resolve_chat(params.get("chat_id"))
        message_id = as_int(params.get("message_id"), "message_id")
        stored = self._messages.get((chat["id"], message_id))
        if stored is None or stored.deleted:
            raise bad_request("message to delete not found")
        if (
            not stored.by_bot
            and chat["type"] != "private"
            and not self._is_admin(chat["id"], self.bot_id)
        ):
            raise bad_request("message can't be deleted")
        stored.deleted = True
        record: Record = {
            "kind": "delete",
            "chat_id": chat["id"],
            "message_id": message_id,
            "text": stored.message.get("text"),
            "by_bot": stored.by_bot,
        }
        self._add_record(record, self.deleted)
        return True

    async def _answer_callback_query(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        query_id = str(params.get("callback_query_id"))
        text = params.get("text")
        if text is not None and len(text) > MAX_CALLBACK_ANSWER_LENGTH:
            raise bad_request("MESSAGE_TOO_LONG")
        query = self._open_queries.pop(query_id, None)
        if query is None:
            raise ApiError(400, QUERY_INVALID)
        message = query.get("message") or {}
        record: Record = {
            "kind": "callback_answer",
            "callback_query_id": query_id,
            "chat_id": message.get("chat", {}).get("id"),
            "message_id": message.get("message_id"),
            "text": text,
            "show_alert": bool(params.get("show_alert", False)),
            "url": params.get("url"),
            "cache_time": params.get("cache_time"),
            "data": query.get("data"),
            "user_id": query["from"]["id"],
            "params": params,
        }
        self._add_record(record, self.callback_answers)
        return True

    async def _send_chat_action(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        self._sendable_chat(params.get("chat_id"))
        if params.get("action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    # ---------------------------------------------------------------- methods: commands

    async def _set_my_commands(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        if len(commands) > MAX_COMMANDS:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
        cleaned = [_checked_command(c) for c in commands]
        key = self._command_key(params)
        if cleaned:
            self._commands[key] = cleaned
        else:
            self._commands.pop(key, None)
        return True

    async def _get_my_commands(self, params: JSON, files: dict[str, UploadedFile]) -> list[JSON]:
        return copy.deepcopy(self._commands.get(self._command_key(params), []))

    async def _delete_my_commands(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        self._commands.pop(self._command_key(params), None)
        return True

    def _command_key(self, params: JSON) -> tuple[str, str]:
        language = params.get("language_code") or ""
        if language and not _LANGUAGE_RE.fullmatch(language):
            raise bad_request("invalid language code specified")
        scope = params.get("scope") or {"type": "default"}
        if not isinstance(scope, dict) or scope.get("type") not in COMMAND_SCOPES:
            raise bad_request("can't parse BotCommandScope JSON object")
        if scope["type"].startswith("chat") and "chat_id" not in scope:
            raise bad_request("chat_id not specified in BotCommandScope")
        if scope["type"] == "chat_member" and "user_id" not in scope:
            raise bad_request("user_id not specified in BotCommandScope")
        if "chat_id" in scope:
            scope = {**scope, "chat_id": self._resolve_chat(scope["chat_id"])["id"]}
        return scope_key(scope), language

    def _menu_scopes(self, chat: JSON, user_id: int | None) -> list[JSON]:
        chat_id = chat["id"]
        if chat["type"] == "private":
            return [
                {"type": "chat", "chat_id": chat_id},
                {"type": "all_private_chats"},
                {"type": "default"},
            ]
        is_admin = user_id is not None and self._is_admin(chat_id, user_id)
        scopes: list[JSON] = []
        if user_id is not None:
            scopes.append({"type": "chat_member", "chat_id": chat_id, "user_id": user_id})
        if is_admin:
            scopes.append({"type": "chat_administrators", "chat_id": chat_id})
        scopes.append({"type": "chat", "chat_id": chat_id})
        if is_admin:
            scopes.append({"type": "all_chat_administrators"})
        scopes += [{"type": "all_group_chats"}, {"type": "default"}]
        return scopes

    # ---------------------------------------------------------------- methods: chats

    async def _get_chat(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        chat = self._resolve_chat(params.get("chat_id"))
        info: JSON = {
            **copy.deepcopy(chat),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }
        if chat["type"] in ("group", "supergroup"):
            info["permissions"] = {"can_send_messages": True}
        return info

    async def _get_chat_member(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        chat = self._resolve_chat(params.get("chat_id"))
        user_id = as_int(params.get("user_id"), "user_id")
        return self._member(chat["id"], user_id)

    async def _get_chat_administrators(
        self, params: JSON, files: dict[str, UploadedFile]
    ) -> list[JSON]:
        chat = self._resolve_chat(params.get("chat_id"))
        if chat["type"] == "private":
            raise bad_request("there are no administrators in the private chat")
        entry = self._chats[chat["id"]]
        ids = ([entry.creator_id] if entry.creator_id is not None else []) + sorted(entry.admins)
        return [self._member(chat["id"], user_id) for user_id in dict.fromkeys(ids)]

    def _member(self, chat_id: int, user_id: int) -> JSON:
        """ChatMemberOwner/Administrator/Member with every field PTB requires."""
        if user_id == self.bot_id:
            user = copy.deepcopy(self.bot_user)
        elif user_id in self._users:
            user = copy.deepcopy(self._users[user_id].user)
        else:
            raise bad_request("user not found")
        entry = self._chats.get(chat_id)
        if entry is not None and entry.creator_id == user_id:
            return {"status": "creator", "user": user, "is_anonymous": False}
        if entry is not None and user_id in entry.admins:
            return {
                "status": "administrator",
                "user": user,
                "can_be_edited": False,
                "is_anonymous": False,
                "can_manage_chat": True,
                "can_delete_messages": True,
                "can_manage_video_chats": True,
                "can_restrict_members": True,
                "can_promote_members": False,
                "can_change_info": True,
                "can_invite_users": True,
                "can_post_stories": False,
                "can_edit_stories": False,
                "can_delete_stories": False,
                "can_pin_messages": True,
            }
        return {"status": "member", "user": user}

    def _is_admin(self, chat_id: int, user_id: int) -> bool:
        entry = self._chats.get(chat_id)
        return entry is not None and (user_id in entry.admins or user_id == entry.creator_id)

    # ---------------------------------------------------------------- helpers: chats & users

    def _user_state(self, user_id: int) -> UserState:
        if user_id not in self._users:
            self.add_user(user_id)
        return self._users[user_id]

    def _sender(
        self,
        user_id: int,
        username: str | None,
        first_name: str | None,
        language_code: str | None,
    ) -> JSON:
        """The ``from`` object: stored identity plus this update's language (may be absent)."""
        user = self.add_user(user_id, first_name=first_name, username=username)
        user.pop("language_code", None)
        if language_code is not None:
            user["language_code"] = language_code
        return user

    def _resolve_chat(self, chat_id: Any) -> JSON:
        """Look a chat up by id or @username; unknown chats answer 400 like Telegram."""
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            for entry in self._chats.values():
                if entry.chat.get("username", "").lower() == chat_id[1:].lower():
                    return entry.chat
            raise bad_request("chat not found")
        if chat_id is None:
            raise bad_request("chat_id is empty")
        numeric = as_int(chat_id, "chat_id")
        if numeric in self._chats:
            return self._chats[numeric].chat
        if numeric in self._users and not self._users[numeric].user["is_bot"]:
            user = self._users[numeric].user
            chat = {"id": numeric, "type": "private", "first_name": user["first_name"]}
            if user.get("username"):
                chat["username"] = user["username"]
            return chat
        raise bad_request("chat not found")

    def _sendable_chat(self, chat_id: Any) -> JSON:
        """A chat the bot may post into now, or the 403 Telegram would answer."""
        chat = self._resolve_chat(chat_id)
        if chat["type"] == "private":
            state = self._users[chat["id"]]
            if state.blocked:
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            if not state.started:
                raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        return chat

    def _chat_for_message(
        self, user_id: int, chat_id: int | None, chat_type: str | None, title: str | None
    ) -> JSON:
        if chat_id is None or chat_id == user_id:
            if chat_type not in (None, "private"):
                raise ValueError("a group or channel message needs chat_id")
            self._user_state(user_id)
            return self._resolve_chat(user_id)
        if chat_type is None:
            known = self._chats.get(chat_id)
            chat_type = known.chat["type"] if known else "supergroup"
        if chat_type == "private" or chat_id > 0:
            raise ValueError("private chats have the user's id; groups have negative ids")
        known = self._chats.get(chat_id)
        if known is None or known.chat["type"] != chat_type or title is not None:
            self.add_chat(chat_id, chat_type, title=title)
        return self._chats[chat_id].chat

    def _chat_dict(self, chat: Mapping[str, Any] | int) -> JSON:
        if isinstance(chat, int):
            return copy.deepcopy(self._resolve_chat(chat))
        return copy.deepcopy(dict(chat))

    # ---------------------------------------------------------------- helpers: messages

    def _new_message(
        self,
        chat: JSON,
        sender: JSON | None,
        fields: JSON,
        *,
        by_bot: bool,
        raw_text: str | None = None,
        parse_mode: str | None = None,
    ) -> JSON:
        """Give the message the chat's next id, store it and return a copy."""
        message_id = self._last_message_id.get(chat["id"], 0) + 1
        self._last_message_id[chat["id"]] = message_id
        message: JSON = {"message_id": message_id}
        if sender is not None:
            message["from"] = sender
        message.update(date=int(time.time()), chat=copy.deepcopy(chat), **fields)
        self._messages[(chat["id"], message_id)] = StoredMessage(
            message=message,
            by_bot=by_bot,
            raw_text=raw_text if by_bot else fields.get("text"),
            parse_mode=parse_mode,
        )
        return copy.deepcopy(message)

    def _bot_message(
        self,
        chat: JSON,
        fields: JSON,
        markup: JSON | None,
        reply: JSON | None,
        raw: str | None,
        params: JSON,
    ) -> JSON:
        if reply is not None:
            fields["reply_to_message"] = reply
        if markup is not None and "inline_keyboard" in markup:
            fields["reply_markup"] = markup  # Telegram echoes only inline keyboards
        return self._new_message(
            chat,
            copy.deepcopy(self.bot_user),
            fields,
            by_bot=True,
            raw_text=raw,
            parse_mode=params.get("parse_mode"),
        )

    def _sent_record(self, kind: str, message: JSON, params: JSON) -> Record:
        reply = message.get("reply_to_message")
        return {
            "kind": kind,
            "chat_id": message["chat"]["id"],
            "message_id": message["message_id"],
            "text": params.get("text") if kind == "message" else params.get("caption") or "",
            "plain_text": message.get("text", message.get("caption")),
            "entities": message.get("entities", message.get("caption_entities", [])),
            "parse_mode": params.get("parse_mode"),
            "reply_markup": copy.deepcopy(params.get("reply_markup")),
            "reply_to_message_id": reply["message_id"] if reply else None,
            "params": params,
            "message": message,
        }

    def _reply_from_params(self, chat_id: int, params: JSON) -> JSON | None:
        """Resolve reply_parameters (PTB 22) or the legacy reply_to_message_id."""
        reply = params.get("reply_parameters")
        if not isinstance(reply, dict):
            if params.get("reply_to_message_id") is None:
                return None
            reply = {
                "message_id": params["reply_to_message_id"],
                "allow_sending_without_reply": params.get("allow_sending_without_reply"),
            }
        target_chat = self._resolve_chat(reply.get("chat_id", chat_id))["id"]
        message_id = as_int(reply.get("message_id"), "message_id")
        stored = self._messages.get((target_chat, message_id))
        if stored is None or stored.deleted:
            if reply.get("allow_sending_without_reply"):
                return None
            raise bad_request("message to be replied not found")
        return copy.deepcopy(stored.message)

    def _reply_target(self, chat_id: int, message_id: int) -> JSON:
        stored = self._messages.get((chat_id, message_id))
        if stored is None:
            raise ValueError(f"no message {message_id} in chat {chat_id} to reply to")
        reply = copy.deepcopy(stored.message)
        reply.pop("reply_to_message", None)
        return reply

    def _stored_bot_message(self, message: MessageRef) -> StoredMessage:
        """Find a bot message from a record, a Message dict or PTB object, or (chat, id)."""
        if hasattr(message, "to_dict"):
            message = message.to_dict()
        if isinstance(message, tuple):
            key = message
        elif "chat" in message:
            key = (message["chat"]["id"], message["message_id"])
        else:
            key = (message["chat_id"], message["message_id"])
        stored = self._messages.get(key)
        if stored is None or stored.deleted or not stored.by_bot:
            raise ValueError(f"no live bot message {key}: press() needs one the bot sent")
        return stored

    def _command_entities(self, text: str) -> list[JSON]:
        match = _COMMAND_RE.match(text)
        if match is None:
            return []
        return [{"type": "bot_command", "offset": 0, "length": utf16_len(match.group(0))}]

    # ---------------------------------------------------------------- helpers: validation

    def _formatted(self, raw: Any, params: JSON, limit: int, what: str) -> tuple[str, list[JSON]]:
        """Parse text/caption like Telegram and enforce its length limit after parsing."""
        if not isinstance(raw, str) or not raw.strip():
            if what == "caption":
                return "", []
            raise bad_request("message text is empty")
        parse_mode = (params.get("parse_mode") or "").lower()
        explicit = params.get("entities" if what == "text" else "caption_entities")
        if parse_mode == "html":
            try:
                plain, entities = parse_html(raw)
            except HtmlParseError as error:
                raise bad_request(f"can't parse entities: {error}") from None
        elif parse_mode in ("", "markdown", "markdownv2"):
            plain, entities = raw, list(explicit) if isinstance(explicit, list) else []
        else:
            raise bad_request(f"unsupported parse_mode {params.get('parse_mode')}")
        if not plain.strip():
            raise bad_request("message text is empty")
        if len(plain.strip()) > limit:
            reason = "message caption is too long" if what == "caption" else "message is too long"
            raise bad_request(reason)
        return plain, entities

    def _checked_markup(self, markup: Any) -> JSON | None:
        """Validate inline keyboards the way Telegram rejects them."""
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        rows = markup.get("inline_keyboard")
        if rows is None:
            return markup
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise bad_request(
                'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays'
            )
        for button in itertools.chain.from_iterable(rows):
            if not isinstance(button, dict) or not button.get("text"):
                raise bad_request("can't parse inline keyboard button: Text is empty")
            if not BUTTON_ACTIONS & button.keys():
                raise bad_request(
                    "can't parse inline keyboard button: Text buttons are unallowed in the "
                    "inline keyboard"
                )
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode("utf-8")) <= (
                MAX_CALLBACK_DATA_BYTES
            ):
                raise bad_request("BUTTON_DATA_INVALID")
        return markup


def _checked_command(command: Any) -> JSON:
    """One BotCommand: name 1..32 of [a-z0-9_], description 1..256 characters."""
    if not isinstance(command, dict):
        raise bad_request("can't parse BotCommand JSON object")
    name = str(command.get("command", ""))
    description = str(command.get("description", ""))
    if not _COMMAND_NAME_RE.fullmatch(name):
        raise bad_request("BOT_COMMAND_INVALID")
    if not 1 <= len(description.strip()) <= 256:
        raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    return {"command": name, "description": description}


def _update_type(update: JSON) -> str:
    return next(key for key in update if key != "update_id")


def _with_chat(predicate: Predicate | None, chat_id: int | None) -> Predicate | None:
    if chat_id is None:
        return predicate

    def matches(record: Record) -> bool:
        return record["chat_id"] == chat_id and (predicate is None or predicate(record))

    return matches
