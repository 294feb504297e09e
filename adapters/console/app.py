"""`campusbot console`: one command per line, from a terminal or a script.

When standard input is not a terminal, standard output carries replies only (a blank line
between them, buttons as `[n] Label`), so scripts and tests can read them; logs go to stderr.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TextIO

from adapters.console.parse import parse_line, press_number
from adapters.console.render import flat_buttons, render, render_notice
from bot.app import App
from bot.delivery import SENT, Deliverer, Outcome, Recipient
from bot.model import Actor, Platform, Role
from bot.reply import Button, Reply

OUT_DIR = Path("data/out")


class ConsoleSession:
    def __init__(self, app: App, user: str = "console", locale: str | None = None,
                 role: Role | None = None, out: TextIO | None = None,
                 interactive: bool = False):
        self.app = app
        self.actor = Actor(Platform.CONSOLE, user, username=user, display_name=user,
                           locale_hint=locale, trusted_role=role)
        self.out = out or sys.stdout
        self.interactive = interactive
        self.buttons: list[Button] = []
        self._printed = False

    async def start(self) -> None:
        """Say who we are and print the notices that waited for this console user."""
        caller = await self.app.services.members.resolve(self.actor)
        self._deliverer = Deliverer(self.app.services, Platform.CONSOLE, self._print_notice,
                                    label=self.actor.user_id,
                                    member_id=caller.member_id)
        if self.interactive:
            self._write("campusbot console — type /help, or Ctrl-D to leave.")
        await self.deliver()

    async def deliver(self) -> None:
        caller = await self.app.services.members.resolve(self.actor)
        self._deliverer.member_id = caller.member_id
        await self._deliverer.run_once()

    async def _print_notice(self, recipient: Recipient, reply: Reply) -> Outcome:
        self._write(render_notice(self.actor.user_id, reply))
        return SENT

    async def handle_line(self, line: str) -> Reply | None:
        number = press_number(line)
        action = None
        if number is not None:
            if not 1 <= number <= len(self.buttons):
                self._write(f"(no button {number}; the last reply had {len(self.buttons)})")
                return None
            action = self.buttons[number - 1].action
        inv = parse_line(line, self.actor, action)
        if inv is None:
            return None
        reply = await self.app.dispatcher.handle(inv)
        if reply is not None:
            self.buttons = flat_buttons(reply)
            self._write(render(reply, OUT_DIR))
        await self.deliver()
        return reply

    def _write(self, text: str) -> None:
        if self._printed:
            self.out.write("\n")
        self.out.write(text + "\n")
        self.out.flush()
        self._printed = True


async def run_console(app: App, user: str, locale: str | None, role: Role | None,
                      stdin: TextIO | None = None) -> None:
    stdin = stdin or sys.stdin
    interactive = stdin.isatty()
    await app.start()
    try:
        session = ConsoleSession(app, user, locale, role, interactive=interactive)
        await session.start()
        loop = asyncio.get_running_loop()
        while True:
            if interactive:
                sys.stdout.write("> ")
                sys.stdout.flush()
            line = await loop.run_in_executor(None, stdin.readline)
            if not line:
                break
            await session.handle_line(line)
    finally:
        await app.close()
