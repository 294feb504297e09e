"""The console adapter as a person meets it: hints, /press, `/cmd@bot`, logs, and (in a
pseudo-terminal) readline, Ctrl-C, Ctrl-D and notices that arrive while the prompt waits."""

from __future__ import annotations

import io
import logging
import os
import select
import subprocess
import sys
import time

import pytest

from adapters.console import app as console_app
from adapters.console.app import ConsoleSession, configure_logging
from adapters.console.parse import parse_press, split_command
from bot.model import Role

HINT = "Commands start with / — send /help to see them."


class Console:
    """One console user on an App; `say` returns what their terminal printed."""

    def __init__(self, app, user: str, role: Role | None = None):
        self.out = io.StringIO()
        self.session = ConsoleSession(app, user, None, role, out=self.out)

    async def say(self, line: str) -> str:
        start = self.out.tell()
        await self.session.handle_line(line)
        return self.out.getvalue()[start:].strip("\n")


@pytest.fixture
async def alice(sqlite_app):
    console = Console(sqlite_app, "alice")
    await console.session.start()
    return console


@pytest.fixture
async def boss(sqlite_app):
    console = Console(sqlite_app, "boss", Role.ORGANISER)
    await console.session.start()
    return console


def test_split_command():
    assert split_command("/award@campusbot @bob 5 x") == ("award", "@bob 5 x")
    assert split_command("  /Points@CampusBot  ") == ("points", "")
    assert split_command("/a-b c") == ("a-b", "c")
    assert split_command("/") == ("", "")
    assert split_command("hello /points") is None
    assert parse_press("/press 2").number == 2
    assert parse_press("/press@campusbot 3").number == 3
    assert parse_press("/press").number is None
    assert parse_press("/press two").number is None
    assert parse_press("/points") is None


async def test_a_line_without_a_slash_gets_a_hint(alice):
    assert await alice.say("hello there") == HINT
    assert await alice.say("/") == HINT  # a slash and no name
    assert await alice.say("   ") == ""  # a blank line is nothing to answer
    await alice.say("/language zh_Hans")
    assert await alice.say("hello") == "命令以 / 开头，发送 /help 查看所有命令。"


async def test_press_explains_itself(boss):
    assert (await boss.say("/press 1")
            == "There is no button 1: the last reply had no buttons.")
    board = await boss.say("/leaderboard")
    assert "[1] This month" in board and "[2] This week" in board and "[3]" not in board
    assert (await boss.say("/press 4")
            == "There is no button 4: the last reply had 2 buttons.")
    assert (await boss.say("/press 0")
            == "There is no button 0: the last reply had 2 buttons.")
    usage = "Send /press and the number of a button, such as /press 1."
    assert await boss.say("/press") == usage
    assert await boss.say("/press one") == usage
    # The buttons are still there after an explanation.
    assert (await boss.say("/press 1")).startswith("Leaderboard — this month")


async def test_a_command_addressed_to_the_bot_answers_like_the_plain_one(alice, boss):
    assert await alice.say("/points@campusbot") == await alice.say("/points")
    awarded = await boss.say("/award@campusbot @alice 5 thanks")
    assert awarded.startswith("Awarded 5 points to alice.")
    assert "Balance: 5 points" in await alice.say("/POINTS@campusbot")


async def test_unknown_command_names_get_an_answer(alice):
    long = "/" + "a" * 60 + " x"
    assert (await alice.say(long)).startswith("There is no command /aaaa")
    assert (await alice.say("/a-b")).startswith("There is no command /a-b.")
    assert (await alice.say("/积分")).startswith("There is no command /积分.")


@pytest.fixture
def root_logger():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield root
    for handler in root.handlers[:]:
        root.removeHandler(handler)
        handler.close()
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def test_logging_below_warning_goes_to_the_file(tmp_path, monkeypatch, capsys, root_logger):
    monkeypatch.chdir(tmp_path)
    configure_logging(verbose=False, interactive=False)
    log = logging.getLogger("campusbot.test")
    log.debug("a debug line")
    log.info("an info line")
    log.warning("a warning line")
    for handler in root_logger.handlers:
        handler.flush()
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "a warning line" in captured.err and "an info line" not in captured.err
    written = (tmp_path / "data" / "console.log").read_text(encoding="utf-8")
    assert "an info line" in written and "a debug line" not in written


def test_verbose_logging_goes_to_stderr(tmp_path, monkeypatch, capsys, root_logger):
    monkeypatch.chdir(tmp_path)
    configure_logging(verbose=True, interactive=False)
    logging.getLogger("campusbot.test").debug("a debug line")
    captured = capsys.readouterr()
    assert "a debug line" in captured.err and captured.out == ""
    assert not (tmp_path / "data" / "console.log").exists()


def test_a_line_above_the_waiting_prompt(monkeypatch):
    out = io.StringIO()
    monkeypatch.setattr(console_app.prompt_line, "waiting", True)
    monkeypatch.setattr(console_app, "_line_buffer", lambda: "/poi")
    console_app.prompt_line.print_above(out, "[to bob] hi", blank_line=True)
    assert out.getvalue() == "\r\x1b[2K\n[to bob] hi\n> /poi"


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAMPUSBOT_")}
    env.update(TERM="xterm", INPUTRC="/dev/null")
    return env


def scripted(tmp_path, script: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", "console", *args], input=script,
                          capture_output=True, text=True, cwd=tmp_path, env=_env(),
                          timeout=60)


def test_scripted_logs_go_to_the_log_file_not_stdout(tmp_path):
    result = scripted(tmp_path, "hello\n/points@campusbot\n", "--user", "x")
    assert result.returncode == 0, result.stderr
    assert result.stdout == (f"{HINT}\n\nBalance: 0 points\n"
                             "No rank yet: earn points to join the leaderboard.\n")
    assert result.stderr == ""
    assert (tmp_path / "data" / "console.log").exists()


WAIT = 30.0  # generous: only how long to wait for output, never an assertion about speed


class Pty:
    """`campusbot console` on a pseudo-terminal, as a person at a terminal runs it."""

    def __init__(self, cwd, *args: str):
        import pty

        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: become the console
            try:
                os.chdir(cwd)
                os.execve(sys.executable, [sys.executable, "-m", "bot", "console", *args],
                          _env())
            finally:
                os._exit(127)
        self.output = b""
        self._seen = 0
        self.status: int | None = None

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(self.fd, 4096)
        except OSError:  # EIO: the child closed the terminal
            return False
        self.output += data
        return bool(data)

    def expect(self, text: str) -> str:
        """Wait for `text` after what was expected before; returns the output up to it."""
        want = text.encode()
        deadline = time.monotonic() + WAIT
        while want not in self.output[self._seen:]:
            if time.monotonic() > deadline or not self._read(0.1):
                raise AssertionError(f"no {text!r} in {self.text()!r}")
        end = self.output.index(want, self._seen) + len(want)
        self._seen = end
        return self.output[:end].decode(errors="replace")

    def send(self, data: bytes) -> None:
        os.write(self.fd, data)

    def wait(self) -> int:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                while self._read(0.05):
                    pass
                self.status = os.waitstatus_to_exitcode(status)
                return self.status
            self._read(0.05)
        raise AssertionError(f"still running; it printed {self.text()!r}")

    def text(self) -> str:
        return self.output.decode(errors="replace")

    def close(self) -> None:
        if self.status is None:
            with_status = os.waitpid(self.pid, os.WNOHANG)
            if not with_status[0]:
                os.kill(self.pid, 9)
                os.waitpid(self.pid, 0)
        os.close(self.fd)


@pytest.fixture
def terminal(tmp_path):
    if sys.platform == "win32":
        pytest.skip("pseudo-terminals are POSIX")
    opened: list[Pty] = []

    def start(*args: str) -> Pty:
        opened.append(Pty(tmp_path, *args))
        return opened[-1]

    yield start
    for one in opened:
        one.close()


def test_ctrl_c_quits_at_once_without_a_traceback(terminal, tmp_path):
    console = terminal("--user", "bob")
    console.expect("> ")
    console.send(b"/help\n")
    console.expect("What you can do")
    console.expect("\n> ")
    console.send(b"/poi")  # half a line: Ctrl-C does not wait for Enter
    console.expect("/poi")
    console.send(b"\x03")
    assert console.wait() == 0
    assert "Traceback" not in console.text() and "Task was destroyed" not in console.text()
    assert console.text().endswith("/poi\r\n")  # the shell's prompt gets a line of its own
    assert " DEBUG " not in console.text() and " INFO " not in console.text()
    assert (tmp_path / "data" / "console.log").exists()


def test_readline_history_and_ctrl_d(terminal, tmp_path):
    console = terminal("--user", "bob")
    console.expect("> ")
    console.send(b"/points\n")
    console.expect("Balance: 0 points")
    console.expect("\n> ")
    console.send(b"\x1b[A\n")  # up arrow: the line before, from readline's history
    console.expect("/points\r\n")  # drawn after the prompt that was already read
    console.expect("Balance: 0 points")
    console.expect("\n> ")
    console.send(b"\x04")  # Ctrl-D at an empty prompt
    assert console.wait() == 0
    assert console.text().endswith("> \r\n")
    assert "Traceback" not in console.text()
    history = (tmp_path / "data" / "console_history").read_text(encoding="utf-8")
    assert history.splitlines()[-2:] == ["/points", "/points"]


def test_a_notice_appears_while_the_prompt_waits(terminal, tmp_path):
    console = terminal("--user", "bob")
    console.expect("> ")
    console.send(b"/poi")
    console.expect("/poi")
    # Another process (an organiser's console on the same database) awards bob.
    award = scripted(tmp_path, "/award @bob 5 thanks\n", "--user", "admin",
                     "--role", "organiser")
    assert award.stdout.startswith("Awarded 5 points to bob."), award.stderr
    console.expect("[to bob] You received 5 points!")
    # The prompt is drawn again below the notice, with what was typed so far.
    console.expect("\r\n> /poi")
    console.send(b"nts\n")
    console.expect("Balance: 5 points")
    console.send(b"\x03")
    assert console.wait() == 0
    assert "Traceback" not in console.text()
