"""A typed line into an Invocation: `/command args`, `/press N`, or a dialogue answer."""

from __future__ import annotations

import re
import uuid

from bot.model import Actor, ChatKind, ChatRef, Invocation, Platform

_COMMAND = re.compile(r"^/([A-Za-z0-9_]{1,32})(?:\s+(.*))?$", re.DOTALL)
_PRESS = re.compile(r"^/press\s+(\d{1,3})\s*$")


def chat_for(user: str) -> ChatRef:
    return ChatRef(Platform.CONSOLE, user, ChatKind.PRIVATE)


def press_number(line: str) -> int | None:
    match = _PRESS.match(line.strip())
    return int(match.group(1)) if match else None


def parse_line(line: str, actor: Actor, action: str | None = None) -> Invocation | None:
    """None for a blank line. Each line gets a fresh key: a terminal never redelivers."""
    line = line.strip()
    if not line:
        return None
    chat = chat_for(actor.user_id)
    key = f"console:{uuid.uuid4().hex}"
    if action is not None:
        return Invocation(actor, chat, key, action=action)
    match = _COMMAND.match(line)
    if match:
        return Invocation(actor, chat, key, command=match.group(1).lower(),
                          text=match.group(2) or "")
    return Invocation(actor, chat, key, text=line)
