"""Once connected, the start-up heap is frozen out of full collections, and given back on close."""

from __future__ import annotations

import gc

from bot.app import App
from tests.conftest import make_settings


async def test_settle_freezes_until_close(sqlite_url):
    app = App(make_settings(sqlite_url))
    await app.start()
    try:
        app.settle()
        # What start-up built is no longer walked by a full collection.
        assert gc.get_freeze_count() > 10_000
        gc.collect()
        assert gc.get_freeze_count() > 10_000
    finally:
        await app.close()
    # A process that goes on (tests, an in-process restart) can collect it all again.
    assert gc.get_freeze_count() == 0
