"""The Telegram adapter: a python-telegram-bot Application wired to the core dispatcher.

One handler per CommandSpec from the registry (no feature is named here), one for dialogue
answers, one for button presses; replies are rendered by render.py and paced by pacing.py. The
outbox Deliverer runs beside it for notifications. `serve(app)` is what `campusbot run` awaits;
tests and the benchmark use `TelegramAdapter.start()`/`stop()` directly, which build the bot
exactly the same way.
"""

from __future__ import annotations

import asyncio
import logging
import time
from urllib.parse import urlsplit

from telegram import (
    CallbackQuery,
    LinkPreviewOptions,
    Message,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from adapters.telegram import parse, render
from adapters.telegram.http import AiohttpRequest
from adapters.telegram.menus import set_menus
from adapters.telegram.pacing import Limits, PaceArgs, Pacer, Unsent, retry_seconds
from bot.app import App
from bot.delivery import SENT, STOP_GRACE, Deliverer, Outcome, Recipient, Status
from bot.errors import StartupError, os_reason
from bot.model import ChatKind, Invocation
from bot.reply import Reply, Span, Text, link

log = logging.getLogger(__name__)

# Only what we handle: fewer updates to fetch and parse
# (https://core.telegram.org/bots/api#getupdates, allowed_updates).
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
# CommandHandler also matches *edited* messages by default; an edited "/award" would run again
# under a new update_id, so only new messages count
# (https://docs.python-telegram-bot.org/en/v22.8/telegram.ext.commandhandler.html).
NEW_MESSAGES = filters.UpdateType.MESSAGE
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
MAX_NOTICE = 200  # answerCallbackQuery text: 0-200 characters
SEND_CONNECTIONS = 32  # keep-alive connections to the Bot API for everything but getUpdates


class TelegramAdapter:
    def __init__(self, app: App, *, poll_timeout: int = 10,
                 delivery_poll_seconds: float = 2.0, stop_grace: float = STOP_GRACE):
        self.app = app
        self.settings = app.settings.telegram
        self.limits = Limits.from_settings(self.settings)
        self.pacer = Pacer(self.limits)
        self.stop_grace = stop_grace
        self.poll_timeout = poll_timeout
        self.delivery_poll_seconds = delivery_poll_seconds
        self.chats = parse.ChatConfig.from_settings(self.settings)
        self.application = self.build()
        self._recent: dict[tuple, float] = {}
        self._delivery: Deliverer | None = None

    # -- wiring ----------------------------------------------------------------------------

    def build(self) -> Application:
        """The Application `serve` runs. `base_url` is passed unchanged: PTB appends the token
        without a slash, so it ends in `/bot`, like the default `https://api.telegram.org/bot`
        (https://docs.python-telegram-bot.org/en/v22.8/telegram.ext.applicationbuilder.html)."""
        application = (
            Application.builder()
            .token(self.settings.token)
            .base_url(self.settings.base_url)
            .base_file_url(self.settings.base_file_url)
            .request(AiohttpRequest(connection_pool_size=SEND_CONNECTIONS))
            .get_updates_request(AiohttpRequest(connection_pool_size=1))
            .rate_limiter(self.pacer)
            # Independent updates run side by side; each is one short transaction in the core.
            .concurrent_updates(True)
            .build()
        )
        for spec in self.app.registry:
            application.add_handler(CommandHandler(spec.name, self._on_message,
                                                   filters=NEW_MESSAGES))
        # Unknown commands in a private chat get the core's "no such command"; in groups they
        # may be meant for another bot, so they are left alone.
        application.add_handler(MessageHandler(
            filters.COMMAND & filters.ChatType.PRIVATE & NEW_MESSAGES, self._on_message))
        application.add_handler(MessageHandler(
            filters.TEXT & ~filters.COMMAND & NEW_MESSAGES
            & (filters.ChatType.PRIVATE | filters.REPLY), self._on_message))
        application.add_handler(CallbackQueryHandler(self._on_press))
        application.add_error_handler(self._on_error)
        return application

    async def start(self) -> None:
        """Log in (fails fast on a bad token), write the menus, start receiving, deliver."""
        application = self.application
        try:
            await application.initialize()
        except BaseException as exc:
            # getMe failed after the HTTP sessions were opened, and Application.shutdown()
            # does nothing for an Application that never finished initialize(): close them.
            await application.bot.shutdown()
            if isinstance(exc, InvalidToken):
                raise StartupError("telegram.token: Telegram rejected the token (401 "
                                   "Unauthorized) — check CAMPUSBOT_TELEGRAM__TOKEN") from exc
            if isinstance(exc, NetworkError):
                cause = exc.__cause__
                reason = os_reason(cause) if isinstance(cause, OSError) else str(exc)
                raise StartupError(f"telegram.base_url: cannot reach the Bot API at "
                                   f"{self.settings.base_url} ({reason})") from exc
            raise
        try:
            await set_menus(application.bot, self.app.registry, self.app.settings)
            await application.start()
            await self._receive()
        except BaseException:
            await self.stop()
            raise
        self._delivery = Deliverer(self.app.services, "telegram", self.send,
                                   poll_seconds=self.delivery_poll_seconds)
        self._delivery.start()
        self.app.settle()
        log.info("telegram: @%s is %s", application.bot.username, self.settings.mode)

    async def _receive(self) -> None:
        updater = self.application.updater
        if self.settings.mode != "webhook":
            await updater.start_polling(poll_interval=0.0, timeout=self.poll_timeout,
                                        allowed_updates=ALLOWED_UPDATES)
            return
        host, _, port = self.settings.webhook_listen.rpartition(":")
        # PTB's webhook server answers 403 to any request whose X-Telegram-Bot-Api-Secret-Token
        # header is missing or wrong (https://core.telegram.org/bots/api#setwebhook).
        await updater.start_webhook(
            listen=host, port=int(port), url_path=urlsplit(self.settings.webhook_url).path,
            webhook_url=self.settings.webhook_url, secret_token=self.settings.webhook_secret,
            allowed_updates=ALLOWED_UPDATES)

    async def stop(self) -> None:
        """Stop the outbox (a notice in hand is finished or left for the next start), then
        receiving; replies still waiting for their chat's flood-limit turn get `stop_grace`
        seconds, not the minute a busy group may need."""
        if self._delivery is not None:
            await self._delivery.stop()
            self._delivery = None
        self.pacer.stopping(self.stop_grace)
        application = self.application
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
        await application.shutdown()

    @property
    def username(self) -> str:
        return self.application.bot.username

    # -- incoming --------------------------------------------------------------------------

    async def _on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.message
        if message is None:
            return
        if (message.text and not message.text.startswith("/")
                and message.chat.type != ChatType.PRIVATE and not self._to_me(message)):
            return  # a reply to someone else in a group: not a dialogue answer for us
        inv = parse.from_message(update, self.chats, self.application.bot.id)
        if inv is None:
            return
        quiet = inv.command is not None and self._cooling(inv)
        reply = await self.app.dispatcher.handle(inv)
        if reply is not None:
            await self._respond(message, inv, reply, quiet)

    def _to_me(self, message: Message) -> bool:
        replied = message.reply_to_message
        return bool(replied and replied.from_user
                    and replied.from_user.id == self.application.bot.id)

    async def _on_press(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Every press is answered, stale, foreign and failed ones too, or the button spins
        (https://core.telegram.org/bots/api#answercallbackquery)."""
        query = update.callback_query
        notice: str | None = None
        try:
            inv = parse.from_press(update, self.chats)
            if inv is None:
                return
            if inv.chat.kind != ChatKind.PRIVATE and self._cooling(inv, query):
                t = await self.app.dispatcher.reader(inv)
                notice = t.gettext("Please wait a moment.")
                return
            reply = await self.app.dispatcher.handle(inv)
            if reply is not None:
                notice = await self._respond_press(query, inv, reply)
        finally:
            await self._answer(query, notice)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        update_id = update.update_id if isinstance(update, Update) else None
        if isinstance(context.error, Unsent):
            log.warning("telegram update %s: reply %s", update_id, context.error.message)
            return
        log.error("telegram update %s failed", update_id, exc_info=context.error)

    def _cooling(self, inv: Invocation, query: CallbackQuery | None = None) -> bool:
        """True when this member repeats a command (or presses again) in this group within
        `group_cooldown_seconds`: a group gets 20 messages a minute
        (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this),
        and one person must not use them up."""
        if inv.chat.kind == ChatKind.PRIVATE:
            return False
        pressed = query.message.message_id if query and query.message else None
        what = inv.command if query is None else ("press", pressed)
        key = (inv.chat.chat_id, inv.actor.user_id, what)
        now = time.monotonic()
        cooldown = self.settings.group_cooldown_seconds
        if len(self._recent) > 10_000:
            self._recent = {k: v for k, v in self._recent.items() if v > now - cooldown}
        last = self._recent.get(key)
        if last is not None and now - last < cooldown:
            return True
        self._recent[key] = now
        return False

    # -- replies ---------------------------------------------------------------------------

    async def _respond(self, message: Message, inv: Invocation, reply: Reply,
                       quiet: bool) -> None:
        """Private chats get the reply as it is. In a group: personal replies go to the private
        chat with a short pointer in the group; errors are cut to their first line; a repeat
        within the cooldown gets nothing in the group."""
        chat_id = message.chat.id
        if message.chat.type == ChatType.PRIVATE:
            await self.post(chat_id, reply)
        elif quiet:
            # A repeated dialogue command's question is the one already asked in the group
            # (answered there, a private copy would not reach this chat's dialogue).
            if not reply.error and not reply.ask:
                await self._to_private(inv, reply)
        elif reply.error:
            await self.post(chat_id, render.first_line(reply), reply_to=message.message_id)
        elif reply.private:
            await self.post(chat_id, await self._pointer(inv, reply), reply_to=message.message_id)
        else:
            await self.post(chat_id, reply, reply_to=message.message_id)
        for followup in reply.followups:
            if message.chat.type == ChatType.PRIVATE or not followup.private:
                await self.post(chat_id, followup)
            else:
                await self._to_private(inv, followup)

    async def _pointer(self, inv: Invocation, reply: Reply) -> Reply:
        """Send `reply` privately; the group only learns where it went, never its content."""
        t = await self.app.dispatcher.reader(inv)
        if await self._to_private(inv, reply):
            return Text().add(t.gettext("I sent you the answer in a private message.")).reply()
        url = self.deep_link(inv.command)
        return Text().fmt(t.gettext("Open a private chat with me to see this: {link}"),
                          link=link(url, url)).reply()

    def deep_link(self, command: str | None) -> str:
        """t.me/<bot>?start=<payload> reopens `command` in the private chat when the core
        declared a payload for it, else the link just opens the chat
        (https://core.telegram.org/bots/features#deep-linking; payload A-Za-z0-9_-, 1-64)."""
        base = f"https://t.me/{self.username}"
        payload = self.app.registry.deep_link_for(command) if command else None
        return f"{base}?start={payload}" if payload else base

    async def _to_private(self, inv: Invocation, reply: Reply) -> bool:
        """False when the member never started the bot or blocked it (403): a bot cannot
        write first (https://core.telegram.org/bots/faq#how-do-i-message-a-user)."""
        if not inv.actor.user_id.isdigit():  # sent as a chat (anonymous admin): no private chat
            return False
        try:
            await self.post(int(inv.actor.user_id), reply)
        except Forbidden:
            return False
        except BadRequest as exc:
            log.info("private reply to %s failed: %s", inv.actor.account_id, exc.message)
            return False
        return True

    async def _respond_press(self, query: CallbackQuery, inv: Invocation,
                             reply: Reply) -> str | None:
        """Edit the pressed message for pagination, or post anew; returns the toast text."""
        if reply.error:
            return reply.notice or render.first_line(reply).plain_text
        message = query.message
        in_group = inv.chat.kind != ChatKind.PRIVATE
        if in_group and reply.private:
            t = await self.app.dispatcher.reader(inv)
            if await self._to_private(inv, reply.with_(edit=False)):
                return t.gettext("I sent you the answer in a private message.")
            url = self.deep_link(None)
            return t.gettext("Open a private chat with me to see this: {link}").format(link=url)
        if reply.ask and in_group:
            reply = _addressed(inv, reply)
        if reply.edit and isinstance(message, Message) and not reply.ask:
            await self.edit(message, reply)
        elif message is not None:
            await self.post(message.chat.id, reply)
        return reply.notice

    async def _answer(self, query: CallbackQuery, notice: str | None) -> None:
        try:
            await query.answer(text=notice[:MAX_NOTICE] if notice else None)
        except TelegramError as exc:  # too old (over ~15 s) or already answered
            log.info("answerCallbackQuery %s failed: %s", query.id, exc)

    # -- sending ---------------------------------------------------------------------------

    async def post(self, chat_id: int, reply: Reply, reply_to: int | None = None,
                   pace: PaceArgs | None = None) -> list[Message]:
        """Send a reply as one or more HTML messages (keyboard on the last), then its files."""
        sent = await self._send_parts(chat_id, render.chunks(reply.spans), reply, reply_to, pace)
        for attachment in reply.attachments:
            sent.append(await self.application.bot.send_document(
                chat_id, attachment.data, filename=attachment.filename,
                reply_parameters=_reply_to(reply_to) if not sent else None,
                rate_limit_args=pace))
        return sent

    async def _send_parts(self, chat_id: int, parts: list[str], reply: Reply,
                          reply_to: int | None, pace: PaceArgs | None) -> list[Message]:
        sent = []
        for index, text in enumerate(parts):
            last = index == len(parts) - 1
            sent.append(await self.application.bot.send_message(
                chat_id, text, parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW,
                reply_markup=render.markup(reply) if last else None,
                reply_parameters=_reply_to(reply_to) if index == 0 else None,
                rate_limit_args=pace))
        return sent

    async def edit(self, message: Message, reply: Reply) -> None:
        """Replace the pressed message (editMessageText); overflow goes out as new messages."""
        parts = render.chunks(reply.spans)
        if not parts:
            return
        try:
            await self.application.bot.edit_message_text(
                parts[0], chat_id=message.chat.id, message_id=message.message_id,
                parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW,
                reply_markup=render.keyboard(reply) if len(parts) == 1 else None)
        except BadRequest as exc:
            # Pressing the button of the page already shown: Telegram refuses the identical
            # edit (https://core.telegram.org/bots/api#editmessagetext, "message is not
            # modified"); anything else (too old to edit) gets a new message instead.
            if "not modified" in exc.message.lower():
                return
            log.info("edit of %s failed (%s); sending anew", message.message_id, exc.message)
            await self.post(message.chat.id, reply)
            return
        await self._send_parts(message.chat.id, parts[1:], reply, None, None)

    async def send(self, recipient: Recipient, reply: Reply) -> Outcome:
        """The outbox's `send`: one notice to a member's private chat or to a chat.

        A 429 is handed back (max_retries 0) so the outbox schedules the retry and its loop
        goes on; 403 means blocked or never started, the account is then unreachable.
        """
        if not recipient.chat_id.lstrip("-").isdigit():
            return Outcome(Status.UNREACHABLE, error="sent as a chat: no private chat")
        try:
            await self.post(int(recipient.chat_id), reply, pace={"max_retries": 0})
        except RetryAfter as exc:
            return Outcome(Status.RETRY, retry_after=retry_seconds(exc), error=str(exc))
        except Forbidden as exc:
            return Outcome(Status.UNREACHABLE, error=exc.message)
        except BadRequest as exc:  # BadRequest is a NetworkError in PTB: catch it first
            if "chat not found" in exc.message.lower():
                return Outcome(Status.UNREACHABLE, error=exc.message)
            return Outcome(Status.FAILED, error=exc.message)
        except NetworkError as exc:  # includes TimedOut
            return Outcome(Status.RETRY, error=f"{type(exc).__name__}: {exc}")
        return SENT


def _addressed(inv: Invocation, reply: Reply) -> Reply:
    """A question a button asked in a group, addressed to the presser: a press is no message
    to reply to, so the text mentions them, and ForceReply(selective) opens the reply field
    for the members mentioned (https://core.telegram.org/bots/api#forcereply)."""
    if not inv.actor.user_id.isdigit():  # sent as a chat: nobody to mention
        return reply
    name = inv.actor.display_name or inv.actor.username or inv.actor.user_id
    mention = link(name, f"tg://user?id={inv.actor.user_id}")
    return reply.with_(spans=(mention, Span(": "), *reply.spans))


def _reply_to(message_id: int | None) -> ReplyParameters | None:
    """Answer the command's message in groups; still send if it was deleted meanwhile."""
    if message_id is None:
        return None
    return ReplyParameters(message_id, allow_sending_without_reply=True)



async def serve(app: App) -> None:
    """Run until cancelled (`campusbot run`), then shut python-telegram-bot down cleanly."""
    adapter = TelegramAdapter(app)
    await adapter.start()
    try:
        await asyncio.Event().wait()
    finally:
        await adapter.stop()
