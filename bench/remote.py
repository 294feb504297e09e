"""Run one side of a benchmark in a child process, so its CPU and garbage stay out of ours.

The end-to-end benchmarks put the fake chat API and the simulated users in a child process
(started with 'spawn', so it shares nothing with the bot under test) and keep the bot alone in
the parent. The conversation over the pipe is fixed:

    parent                                  child: `await target(link, **params)`
    Remote(target, **params) starts it  ->  sets up the fake, `await link.ready(**info)`
    `async with` returns, `.info` set   <-  ("ready", info); waits for "go"
    starts the bot, `await .run()`      ->  ("go"); drives the users, `await link.done(value)`
    `.run()` returns value              <-  ("result", value); waits for "stop"
    stops the bot, leaves `async with`  ->  ("stop"); the fake shuts down, the child exits

`target` is a module-level coroutine function (it is pickled by reference); `params`, `info`
and the result are picklable, plain data preferably. A target that returns a value without
calling `link.done` has it sent as the result, and the child ends at once.

An exception in the child is raised in the parent as RemoteError with the child's traceback;
leaving the `async with` block always ends the child (politely, then terminate, then kill), on
an error or Ctrl-C as well.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import multiprocessing
import os
import signal
import threading
import time
import traceback
from collections.abc import Awaitable, Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

START_TIMEOUT = 120.0  # spawning re-imports the benchmark script in the child
STOP_TIMEOUT = 15.0


class RemoteError(RuntimeError):
    """The child failed, died or broke the protocol."""


class Stopped(Exception):
    """Raised in the child when the parent says "stop" (or goes away) before "go"."""


async def receive(conn: Connection) -> Any:
    """conn.recv() without blocking the event loop; EOFError when the other end is gone."""
    loop = asyncio.get_running_loop()
    while not conn.poll():
        readable = loop.create_future()

        def wake(future: asyncio.Future[None] = readable) -> None:
            if not future.done():
                future.set_result(None)

        loop.add_reader(conn.fileno(), wake)
        try:
            await readable
        finally:
            loop.remove_reader(conn.fileno())
    return conn.recv()


class Link:
    """The child's end: tell the parent where the fake listens, wait for go, hand back results."""

    def __init__(self, conn: Connection):
        self._conn = conn
        self.result_sent = False

    async def ready(self, **info: Any) -> None:
        """Send `info` (URLs, token …) and wait until the parent's bot is ready."""
        self._conn.send(("ready", info))
        try:
            message = await receive(self._conn)
        except EOFError:
            raise Stopped from None
        if message != "go":
            raise Stopped

    async def done(self, value: Any) -> None:
        """Send the results, then keep serving until the parent has stopped its bot."""
        self._conn.send(("result", value))
        self.result_sent = True
        with contextlib.suppress(EOFError):
            await receive(self._conn)


def _exit_with_parent() -> None:
    """A killed parent can't stop us, and we may be blocked (waiting for a turn): leave when
    we are orphaned instead of lingering with the terminal's output still open."""
    parent = os.getppid()
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def _child_main(conn: Connection, target: Callable[..., Awaitable[Any]],
                params: dict[str, Any]) -> None:
    # Ctrl-C reaches the whole process group; the parent decides when the child ends.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, daemon=True, name="parent-watch").start()
    logging.basicConfig(level=logging.WARNING)
    # The child times every answer: a collector pause here would be charged to the bot under
    # test. It lives for one run, so it can keep its garbage until it exits.
    gc.disable()
    link = Link(conn)

    async def main() -> None:
        value = await target(link, **params)
        if not link.result_sent:
            conn.send(("result", value))

    try:
        asyncio.run(main())
    except Stopped:
        pass
    except BaseException as exc:
        with contextlib.suppress(OSError):
            conn.send(("error", "".join(traceback.format_exception(exc))))
        raise SystemExit(1) from None
    finally:
        conn.close()


class Remote:
    """The parent's end: `async with Remote(target, **params) as remote: … await remote.run()`."""

    def __init__(self, target: Callable[..., Awaitable[Any]], /, **params: Any):
        self.target = target
        self.params = params
        self.info: dict[str, Any] = {}
        self._conn: Connection | None = None
        self._process: BaseProcess | None = None

    async def __aenter__(self) -> Remote:
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()
        self._conn = ours
        self._process = context.Process(
            target=_child_main, args=(theirs, self.target, self.params), daemon=True,
            name=f"bench-{getattr(self.target, '__name__', 'remote')}")
        try:
            try:
                self._process.start()
            finally:
                theirs.close()  # the child has its copy: its death reads as EOF here
            self.info = await self._expect("ready", START_TIMEOUT)
        except BaseException:
            await self._finish(grace=1.0)
            raise
        return self

    async def __aexit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        # After an error the child may be busy driving users: no point waiting for it.
        await self._finish(grace=STOP_TIMEOUT if kind is None else 1.0)

    async def run(self, timeout: float | None = None) -> Any:
        """Say go, and wait for the child's result."""
        assert self._conn is not None
        self._conn.send("go")
        return await self._expect("result", timeout)

    async def _expect(self, kind: str, timeout: float | None) -> Any:
        assert self._conn is not None and self._process is not None
        try:
            message = await asyncio.wait_for(receive(self._conn), timeout)
        except TimeoutError:
            raise RemoteError(f"{self._process.name}: no {kind!r} within {timeout:.0f} s") \
                from None
        except EOFError:
            self._process.join(5)
            raise RemoteError(f"{self._process.name} exited (code {self._process.exitcode}) "
                              f"without sending {kind!r}") from None
        tag, value = message
        if tag == "error":
            raise RemoteError(f"{self._process.name} failed:\n{value}")
        if tag != kind:
            raise RemoteError(f"{self._process.name}: expected {kind!r}, got {tag!r}")
        return value

    async def _finish(self, grace: float) -> None:
        """Ask the child to stop, give it `grace` seconds, then terminate it, then kill it."""
        process, conn = self._process, self._conn
        if process is None:
            return
        try:
            if conn is not None:
                with contextlib.suppress(OSError):
                    conn.send("stop")
            loop = asyncio.get_running_loop()
            deadline = loop.time() + grace
            while process.is_alive() and loop.time() < deadline:
                await asyncio.sleep(0.05)
        finally:
            if process.is_alive():
                process.terminate()
                process.join(3)
            if process.is_alive():
                process.kill()
                process.join()
            process.close()
            if conn is not None:
                conn.close()
            self._process = self._conn = None
