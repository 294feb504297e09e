"""`campusbot console`: one command per line, from a terminal or a script.

When standard input is a terminal, lines are read with readline (editing, and a history kept
in ./data/console_history), notices are printed as they arrive, above the waiting prompt,
Ctrl-C quits at once and Ctrl-D ends the session.

When it is not, standard output carries replies only (a blank line between them, buttons as
`[n] Label`), so scripts and tests can read them, and notices are delivered after each line.

Either way log records below WARNING go to ./data/console.log and WARNING and above to
stderr; with -v everything, from DEBUG up, goes to stderr instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import TextIO

from adapters.console.parse import parse_line, parse_press
from adapters.console.render import flat_buttons, render, render_notice
from bot.app import App
from bot.delivery import SENT, Deliverer, Outcome, Recipient
from bot.model import Actor, Invocation, Platform, Role
from bot.reply import Button, Reply

DATA_DIR = Path("data")
OUT_DIR = DATA_DIR / "out"
LOG_FILE = DATA_DIR / "console.log"
HISTORY_FILE = DATA_DIR / "console_history"
HISTORY_LENGTH = 1000
PROMPT = "> "
POLL_SECONDS = 1.0  # how often an interactive session looks for notices queued elsewhere
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class PromptLine:
    """The terminal's last line while a prompt waits for input: what is printed meanwhile
    (a notice, a warning) goes above it, and the prompt and the typed text are drawn again."""

    def __init__(self) -> None:
        self.waiting = False
        self._lock = threading.Lock()

    def print_above(self, stream: TextIO, text: str, blank_line: bool = False) -> None:
        with self._lock:
            if not self.waiting:
                stream.write(("\n" if blank_line else "") + text + "\n")
                stream.flush()
                return
            # \r and "erase line" (ESC [ 2 K) remove the prompt; then the text, then the
            # prompt again with what readline holds so far.
            stream.write("\r\x1b[2K" + ("\n" if blank_line else "") + text + "\n"
                         + PROMPT + _line_buffer())
            stream.flush()


prompt_line = PromptLine()


def _line_buffer() -> str:
    readline = sys.modules.get("readline")
    if readline is None:
        return ""
    try:
        return readline.get_line_buffer()
    except Exception:
        return ""


class _AbovePromptHandler(logging.StreamHandler):
    """A stderr handler that does not write into the middle of the prompt line."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            prompt_line.print_above(self.stream, self.format(record))
        except Exception:
            self.handleError(record)


def configure_logging(verbose: bool, interactive: bool) -> None:
    """Replace the root logger's handlers: below WARNING to ./data/console.log and WARNING+
    to stderr, or with `verbose` everything from DEBUG to stderr. In a terminal, a record
    written to stderr while the prompt waits goes above the prompt."""
    root = logging.getLogger()
    for handler in root.handlers[:]:
        root.removeHandler(handler)
        handler.close()
    formatter = logging.Formatter(LOG_FORMAT)
    stderr = (_AbovePromptHandler if interactive else logging.StreamHandler)(sys.stderr)
    stderr.setFormatter(formatter)
    root.addHandler(stderr)
    if verbose:
        root.setLevel(logging.DEBUG)
        return
    root.setLevel(logging.INFO)
    stderr.setLevel(logging.WARNING)
    try:
        LOG_FILE.parent.mkdir(parents=True, exist_ok=True)
        file = logging.FileHandler(LOG_FILE, encoding="utf-8")
    except OSError as exc:
        logging.getLogger(__name__).warning("cannot write %s (%s): logging warnings only",
                                            LOG_FILE, exc)
        return
    file.setFormatter(formatter)
    root.addHandler(file)


class ConsoleSession:
    def __init__(self, app: App, user: str = "console", locale: str | None = None,
                 role: Role | None = None, out: TextIO | None = None,
                 interactive: bool = False):
        self.app = app
        self.actor = Actor(Platform.CONSOLE, user.lower(), username=user, display_name=user,
                           locale_hint=locale, trusted_role=role)
        self.out = out or sys.stdout
        self.interactive = interactive
        self.buttons: list[Button] = []
        self._printed = False
        # Held while a line is answered: a notice that arrives meanwhile is printed after
        # the reply, never in the middle of it.
        self._busy = asyncio.Lock()
        self._deliverer: Deliverer | None = None

    async def start(self) -> None:
        """Say who we are and print the notices that waited for this console user; in a
        terminal, keep delivering in the background until `close()`."""
        caller = await self.app.services.members.resolve(self.actor)
        self._deliverer = Deliverer(self.app.services, Platform.CONSOLE, self._print_notice,
                                    label=self.actor.user_id, member_id=caller.member_id,
                                    poll_seconds=POLL_SECONDS)
        if self.interactive:
            self._write("campusbot console — type /help; Ctrl-D or Ctrl-C to leave.")
        await self._deliverer.run_once()
        if self.interactive:
            self._deliverer.start()

    async def close(self) -> None:
        if self._deliverer is not None:
            await self._deliverer.stop()

    async def deliver(self) -> None:
        await self._follow_member()
        await self._deliverer.run_once()

    async def _follow_member(self) -> None:
        """After /link the console account may belong to another member: deliver theirs."""
        caller = await self.app.services.members.resolve(self.actor)
        if self._deliverer.member_id != caller.member_id:
            self._deliverer.member_id = caller.member_id
            self.app.services.notifier.wake()

    async def _print_notice(self, recipient: Recipient, reply: Reply) -> Outcome:
        async with self._busy:
            text = render_notice(self.actor.user_id, reply, OUT_DIR)
            if self.interactive:
                prompt_line.print_above(self.out, text, blank_line=self._printed)
                self._printed = True
            else:
                self._write(text)
        return SENT

    async def handle_line(self, line: str) -> Reply | None:
        async with self._busy:
            reply = await self._answer(line)
        if self.interactive:
            await self._follow_member()  # the background loop delivers
        else:
            await self.deliver()
        return reply

    async def _answer(self, line: str) -> Reply | None:
        press = parse_press(line)
        action = None
        if press is not None:
            button = self._button(press.number)
            if button is None:
                t = await self.app.dispatcher.reader(parse_line(line, self.actor))
                self._write(self._press_help(t, press.number))
                return None
            action = button.action
        inv = parse_line(line, self.actor, action)
        if inv is None:
            return None
        if inv.command == "":  # `/` alone
            await self._hint(inv)
            return None
        reply = await self.app.dispatcher.handle(inv)
        if reply is not None:
            self.buttons = flat_buttons(reply)
            self._write(render(reply, OUT_DIR))
            for followup in reply.followups:
                self._write(render(followup, OUT_DIR))
        elif inv.command is None and inv.action is None:
            await self._hint(inv)  # plain text, and no question waiting for an answer
        return reply

    def _button(self, number: int | None) -> Button | None:
        if number is None or not 1 <= number <= len(self.buttons):
            return None
        return self.buttons[number - 1]

    def _press_help(self, t, number: int | None) -> str:
        count = len(self.buttons)
        if number is None:
            return t.gettext("Send /press and the number of a button, such as /press 1.")
        if count == 0:
            # TRANSLATORS: {number} is what followed /press; the console numbers buttons [1], [2]…
            return t.gettext("There is no button {number}: the last reply had no buttons."
                             ).format(number=number)
        # TRANSLATORS: {number} is what followed /press; {count} the buttons there are.
        return t.ngettext("There is no button {number}: the last reply had {count} button.",
                          "There is no button {number}: the last reply had {count} buttons.",
                          count).format(number=number, count=count)

    async def _hint(self, inv: Invocation) -> None:
        t = await self.app.dispatcher.reader(inv)
        # TRANSLATORS: the console's answer to a line that is not a command.
        self._write(t.gettext("Commands start with / — send /help to see them."))

    def _write(self, text: str) -> None:
        if self._printed:
            self.out.write("\n")
        self.out.write(text + "\n")
        self.out.flush()
        self._printed = True


class LineReader:
    """Reads lines in a daemon thread, one when asked: a thread blocked in `input()` must not
    keep the process alive after Ctrl-C (an executor's worker would be joined at exit)."""

    def __init__(self, stdin: TextIO, interactive: bool):
        self.stdin = stdin
        self.interactive = interactive
        self._loop = asyncio.get_running_loop()
        self._lines: asyncio.Queue[str | None] = asyncio.Queue()
        self._wanted = threading.Event()
        self._thread = threading.Thread(target=self._run, name="console-input", daemon=True)
        self._hooked = False
        self._history = False

    def start(self) -> None:
        if self.interactive and self.stdin is sys.stdin:
            self._hooked, self._history = _setup_readline()
        self._thread.start()

    async def readline(self) -> str | None:
        """The next line, or None at the end of the input."""
        self._wanted.set()
        return await self._lines.get()

    def _run(self) -> None:
        # Ctrl-C is for the event loop (which stops the session), not for readline here.
        with contextlib.suppress(AttributeError, ValueError, OSError):
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        while True:
            self._wanted.wait()
            self._wanted.clear()
            try:
                line = self._read()
            except (EOFError, OSError, ValueError):
                line = None
            try:
                self._loop.call_soon_threadsafe(self._lines.put_nowait, line)
            except RuntimeError:  # the loop closed while this line was typed
                return
            if line is None:
                return

    def _read(self) -> str | None:
        if not (self.interactive and self.stdin is sys.stdin):
            return self.stdin.readline() or None
        # With readline the pre-input hook says "waiting" once the prompt is on the screen.
        prompt_line.waiting = not self._hooked
        try:
            line = input(PROMPT)  # with readline imported: editing and history
        finally:
            prompt_line.waiting = False
        if self._history and line.strip():
            _append_history()
        return line


def _prompt_shown() -> None:
    prompt_line.waiting = True


def _setup_readline() -> tuple[bool, bool]:
    """Import readline (so `input()` edits lines) and read the saved history. Returns
    whether the pre-input hook is set and whether a history file is kept."""
    try:
        import readline
    except ImportError:
        return False, False
    hooked = True
    try:
        readline.set_pre_input_hook(_prompt_shown)
    except AttributeError:  # built without rl_pre_input_hook
        hooked = False
    try:
        HISTORY_FILE.parent.mkdir(parents=True, exist_ok=True)
        if HISTORY_FILE.exists():
            readline.read_history_file(HISTORY_FILE)
        readline.set_history_length(HISTORY_LENGTH)
        readline.write_history_file(HISTORY_FILE)  # trimmed to HISTORY_LENGTH
    except (OSError, AttributeError):
        return hooked, False
    return hooked, True


def _append_history() -> None:
    import readline

    with contextlib.suppress(OSError, AttributeError):
        readline.append_history_file(1, HISTORY_FILE)


async def run_console(app: App, user: str, locale: str | None, role: Role | None,
                      stdin: TextIO | None = None, verbose: bool = False) -> None:
    stdin = stdin or sys.stdin
    interactive = stdin.isatty()
    configure_logging(verbose, interactive)
    if not interactive:
        await _session(app, user, locale, role, stdin, interactive)
        return
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()
    terminal = _terminal_state(stdin)

    def interrupted() -> None:
        # Quit at once; a second Ctrl-C (while closing) is Python's usual KeyboardInterrupt.
        loop.remove_signal_handler(signal.SIGINT)
        main.cancel()

    loop.add_signal_handler(signal.SIGINT, interrupted)
    try:
        await _session(app, user, locale, role, stdin, interactive)
    except asyncio.CancelledError:
        main.uncancel()  # Ctrl-C: a normal end, not an error
        sys.stdout.write("\n")  # leave the shell's prompt a line of its own
        sys.stdout.flush()
    finally:
        loop.remove_signal_handler(signal.SIGINT)
        _restore_terminal(stdin, terminal)


async def _session(app: App, user: str, locale: str | None, role: Role | None,
                   stdin: TextIO, interactive: bool) -> None:
    await app.start()
    await app.start_scheduler()
    session = None
    try:
        session = ConsoleSession(app, user, locale, role, interactive=interactive)
        await session.start()
        reader = LineReader(stdin, interactive)
        reader.start()
        while True:
            line = await reader.readline()
            if line is None:
                if interactive:
                    sys.stdout.write("\n")  # Ctrl-D: end the prompt's line
                    sys.stdout.flush()
                break
            await session.handle_line(line)
    finally:
        try:
            if session is not None:
                await session.close()
        finally:
            await app.close()


def _terminal_state(stdin: TextIO):
    """The terminal's settings before readline changes them; restored on the way out, since
    Ctrl-C leaves readline no chance to."""
    try:
        import termios

        return termios.tcgetattr(stdin.fileno())
    except Exception:
        return None


def _restore_terminal(stdin: TextIO, state) -> None:
    if state is None:
        return
    with contextlib.suppress(Exception):
        import termios

        termios.tcsetattr(stdin.fileno(), termios.TCSADRAIN, state)
