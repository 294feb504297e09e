"""A start that cannot work says one `section.key: problem` line on stderr and exits 1.

Each case runs the real CLI in a subprocess, in a clean environment and a fresh folder. The
database cases never reach a real database: a closed port, a path that cannot be created, or a
few lines of the PostgreSQL wire protocol that answer every login with "no such database". The
rejected tokens come from a local HTTP server that answers 401 to everything.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

CLOSED = "127.0.0.1:1"  # nothing listens on port 1
NOISE = ("Traceback", "Unclosed", "Task was destroyed", "PyNaCl", "davey", "voice")
BAD_DISCORD_TOKEN = ("discord.token: Discord rejected the token (401 Unauthorized) — check "
                     "CAMPUSBOT_DISCORD__TOKEN")
BAD_TELEGRAM_TOKEN = ("telegram.token: Telegram rejected the token (401 Unauthorized) — check "
                      "CAMPUSBOT_TELEGRAM__TOKEN")
DISCORD_ON = {"CAMPUSBOT_DISCORD__ENABLED": "true", "CAMPUSBOT_DISCORD__TOKEN": "not-a-token"}
# Every command that opens the database; `run` and `discord-sync` with Discord set up (the
# database is opened first, so Discord is never asked).
DATABASE_COMMANDS = [("run",), ("console",), ("migrate",), ("export", "ledger"),
                     ("discord-sync",)]


def campusbot(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CAMPUSBOT_")}
    clean.update(env)
    return subprocess.run([sys.executable, "-m", "bot", *args], input="", capture_output=True,
                          text=True, cwd=cwd, env=clean, timeout=120)


def assert_says(result: subprocess.CompletedProcess, line: str, code: int = 1) -> None:
    """Exactly `line` on stderr (nothing before or after it), exit `code`, no noise."""
    assert result.stderr.splitlines()[:1] == [line], result.stderr
    assert result.stderr == line + "\n"
    assert result.returncode == code
    for noise in NOISE:
        assert noise not in result.stderr


def database_env(url: str, command: tuple[str, ...]) -> dict[str, str]:
    env = {"CAMPUSBOT_DATABASE__URL": url}
    if command[0] in ("run", "discord-sync"):
        env |= DISCORD_ON | {"CAMPUSBOT_DISCORD__API_BASE_URL": f"http://{CLOSED}/api/v10"}
    return env


def os_reason(number: int) -> str:
    text = os.strerror(number)
    return text[0].lower() + text[1:]


REFUSED = os_reason(errno.ECONNREFUSED)  # "connection refused"


# -- SQLite ----------------------------------------------------------------------------------


@pytest.mark.parametrize("command", DATABASE_COMMANDS, ids=lambda c: c[0])
def test_sqlite_folder_that_cannot_be_made(tmp_path, command):
    (tmp_path / "notes.txt").write_text("a file where the folder should be\n")
    db = tmp_path / "notes.txt" / "campusbot.db"
    result = campusbot(tmp_path, *command, **database_env(f"sqlite+aiosqlite:///{db}", command))
    assert_says(result, f"database.url: cannot open the SQLite database at {db} "
                        f"({tmp_path / 'notes.txt'} is a file, not a folder)")


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_sqlite_path_under_proc(tmp_path):
    try:
        os.mkdir("/proc/nope")
    except OSError as exc:
        reason = os_reason(exc.errno)
    else:  # pragma: no cover - /proc takes no folders
        pytest.skip("could create /proc/nope")
    result = campusbot(tmp_path, "migrate",
                       CAMPUSBOT_DATABASE__URL="sqlite+aiosqlite:////proc/nope/x.db")
    assert_says(result, "database.url: cannot open the SQLite database at /proc/nope/x.db "
                        f"(cannot create the folder /proc/nope: {reason})")


def test_sqlite_file_that_is_not_a_database(tmp_path):
    tmp_path = tmp_path.resolve()  # the default URL is relative: shown from the real cwd
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "campusbot.db").write_text("not SQLite\n" * 100)
    result = campusbot(tmp_path, "console")
    assert_says(result, "database.url: cannot open the SQLite database at "
                        f"{tmp_path / 'data' / 'campusbot.db'} (file is not a database)")


def test_sqlite_path_that_is_a_folder(tmp_path):
    (tmp_path / "db").mkdir()
    result = campusbot(tmp_path, "migrate",
                       CAMPUSBOT_DATABASE__URL=f"sqlite+aiosqlite:///{tmp_path / 'db'}")
    assert_says(result, f"database.url: cannot open the SQLite database at {tmp_path / 'db'} "
                        "(unable to open database file: it is a folder)")


# -- PostgreSQL --------------------------------------------------------------------------------


@pytest.mark.parametrize("command", DATABASE_COMMANDS, ids=lambda c: c[0])
def test_postgres_down(tmp_path, command):
    pytest.importorskip("asyncpg")
    url = f"postgresql+asyncpg://campusbot@{CLOSED}/campusbot"
    result = campusbot(tmp_path, *command, **database_env(url, command))
    assert_says(result, f"database.url: PostgreSQL at {CLOSED} is not reachable "
                        f"({REFUSED})")


@pytest.fixture
def postgres_without_the_database() -> Iterator[str]:
    """host:port of a "server" that answers each login with FATAL 3D000, as PostgreSQL does
    for a database that does not exist."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def read(conn: socket.socket, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = conn.recv(n - len(data))
            if not chunk:
                raise ConnectionError
            data += chunk
        return data

    def answer(conn: socket.socket) -> None:
        with conn:
            try:
                length, code = struct.unpack("!ii", read(conn, 8))
                if code == 80877103:  # SSLRequest: "N", no TLS; the StartupMessage follows
                    conn.sendall(b"N")
                    length, code = struct.unpack("!ii", read(conn, 8))
                params = read(conn, length - 8).split(b"\0")
                name = dict(zip(params[::2], params[1::2], strict=False)).get(b"database", b"")
                fields = b"".join(key + value + b"\0" for key, value in (
                    (b"S", b"FATAL"), (b"V", b"FATAL"), (b"C", b"3D000"),
                    (b"M", b'database "' + name + b'" does not exist')))
                body = fields + b"\0"
                conn.sendall(b"E" + struct.pack("!i", len(body) + 4) + body)
            except (ConnectionError, OSError, struct.error):
                pass

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(10)
            threading.Thread(target=answer, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(5)
        listener.close()


@pytest.mark.parametrize("command", DATABASE_COMMANDS, ids=lambda c: c[0])
def test_postgres_database_missing(tmp_path, command, postgres_without_the_database):
    pytest.importorskip("asyncpg")
    url = f"postgresql+asyncpg://campusbot@{postgres_without_the_database}/no_such_db"
    result = campusbot(tmp_path, *command, **database_env(url, command))
    assert_says(result, 'database.url: PostgreSQL has no database "no_such_db" '
                        "(create it with createdb)")


# -- the platforms -----------------------------------------------------------------------------


@pytest.fixture
def refusing_api() -> Iterator[str]:
    """http://host:port of an API that answers 401 to everything, in Discord's and Telegram's
    shapes at once."""

    class Refuse(BaseHTTPRequestHandler):
        def _refuse(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            body = json.dumps({"message": "401: Unauthorized", "code": 0, "ok": False,
                               "error_code": 401, "description": "Unauthorized"}).encode()
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _refuse

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Refuse)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("command", ["run", "discord-sync"])
def test_discord_unreachable(tmp_path, command):
    url = f"http://{CLOSED}/api/v10"
    result = campusbot(tmp_path, command, **DISCORD_ON, CAMPUSBOT_DISCORD__API_BASE_URL=url)
    assert_says(result, f"discord.api_base_url: cannot reach Discord at {url} "
                        f"({REFUSED})")


@pytest.mark.parametrize("command", ["run", "discord-sync"])
def test_discord_rejects_the_token(tmp_path, command, refusing_api):
    result = campusbot(tmp_path, command, **DISCORD_ON,
                       CAMPUSBOT_DISCORD__API_BASE_URL=f"{refusing_api}/api/v10")
    assert_says(result, BAD_DISCORD_TOKEN)


def test_telegram_rejects_the_token(tmp_path, refusing_api):
    result = campusbot(tmp_path, "run", CAMPUSBOT_TELEGRAM__ENABLED="true",
                       CAMPUSBOT_TELEGRAM__TOKEN="123:wrong",
                       CAMPUSBOT_TELEGRAM__BASE_URL=f"{refusing_api}/bot")
    assert_says(result, BAD_TELEGRAM_TOKEN)


def test_telegram_unreachable(tmp_path):
    url = f"http://{CLOSED}/bot"
    result = campusbot(tmp_path, "run", CAMPUSBOT_TELEGRAM__ENABLED="true",
                       CAMPUSBOT_TELEGRAM__TOKEN="123:abc", CAMPUSBOT_TELEGRAM__BASE_URL=url)
    assert_says(result, f"telegram.base_url: cannot reach the Bot API at {url} "
                        f"({REFUSED})")


def test_both_platforms_failing_say_one_line(tmp_path, refusing_api):
    """The first failure stops the other adapter, which closes its sessions quietly."""
    result = campusbot(tmp_path, "run", **DISCORD_ON,
                       CAMPUSBOT_DISCORD__API_BASE_URL=f"{refusing_api}/api/v10",
                       CAMPUSBOT_TELEGRAM__ENABLED="true", CAMPUSBOT_TELEGRAM__TOKEN="123:wrong",
                       CAMPUSBOT_TELEGRAM__BASE_URL=f"{refusing_api}/bot")
    assert result.stderr in (BAD_DISCORD_TOKEN + "\n", BAD_TELEGRAM_TOKEN + "\n"), result.stderr
    assert result.returncode == 1


# -- settings and arguments --------------------------------------------------------------------


def test_console_needs_no_platform_token(tmp_path):
    env = {"CAMPUSBOT_TELEGRAM__ENABLED": "true", "CAMPUSBOT_DISCORD__ENABLED": "true"}
    result = campusbot(tmp_path, "console", **env)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    checked = campusbot(tmp_path, "check-config", **env)  # validates for `run`
    assert checked.returncode == 1
    assert checked.stdout.splitlines() == [
        "telegram.token: telegram is enabled but CAMPUSBOT_TELEGRAM__TOKEN is not set",
        "discord.token: discord is enabled but CAMPUSBOT_DISCORD__TOKEN is not set",
    ]
    synced = campusbot(tmp_path, "discord-sync", **env)  # Discord's token only
    assert_says(synced, "discord.token: discord is enabled but CAMPUSBOT_DISCORD__TOKEN is not "
                        "set")


def test_export_since_says_the_format(tmp_path):
    result = campusbot(tmp_path, "export", "ledger", "--since", "yesterday")
    assert_says(result, '--since: expected a date like 2026-12-01 (YYYY-MM-DD), got '
                        '"yesterday"', code=2)
    assert not (tmp_path / "data").exists()  # refused before the database was opened


def test_export_since_takes_a_date(tmp_path):
    result = campusbot(tmp_path, "export", "ledger", "--since", "2026-12-01")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "id,member_id,amount,kind,reason,ref,actor,created_at"]
