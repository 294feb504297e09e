"""What a handler gets: the services, the invocation, the caller and their translator."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from bot.i18n import Translator
from bot.model import Invocation, Role
from bot.reply import Reply
from bot.services.container import Services
from bot.services.members import Caller
from bot.spec import Registry


@dataclass
class Ctx:
    services: Services
    inv: Invocation
    caller: Caller
    t: Translator
    now: datetime
    registry: Registry
    # Run another command as this caller, through the dispatcher's checks (role, arguments):
    # how /start acts on a deep-link payload.
    run: Callable[[str, dict[str, str]], Awaitable[Reply]]

    def key(self, part: str = "") -> str:
        """An idempotency key for one effect of this invocation, stable across redeliveries."""
        return f"{self.inv.key}:{part}" if part else self.inv.key

    @property
    def is_organiser(self) -> bool:
        return self.caller.role >= Role.ORGANISER
