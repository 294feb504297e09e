"""The composition root: database, services, command registry, dispatcher and scheduler.

No adapter is imported here; `bot.cli` starts the adapters and hands each this App.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bot.commands import load_registry
from bot.commands.run import Dispatcher
from bot.config import Settings
from bot.dialogues import Dialogues
from bot.scheduler import Scheduler
from bot.services.audit import Audit
from bot.services.bookkeeping import Bookkeeping
from bot.services.bounties import BountyService
from bot.services.container import Services
from bot.services.events import EventService
from bot.services.exports import Exports
from bot.services.ledger import LedgerService
from bot.services.mall import MallService
from bot.services.members import MemberService
from bot.services.notices import Notifier
from bot.services.pages import PageFilters
from bot.services.translations import Translations
from bot.spec import Registry
from bot.storage import migrate
from bot.storage.db import Database

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


class App:
    def __init__(self, settings: Settings, clock: Callable[[], datetime] = utcnow,
                 registry: Registry | None = None):
        db = Database(settings.database.url, echo=settings.database.echo)
        self.settings = settings
        self.registry = registry or load_registry()
        notifier = Notifier(db, self.registry.notices)
        audit = Audit(db, clock)
        ledger = LedgerService(db, notifier, clock, settings.default_tz, audit)
        translations = Translations(db, clock, settings.i18n.default_locale)
        self.scheduler = Scheduler(db, clock, timedelta(minutes=settings.scheduler.grace_minutes),
                                   settings.roles.organisers)
        self.services = Services(
            settings=settings, db=db, clock=clock, notifier=notifier,
            members=MemberService(db, settings, clock, notifier, audit),
            ledger=ledger,
            dialogues=Dialogues(),
            bookkeeping=Bookkeeping(db, clock),
            audit=audit,
            translations=translations,
            exports=Exports(db),
            pages=PageFilters(db, clock),
            mall=MallService(db, ledger, notifier, audit, clock),
            bounties=BountyService(db, clock, ledger, notifier, audit, translations,
                                   settings.bounties.double_approval_above, self.scheduler),
            scheduler=self.scheduler,
            events=EventService(db, clock, notifier, audit),
        )
        self.scheduler.bind(self.services, self.registry.jobs, self.registry.recurring)
        self.dispatcher = Dispatcher(self.services, self.registry)
        self._frozen = False

    @property
    def db(self) -> Database:
        return self.services.db

    async def start(self, migrate_now: bool | None = None) -> None:
        """Migrate (unless configured off). The scheduler is started apart, by the commands
        that serve (`campusbot run`, the console): an export or a migration fires no job."""
        if self.settings.database.migrate_on_start if migrate_now is None else migrate_now:
            await migrate.upgrade(self.db)

    async def start_scheduler(self) -> None:
        """Rebuild the alarms from the jobs table, and fire or mark missed what came due while
        the bot was down (bot.scheduler)."""
        fired = await self.scheduler.start()
        if fired.fired or fired.missed:
            log.info("at start-up the scheduler fired %d job(s) and marked %d missed",
                     fired.fired, fired.missed)

    def settle(self) -> None:
        """Start-up is over (an adapter is connected): move what it built out of the
        collector's way.

        Why: a full collection walks every tracked object, and after start-up that is over
        100,000 (SQLAlchemy, discord.py, python-telegram-bot, Babel, the catalogs), a 40-60 ms
        pause in which no update is answered and which delays every interaction queued behind
        it. `gc.freeze()` moves them to the permanent generation, which collections skip
        (https://docs.python.org/3/library/gc.html#gc.freeze); what is created later is
        collected as before. Adapters call this once they are ready; calling it again freezes
        what was built since.
        """
        gc.freeze()
        self._frozen = True

    async def close(self) -> None:
        self.scheduler.stop()
        await self.db.dispose()
        if self._frozen:  # let a process that goes on (tests, a restart) collect them again
            gc.unfreeze()
            self._frozen = False
