"""Time-zone names: the one lookup for /timezone, time arguments and the configuration.

`ZoneInfo("America")` does not say "unknown": it raises IsADirectoryError (or another OSError)
because the name is a folder of the tz database, and it is case-sensitive. So every name goes
through `lookup`, which knows the database's names (`zoneinfo.available_timezones()`), accepts
any case (`utc`, `asia/shanghai`), and for a folder name suggests a few zones inside it.
"""

from __future__ import annotations

import functools
import zoneinfo
from zoneinfo import ZoneInfo

SUGGESTIONS = 4


class UnknownZone(ValueError):
    """`name` is not a zone; `suggestions` are zones inside it when it is a folder (`Asia`)."""

    def __init__(self, name: str, suggestions: tuple[str, ...] = ()):
        super().__init__(name)
        self.name = name
        self.suggestions = suggestions

    def describe(self) -> str:
        """An English one-liner, for the operator's configuration check."""
        text = f"unknown time zone {self.name!r}"
        if self.suggestions:
            text += f" (a region: try {', '.join(self.suggestions)})"
        return text


@functools.cache
def _names() -> dict[str, str]:
    """Lower-cased name -> canonical name, for every zone the tz database holds."""
    names = {name.lower(): name for name in zoneinfo.available_timezones()}
    names.setdefault("utc", "UTC")
    return names


def canonical(name: str) -> str:
    """The database's spelling of `name` (any case), or UnknownZone."""
    key = name.strip().lower()
    found = _names().get(key)
    if found is not None:
        return found
    folder = key.rstrip("/") + "/"
    inside = sorted(real for low, real in _names().items() if low.startswith(folder))
    # Prefer zones directly in the folder (America/Lima) to deeper ones (America/Argentina/…).
    inside.sort(key=lambda real: real.count("/"))
    raise UnknownZone(name.strip(), tuple(inside[:SUGGESTIONS]))


def lookup(name: str) -> ZoneInfo:
    """The zone called `name` (any case), or UnknownZone; never an OSError."""
    return ZoneInfo(canonical(name))
