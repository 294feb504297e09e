"""The outbox delivery loop, one per adapter.

The adapter supplies only `send(recipient, reply) -> Outcome`; claiming, rendering in the
recipient's own language, retrying and falling back to another platform happen here, the same
for every platform. Each row is claimed, sent and marked on its own, so a crash leaves at most
the one row in flight in doubt.

Each deliverer has a name of its own (platform, host, process id, a random token) and writes a
heartbeat every HEARTBEAT. A claim whose owner has not beaten for DEAD_AFTER — or, on the same
host, whose owner's process no longer exists — goes back to the queue: a process that starts
after a crash gives back its predecessor's claim at once (or within DEAD_AFTER when it runs on
another host), so the one message in doubt is sent again within seconds, and the log names it.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.i18n import negotiate, translator
from bot.reply import Reply
from bot.services.container import Services
from bot.services.notices import pick_account
from bot.storage import members as member_repo
from bot.storage import outbox as repo
from bot.storage import workers as workers_repo
from bot.storage.members import AccountRow

log = logging.getLogger(__name__)
HEARTBEAT = timedelta(seconds=2)
DEAD_AFTER = timedelta(seconds=10)
FORGOTTEN_AFTER = timedelta(days=1)  # worker rows older than this are deleted
STOP_GRACE = 15.0  # seconds stop() waits for the notice in hand (HTTP timeouts are shorter)


class Status(enum.Enum):
    SENT = "sent"
    RETRY = "retry"  # temporary: rate limit, network, server error
    UNREACHABLE = "unreachable"  # this account can't get direct messages (blocked, closed DMs)
    FAILED = "failed"  # permanent for this message


@dataclass(frozen=True)
class Outcome:
    status: Status
    retry_after: float | None = None
    error: str = ""


SENT = Outcome(Status.SENT)


@dataclass(frozen=True)
class Recipient:
    """Who a notice goes to: a member's account on this platform, or a chat."""

    member_id: int | None
    account: AccountRow | None
    chat_ref: str | None
    locale: str
    timezone: str

    @property
    def chat_id(self) -> str:
        if self.account is not None:
            return self.account.dm_chat_id or self.account.platform_user_id
        return (self.chat_ref or "").partition(":")[2]


Send = Callable[[Recipient, Reply], Awaitable[Outcome]]


class Deliverer:
    """Sends one platform's outbox rows; `label` (a console user, say) only helps the logs."""

    def __init__(self, services: Services, platform: str, send: Send, label: str = "",
                 member_id: int | None = None, poll_seconds: float = 2.0):
        self.services = services
        self.platform = platform
        self.send = send
        self.worker = worker_name(platform, label)
        self.member_id = member_id
        self.poll_seconds = poll_seconds
        self._task: asyncio.Task | None = None
        self._keepalive: asyncio.Task | None = None
        self._beaten_at: datetime | None = None
        self._stopping = False
        self._wake: asyncio.Event | None = None

    def start(self) -> None:
        """Run the loop and the heartbeat in the background until `stop()`; a second start is
        a no-op."""
        if self._task is None:
            self._task = asyncio.create_task(self.run_forever(), name=f"{self.platform}-outbox")
            self._keepalive = asyncio.create_task(self._beat_forever(),
                                                  name=f"{self.platform}-heartbeat")

    async def stop(self, grace: float = STOP_GRACE) -> None:
        """Let the notice in hand finish, then end the loop. Cancelling it mid-transaction
        would break the database connection (SQLAlchemy invalidates it, and on SQLite the
        write lock stays held until the worker thread lets go), so cancel only after `grace`."""
        task = self._task
        if task is None:
            return
        self._stopping = True
        if self._wake is not None:
            self._wake.set()
        done, _ = await asyncio.wait({task}, timeout=grace)
        if not done:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._keepalive is not None:
            self._keepalive.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._keepalive
            self._keepalive = None
        with contextlib.suppress(Exception):  # a closing database must not fail the stop
            async with self.services.db.write() as conn:
                await workers_repo.remove(conn, self.worker)
        self._task = None
        self._stopping = False

    async def reclaim(self) -> list[repo.Released]:
        """Beat, and give back the claims of workers on this platform that stopped."""
        now = self.services.clock()
        async with self.services.db.write() as conn:
            await workers_repo.beat(conn, self.worker, self.platform, now)
            known = await workers_repo.on_platform(conn, self.platform)
            dead = tuple(name for name, beaten in known
                         if name != self.worker and (beaten < now - DEAD_AFTER
                                                     or _process_gone(name)))
            released = await repo.release_orphaned(
                conn, self.platform, workers_repo.alive_since(now - DEAD_AFTER, exclude=dead))
            await workers_repo.remove(conn, *(name for name, beaten in known
                                              if name in dead
                                              and beaten < now - FORGOTTEN_AFTER))
            if released:
                self.services.db.after_commit(conn, self.services.notifier.wake)
        self._beaten_at = now
        for row in released:
            log.warning("outbox row %s (%s to %s) was claimed by a %s deliverer that stopped "
                        "before marking it sent; sending it again, so it may arrive twice",
                        row.id, row.kind, row.chat_ref or f"member {row.member_id}",
                        self.platform)
        return released

    async def _beat_forever(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT.total_seconds())
            try:
                await self.reclaim()
            except Exception:
                log.exception("outbox heartbeat on %s failed; retrying", self.platform)

    async def _beat_if_due(self) -> None:
        """A deliverer driven by hand (the console's, a test's) beats before it claims."""
        if self._beaten_at is None or self.services.clock() - self._beaten_at >= HEARTBEAT:
            await self.reclaim()

    async def run_once(self, limit: int = 100) -> int:
        """Send what is due now; returns how many rows were handled."""
        db, clock = self.services.db, self.services.clock
        if self._keepalive is None:
            await self._beat_if_due()
        async with db.read() as conn:
            ids = await repo.due_ids(conn, self.platform, clock(), limit, self.member_id)
        handled = 0
        for row_id in ids:
            if self._stopping:
                break
            async with db.write() as conn:
                row = await repo.claim(conn, row_id, self.worker, clock())
            if row is not None:
                await self._deliver(row)
                handled += 1
        return handled

    async def run_forever(self) -> None:
        notifier = self.services.notifier
        wake = self._wake = notifier.subscribe()
        try:
            with contextlib.suppress(Exception):  # the heartbeat task retries and logs it
                await self.reclaim()  # beat before the first claim, and free a crash's claims
            while not self._stopping:
                wake.clear()  # before looking: a wake-up during run_once is kept for the wait
                try:
                    handled = await self.run_once()
                except Exception:
                    log.exception("outbox delivery on %s failed; retrying shortly",
                                  self.platform)
                    handled = 0
                if handled or self._stopping:
                    continue
                # asyncio.timeout, not wait_for: on 3.11 wait_for swallows a cancel that
                # arrives just as the event is set (bpo-42130), and stop() would hang.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.poll_seconds):
                        await wake.wait()
        finally:
            notifier.unsubscribe(wake)
            self._wake = None

    async def _deliver(self, row: repo.OutboxRow) -> None:
        db, clock = self.services.db, self.services.clock
        try:
            recipient = await self._recipient(row)
            if recipient is None:
                async with db.write() as conn:
                    await repo.mark_failed(conn, row.id, "no account on this platform")
                return
            t = translator(recipient.locale, recipient.timezone)
            outcome = await self.send(recipient,
                                     self.services.notifier.render(t, row.kind, row.params))
        except Exception as exc:
            log.exception("sending outbox row %s failed", row.id)
            outcome = Outcome(Status.RETRY, error=f"{type(exc).__name__}: {exc}")
            recipient = None
        async with db.write() as conn:
            await self._record(conn, row, recipient, outcome, clock())

    async def _record(self, conn, row, recipient: Recipient | None, outcome: Outcome, now):
        if outcome.status is Status.SENT:
            await repo.mark_sent(conn, row.id, now)
        elif outcome.status is Status.RETRY and row.attempts < 8:
            delay = (timedelta(seconds=outcome.retry_after) if outcome.retry_after
                     else repo.backoff(row.attempts))
            await repo.retry_later(conn, row.id, now + delay, outcome.error)
        elif outcome.status is Status.UNREACHABLE and recipient and recipient.account:
            await member_repo.set_reachable(conn, recipient.account.id, False)
            self.services.members.forget(row.member_id)
            fallback = await self._fallback(conn, row)
            if fallback:
                await repo.retry_later(conn, row.id, now, outcome.error, platform=fallback)
                self.services.db.after_commit(conn, self.services.notifier.wake)
            else:
                await repo.mark_failed(conn, row.id, f"unreachable: {outcome.error}")
        else:
            await repo.mark_failed(conn, row.id, outcome.error or outcome.status.value)

    async def _fallback(self, conn, row: repo.OutboxRow) -> str | None:
        if row.member_id is None:
            return None
        member, accounts = await member_repo.notice_targets(conn, row.member_id)
        other = pick_account(accounts, member.last_platform if member else None,
                             exclude=self.platform)
        return other.platform if other else None

    async def _recipient(self, row: repo.OutboxRow) -> Recipient | None:
        settings = self.services.settings
        enabled = settings.i18n.locales
        if row.member_id is None:
            return Recipient(None, None, row.chat_ref, settings.i18n.default_locale,
                             settings.time.default_timezone)
        async with self.services.db.read() as conn:
            member, accounts = await member_repo.notice_targets(conn, row.member_id)
        mine = [a for a in accounts if a.platform == self.platform]
        if member is None or not mine:
            return None
        account = max(mine, key=lambda a: a.reachable)
        locale = ((member.locale if member.locale in enabled else None)
                  or negotiate(account.locale_hint, enabled) or settings.i18n.default_locale)
        return Recipient(member.id, account, None, locale,
                         member.timezone or settings.time.default_timezone)


def worker_name(platform: str, label: str = "") -> str:
    """`platform:host:pid:token[:label]`: unique per deliverer, and on the same host it tells
    whether its process still exists."""
    name = f"{platform}:{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"
    return f"{name}:{label}"[:96] if label else name


def _process_gone(name: str) -> bool:
    """True when `name` belongs to a process on this host that no longer exists."""
    parts = name.split(":", 4)
    if len(parts) < 4 or parts[1] != socket.gethostname()[:40] or not parts[2].isdigit():
        return False
    pid = int(parts[2])
    if pid == os.getpid():
        return False  # another deliverer of this very process: alive while it beats
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # exists, owned by someone else
    return False
