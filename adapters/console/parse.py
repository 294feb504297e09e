"""A typed line into an Invocation: `/command args`, `/press N`, or a dialogue answer."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from bot.model import Actor, ChatKind, ChatRef, Invocation, Platform

# `/name args`: the name is everything up to the first whitespace. It is not checked here: a
# name the core does not know (too long, `/积分`, `/a-b`) gets the core's "There is no command"
# answer, never silence.
_COMMAND = re.compile(r"^/(\S*)(?:\s+(.*))?$", re.DOTALL)
_NUMBER = re.compile(r"^[0-9]{1,9}$")


@dataclass(frozen=True)
class Press:
    """A `/press` line; `number` is None when what follows is not a button number."""

    number: int | None


def chat_for(user: str) -> ChatRef:
    return ChatRef(Platform.CONSOLE, user, ChatKind.PRIVATE)


def split_command(line: str) -> tuple[str, str] | None:
    """`/award@campusbot @bob 5 x` -> ("award", "@bob 5 x"); None for a line without a slash.

    A `@name` suffix addresses a command to a bot, as Telegram writes it in groups
    (https://core.telegram.org/bots/features#commands); the console is always talking to us.
    """
    match = _COMMAND.match(line.strip())
    if match is None:
        return None
    name = match.group(1).split("@", 1)[0].lower()
    return name, (match.group(2) or "").strip()


def parse_press(line: str) -> Press | None:
    """`/press 2` -> Press(2); `/press`, `/press two` -> Press(None); None for other lines."""
    command = split_command(line)
    if command is None or command[0] != "press":
        return None
    rest = command[1]
    return Press(int(rest) if _NUMBER.match(rest) else None)



def parse_line(line: str, actor: Actor, action: str | None = None) -> Invocation | None:
    """None for a blank line. Each line gets a fresh key: a terminal never redelivers.

    A line starting with `/` is always a command (its name may be empty: `/` alone)."""
    line = line.strip()
    if not line:
        return None
    chat = chat_for(actor.user_id)
    key = f"console:{uuid.uuid4().hex}"
    if action is not None:
        return Invocation(actor, chat, key, action=action)
    command = split_command(line)
    if command is not None:
        return Invocation(actor, chat, key, command=command[0], text=command[1])
    return Invocation(actor, chat, key, text=line)
