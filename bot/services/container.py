"""The services a handler, a deliverer or an adapter reaches through one object."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.config import Settings
from bot.dialogues import Dialogues
from bot.services.bookkeeping import Bookkeeping
from bot.services.exports import Exports
from bot.services.ledger import LedgerService
from bot.services.members import MemberService
from bot.services.notices import Notifier
from bot.storage.db import Database


@dataclass
class Services:
    settings: Settings
    db: Database
    clock: Callable[[], datetime]
    notifier: Notifier
    members: MemberService
    ledger: LedgerService
    dialogues: Dialogues
    bookkeeping: Bookkeeping
    exports: Exports
