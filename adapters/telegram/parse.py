"""A Telegram Update as an Invocation: who, where, which command, the rest of the text.

Nothing here trusts the update beyond what Telegram vouches for: the sender's id, the chat's id
and type. Button data is passed on as-is; the core decodes and re-checks it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from telegram import Chat, Message, Update, User

from bot.config import TelegramSettings
from bot.model import Actor, ChatKind, ChatRef, Invocation, Platform, Role, Target

# Messages "sent as the group" by anonymous admins come from this bot account, with
# `sender_chat` set to the group (https://core.telegram.org/bots/api#message, sender_chat).
GROUP_ANONYMOUS_BOT = 1087968824

_KINDS = {
    Chat.PRIVATE: ChatKind.PRIVATE,
    Chat.GROUP: ChatKind.GROUP,
    Chat.SUPERGROUP: ChatKind.GROUP,
    Chat.CHANNEL: ChatKind.CHANNEL,
}


@dataclass(frozen=True)
class ChatConfig:
    """The `[telegram]` settings parse.py needs, read once at start."""

    locales: dict[str, str] = field(default_factory=dict)
    trusted_groups: frozenset[str] = frozenset()

    @classmethod
    def from_settings(cls, settings: TelegramSettings) -> ChatConfig:
        locales = {}
        for item in settings.chat_locales:  # "-1001234=zh_Hans", validated by bot.config
            chat, _, locale = item.partition("=")
            locales[chat.strip()] = locale.strip()
        return cls(locales, frozenset(str(g) for g in settings.trust_anonymous_admins))


def key(update: Update) -> str:
    """Stable across redeliveries of the same update: the core's idempotency key."""
    return f"telegram:{update.update_id}"


def chat_ref(chat: Chat, config: ChatConfig) -> ChatRef:
    return ChatRef(Platform.TELEGRAM, str(chat.id), _KINDS.get(chat.type, ChatKind.GROUP),
                   locale=config.locales.get(str(chat.id)), title=chat.title)


def actor(user: User, message: Message | None, config: ChatConfig) -> Actor:
    """The sender. A message sent *as a chat* (anonymous admin, linked channel) gets an account
    of its own, `chat<id>`, so all anonymous admins everywhere are not one member; it is an
    organiser only when it is the group itself and the group is listed in
    `trust_anonymous_admins`."""
    sender = message.sender_chat if message is not None else None
    if sender is None:
        return Actor(Platform.TELEGRAM, str(user.id), username=user.username,
                     display_name=user.full_name, locale_hint=user.language_code)
    chat_id = str(message.chat.id)
    trusted = (user.id == GROUP_ANONYMOUS_BOT and str(sender.id) == chat_id
               and chat_id in config.trusted_groups)
    return Actor(Platform.TELEGRAM, f"chat{sender.id}", username=sender.username,
                 display_name=sender.title or sender.effective_name,
                 locale_hint=None,
                 platform_role=Role.ORGANISER if trusted else Role.MEMBER)


def reply_target(message: Message, bot_id: int) -> Target | None:
    """The member whose message this one answers, for `/award 5 thanks` sent as a reply.

    Not a target: the bot itself, other bots, and the hidden "reply" every message in a forum
    topic carries to the topic's first service message
    (https://core.telegram.org/bots/api#message, is_topic_message / forum_topic_created).
    """
    replied = message.reply_to_message
    if replied is None or replied.forum_topic_created is not None:
        return None
    if replied.sender_chat is not None and replied.sender_chat.id != message.chat.id:
        return None
    user = replied.from_user
    if user is None or user.id == bot_id or user.is_bot:
        return None
    return Target(Platform.TELEGRAM, user_id=str(user.id), username=user.username,
                  display_name=user.full_name)


def split_command(text: str) -> tuple[str, str]:
    """`/award@campus_bot @bob 5 x` -> ("award", "@bob 5 x"). CommandHandler has already checked
    that an @suffix names this bot (https://core.telegram.org/bots/features#commands)."""
    head, _, rest = text.partition(" ")
    if "\n" in head:  # "/points\nmore" - the command ends at the first whitespace
        head, _, more = head.partition("\n")
        rest = more + (" " + rest if rest else "")
    name = head[1:].split("@", 1)[0].lower()
    return name, rest.strip()


def from_message(update: Update, config: ChatConfig, bot_id: int) -> Invocation | None:
    """A command, or a dialogue answer (plain text in a private chat, or a reply to the bot)."""
    message = update.message
    if message is None or message.from_user is None or message.text is None:
        return None
    who = actor(message.from_user, message, config)
    where = chat_ref(message.chat, config)
    target = reply_target(message, bot_id)
    if message.text.startswith("/"):
        name, rest = split_command(message.text)
        return Invocation(who, where, key(update), command=name, text=rest, reply_to=target)
    return Invocation(who, where, key(update), text=message.text.strip())


def from_press(update: Update, config: ChatConfig) -> Invocation | None:
    """A button press. The message may be inaccessible (older than 48 h): the chat is then
    unknown beyond its id (https://core.telegram.org/bots/api#inaccessiblemessage)."""
    query = update.callback_query
    if query is None or query.data is None:
        return None
    message = query.message
    if message is not None:
        where = chat_ref(message.chat, config)
    else:
        where = ChatRef(Platform.TELEGRAM, str(query.from_user.id), ChatKind.PRIVATE)
    who = actor(query.from_user, None, config)
    return Invocation(who, where, key(update), action=query.data)
