"""The services a handler, a deliverer or an adapter reaches through one object."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.config import Settings
from bot.dialogues import Dialogues
from bot.scheduler import Scheduler
from bot.services.audit import Audit
from bot.services.bookkeeping import Bookkeeping
from bot.services.bounties import BountyService
from bot.services.events import EventService
from bot.services.exports import Exports
from bot.services.ledger import LedgerService
from bot.services.mall import MallService
from bot.services.members import MemberService
from bot.services.notices import Notifier
from bot.services.pages import PageFilters
from bot.services.translations import Translations
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
    audit: Audit
    translations: Translations
    exports: Exports
    pages: PageFilters
    mall: MallService
    bounties: BountyService
    scheduler: Scheduler
    events: EventService
