"""kill -9 between sending a notice and marking it sent: after a restart, that one notice is
sent again within seconds (not after a lease of minutes), and nothing else is repeated."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from bot.app import App
from bot.delivery import SENT, Deliverer
from bot.model import Actor, Platform
from bot.views.points import AWARDED
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parents[2]

CHILD = textwrap.dedent("""
    import asyncio, sys
    from bot.app import App
    from bot.delivery import SENT, Deliverer
    from tests.conftest import make_settings

    async def main(url, log_path):
        app = App(make_settings(url))
        await app.start(migrate_now=False)

        async def send(recipient, reply):
            with open(log_path, "a", encoding="utf-8") as log:
                log.write(reply.plain_text.replace("\\n", " ") + "\\n")
            if "in-doubt" in reply.plain_text:
                await asyncio.sleep(3600)  # sent, and killed before it is marked sent
            return SENT

        Deliverer(app.services, "console", send, "child").start()
        await asyncio.sleep(3600)

    asyncio.run(main(sys.argv[1], sys.argv[2]))
""")


async def _wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.05)
    return predicate()


async def test_the_notice_in_flight_at_a_kill_is_resent_within_seconds(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path}/crash.db"
    app = App(make_settings(url))  # the real clock: heartbeats are real time here
    await app.start()
    try:
        caller = await app.services.members.resolve(Actor(Platform.CONSOLE, "cara",
                                                          username="cara"))
        reasons = ["first", "second", "third", "in-doubt", "fifth", "sixth"]
        for n, reason in enumerate(reasons):
            await app.services.ledger.credit(caller.member_id, n + 1, kind="award",
                                             reason=reason, key=f"crash:{n}", notice=AWARDED)
        log_path = tmp_path / "child.log"
        child = subprocess.Popen([sys.executable, "-c", CHILD, url, str(log_path)], cwd=ROOT,
                                 env={**os.environ, "PYTHONPATH": str(ROOT)})
        try:
            def sent_by_child() -> list[str]:
                return log_path.read_text("utf-8").splitlines() if log_path.exists() else []

            assert await _wait_for(lambda: any("in-doubt" in s for s in sent_by_child()), 30)
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait()
        before_kill = sent_by_child()
        assert [r for r in reasons if any(r in line for line in before_kill)] == reasons[:4]

        received: list[str] = []

        async def send(recipient, reply):
            received.append(reply.plain_text)
            return SENT

        deliverer = Deliverer(app.services, "console", send, "restarted", poll_seconds=0.2)
        deliverer.start()
        try:
            # The promise: the one notice in doubt is resent within 15 s of the restart.
            assert await _wait_for(lambda: any("in-doubt" in r for r in received), 15), received
            assert await _wait_for(lambda: len(received) >= 3, 5), received
            await asyncio.sleep(0.5)  # anything else that would (wrongly) be repeated
        finally:
            await deliverer.stop()
        assert sorted(r for r in reasons if any(r in text for text in received)) == sorted(
            ["in-doubt", "fifth", "sixth"])
        assert len(received) == 3, received
    finally:
        await app.close()
