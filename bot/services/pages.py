"""List filters that ride on a page button as a short server-side token.

A page button's payload is `v1:pg:<list>:<page>[:<token>]` (bot.views.pager), at most 64 bytes
of `[A-Za-z0-9_.-]`: a filter such as a sponsor's name in Chinese cannot ride in it. Its
filters are kept in `page_filters` under a token derived from them (a hash of their canonical
JSON), so the same filters always give the same token and a list's every page, every
organiser's view of it and every restart share one row. A token names filters, never a right:
whoever presses the button is checked again by the list's handler.

A row lives 30 days from the last time a reply used it; older ones are deleted now and then
when a new row is written, and a button whose token is gone answers "no longer works".
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from bot.storage import pages as repo
from bot.storage.db import Database

TOKEN_LENGTH = 10  # 62**10 ≈ 2**59.5 tokens
TOKEN = re.compile(r"[A-Za-z0-9]{8,12}")
LIFETIME = timedelta(days=30)
# A token read again is given a new life at most this often, so most replies only read.
REFRESH = timedelta(days=1)
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ATTEMPTS = 4  # a token taken by other filters (a hash collision) moves to the next


class PageFilters:
    def __init__(self, db: Database, clock: Callable[[], datetime]):
        self.db = db
        self.clock = clock

    async def token_for(self, filters: Mapping[str, str]) -> str | None:
        """The token of these filters (None when there are none), stored if it is new."""
        if not filters:
            return None
        canonical = canonical_json(filters)
        now = self.clock()
        for attempt in range(_ATTEMPTS):
            token = _token(canonical, attempt)
            async with self.db.read() as conn:
                found = await repo.get(conn, token)
            if found is not None and found[0] != canonical:
                continue
            if found is not None and found[1] >= now - REFRESH:
                return token
            async with self.db.write() as conn:
                if await repo.put(conn, token, canonical, now):
                    await repo.delete_before(conn, now - LIFETIME)
                    return token
                # It was there, or another reply made it meanwhile: the stored row decides.
                found = await repo.get(conn, token)
                if found is None or found[0] != canonical:
                    continue
                await repo.touch(conn, token, now, older_than=now - REFRESH)
            return token
        raise RuntimeError(f"no free page-filter token for {canonical!r}")

    async def filters(self, token: str) -> dict[str, str] | None:
        """The filters a token stands for; None when it is unknown, malformed or expired."""
        if not TOKEN.fullmatch(token):
            return None
        async with self.db.read() as conn:
            found = await repo.get(conn, token)
        if found is None or found[1] < self.clock() - LIFETIME:
            return None
        try:
            loaded = json.loads(found[0])
        except ValueError:
            return None
        if not isinstance(loaded, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in loaded.items()):
            return None
        return loaded


def canonical_json(filters: Mapping[str, str]) -> str:
    """One spelling of a set of filters: sorted keys, no spaces, text as it is (not \\u…)."""
    for key, value in filters.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(f"page filters are text: {key!r}={value!r}")
    return json.dumps(dict(filters), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _token(canonical: str, attempt: int) -> str:
    salted = canonical if attempt == 0 else f"{attempt}\n{canonical}"
    number = int.from_bytes(hashlib.sha256(salted.encode()).digest()[:8], "big")
    digits = []
    for _ in range(TOKEN_LENGTH):
        number, digit = divmod(number, len(_ALPHABET))
        digits.append(_ALPHABET[digit])
    return "".join(digits)
