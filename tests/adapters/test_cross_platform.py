"""Both adapters on one core, in one process: a member with a Telegram and a Discord account.

The real python-telegram-bot adapter talks to FakeTelegram and the real discord.py adapter to
FakeDiscord; both share one App (one SQLite database, one outbox). What is checked is what the
member and the organisers would see in their chats.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest
import pytest_asyncio
from discord.gateway import DiscordWebSocket
from discord.http import Route

from adapters.discord.app import DiscordAdapter
from adapters.telegram.app import TelegramAdapter
from bot.app import App
from bot.config import (
    DatabaseSettings,
    DiscordSettings,
    RolesSettings,
    Settings,
    TelegramSettings,
)
from tests.adapters.discord.conftest import GUILD_ID, GUILDS, ORGANISER_ROLE, QUICK_READY
from tests.adapters.discord.conftest import TOKEN as DISCORD_TOKEN
from tests.adapters.telegram.conftest import ALICE as TG_ORGANISER  # telegram:1001, by config
from tests.adapters.telegram.conftest import TOKEN as TELEGRAM_TOKEN
from tests.fakes.discord_api import FakeDiscord, FakeMessage
from tests.fakes.telegram_api import FakeTelegram

DC_ORGANISER = 2001  # discord:2001, an organiser by config
MIA_TG = 1002  # the member's Telegram account (@mia)
MIA_DC = 3001  # the member's Discord account (mia)
TIMEOUT = 5.0  # the Discord outbox polls every 2 s; a notice is woken at once, this is slack

_BALANCE = re.compile(r"Balance:\W*([\d,]+) points?\b")
_CODE = re.compile(r"Your link code is\W*([A-Z2-9]{8})\b")
NOTICE = "You received"


def balance_in(text: str) -> int:
    """The number a member reads after "Balance:" (plain on Telegram, **bold** on Discord)."""
    found = _BALANCE.search(text)
    assert found, f"no balance in {text!r}"
    return int(found.group(1).replace(",", ""))


async def eventually(predicate: Callable[[], object], what: str) -> None:
    """Poll `predicate` (it may look at both fakes) until it is truthy, for up to TIMEOUT."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + TIMEOUT
    while not predicate():
        assert loop.time() < deadline, f"no {what} within {TIMEOUT}s"
        await asyncio.sleep(0.02)


@pytest.fixture(autouse=True)
def _restore_discord_globals():
    """The Discord adapter sets these two class attributes; put them back (as the Discord
    tests do)."""
    base, gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    yield
    Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = base, gateway


@dataclass
class Both:
    """One running bot on both platforms, with helpers that speak as a user would."""

    tg: FakeTelegram
    dc: FakeDiscord
    app: App

    async def telegram(self, text: str, user_id: int = MIA_TG) -> str:
        """Send `text` in the user's private chat with the bot; the bot's answer, as read."""
        since = self.tg.mark()
        self.tg.message(text, user_id=user_id)
        record = await self.tg.wait_for_message(chat_id=user_id, since=since, timeout=TIMEOUT)
        return record["plain_text"]

    async def discord(self, name: str, options: dict | None = None,
                      user_id: int = MIA_DC, username: str = "mia") -> FakeMessage:
        """Run a slash command; the first message the user can read."""
        record = await self.dc.slash(name, options, user_id=user_id, username=username)
        return await record.readable(TIMEOUT)

    def telegram_notices(self, since: int = 0) -> list[str]:
        return [r["plain_text"] for r in self.tg.records[since:]
                if r["kind"] == "message" and r["chat_id"] == MIA_TG
                and NOTICE in (r["plain_text"] or "")]

    def discord_notices(self) -> list[str]:
        return [m.content for m in self.dc.dm_messages(MIA_DC) if NOTICE in m.content]

    async def balances(self) -> tuple[int, int]:
        """What /points shows the member on Telegram, then on Discord (Discord is used last)."""
        on_telegram = balance_in(await self.telegram("/points"))
        answer = await self.discord("points")
        assert answer.ephemeral  # a balance is for the member's eyes only
        return on_telegram, balance_in(answer.content)


@pytest_asyncio.fixture
async def both(tmp_path) -> AsyncIterator[Both]:
    async with FakeTelegram(token=TELEGRAM_TOKEN, bot_username="campus_test_bot") as tg:
        tg.add_user(MIA_TG, first_name="Mia", username="mia")
        dc = FakeDiscord(token=DISCORD_TOKEN, guilds=GUILDS)
        await dc.start()
        settings = Settings(
            database=DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path}/both.db"),
            roles=RolesSettings(organisers=(f"telegram:{TG_ORGANISER}",
                                            f"discord:{DC_ORGANISER}")),
            # As the Telegram tests do: no per-chat pacing (many messages into one chat).
            telegram=TelegramSettings(enabled=True, token=tg.token, base_url=tg.base_url,
                                      base_file_url=tg.base_file_url, private_chat_burst=1000,
                                      group_messages_per_minute=1000),
            discord=DiscordSettings(enabled=True, token=DISCORD_TOKEN,
                                    api_base_url=dc.api_base_url, guild_ids=(GUILD_ID,),
                                    organiser_role_ids=(ORGANISER_ROLE,)),
        )
        app = App(settings)
        await app.start()
        # The Telegram outbox polled often, as in the Telegram tests; Discord's keeps its default.
        telegram = TelegramAdapter(app, delivery_poll_seconds=0.2)
        discord = DiscordAdapter(app, guild_ready_timeout=QUICK_READY)
        started: list[TelegramAdapter | DiscordAdapter] = []
        try:
            for adapter in (telegram, discord):
                await adapter.start()
                started.append(adapter)
            await dc.wait_connected()
            yield Both(tg, dc, app)
        finally:
            for adapter in reversed(started):
                await adapter.stop()
            await app.close()
            await dc.stop()


async def link_from_telegram(both: Both) -> None:
    """Mia asks for a code on Telegram and gives it to /link on Discord."""
    found = _CODE.search(issued := await both.telegram("/link"))
    assert found, issued
    preview = await both.discord("link", {"code": found.group(1)})
    assert "Link this account to another member?" in preview.content and preview.ephemeral
    press = await both.dc.press(preview, preview.custom_ids[0], user_id=MIA_DC, username="mia")
    await press.readable(TIMEOUT)
    assert "Linked!" in preview.content  # the preview became the answer
    assert balance_in(preview.content) == 0


async def link_from_discord(both: Both) -> None:
    """Mia asks for a code on Discord and sends /link CODE on Telegram."""
    issued = await both.discord("link")
    assert issued.ephemeral  # a link code is a secret
    found = _CODE.search(issued.content)
    assert found, issued.content
    since = both.tg.mark()
    both.tg.message(f"/link {found.group(1)}", user_id=MIA_TG)
    preview = await both.tg.wait_for_message(chat_id=MIA_TG, since=since, timeout=TIMEOUT)
    assert "Link this account to another member?" in preview["plain_text"]
    since = both.tg.mark()
    both.tg.press_button(preview, "Link accounts", user_id=MIA_TG)
    answer = (await both.tg.wait_for_edit(since=since, timeout=TIMEOUT))["plain_text"]
    assert "Linked!" in answer and balance_in(answer) == 0


async def award_on_telegram(both: Both, amount: int, reason: str) -> None:
    answer = await both.telegram(f"/award @mia {amount} {reason}", user_id=TG_ORGANISER)
    assert f"Awarded {amount} points to" in answer


async def award_on_discord(both: Both, amount: int, reason: str) -> None:
    answer = await both.discord("award", {"member": MIA_DC, "amount": amount, "reason": reason},
                                user_id=DC_ORGANISER, username="boss")
    assert answer.content.startswith(f"Awarded **{amount} points** to **")


async def notice_on_discord(both: Both, already: int, amount: int, reason: str,
                            balance: int) -> None:
    """The notice after the first `already` ones, as a DM on Discord."""
    await eventually(lambda: len(both.discord_notices()) > already, "a notice by Discord DM")
    dm = both.discord_notices()[already]
    assert dm.splitlines() == [f"You received **{amount} points**!", f"Reason: _{reason}_",
                               f"Your balance: {balance} points"]


async def notice_on_telegram(both: Both, since: int, amount: int, reason: str,
                             balance: int) -> None:
    notice = await both.tg.wait_for_message(lambda r: NOTICE in r["plain_text"],
                                            chat_id=MIA_TG, since=since, timeout=TIMEOUT)
    assert notice["plain_text"].splitlines() == [f"You received {amount} points!",
                                                 f"Reason: {reason}",
                                                 f"Your balance: {balance} points"]


async def test_linked_member_sees_one_balance_and_gets_notices_where_they_were_last(both: Both):
    """Mia links her Telegram account to her Discord account and sees the same balance on
    both. She was last on Discord: an award made on Telegram reaches her as a Discord DM, not
    in Telegram. Then she uses Telegram: an award made on Discord reaches her in Telegram, not
    as a DM. Both platforms then show the sum of the two awards."""
    await link_from_telegram(both)
    assert await both.balances() == (0, 0)  # /points on Discord last: she is on Discord now

    start = both.tg.mark()
    await award_on_telegram(both, 30, "great talk")
    await notice_on_discord(both, 0, 30, "great talk", balance=30)
    assert both.telegram_notices(start) == []  # not also in her Telegram chat

    start = both.tg.mark()
    assert balance_in(await both.telegram("/points")) == 30  # now she is on Telegram
    await award_on_discord(both, 12, "demo day")
    await notice_on_telegram(both, start, 12, "demo day", balance=42)

    assert await both.balances() == (42, 42)
    assert len(both.discord_notices()) == 1  # the award made on Discord never went there
    assert len(both.telegram_notices()) == 1


async def test_each_award_reaches_the_platform_she_is_on_whichever_it_was_made_on(both: Both):
    """The other way round: Mia links starting from Discord. While she is on Telegram an award
    made on Telegram reaches her there; after she switched to Discord, the next award (made on
    Discord) is a DM and her Telegram chat stays quiet. One balance throughout."""
    await link_from_discord(both)
    start = both.tg.mark()
    assert balance_in(await both.telegram("/points")) == 0  # she is on Telegram now

    await award_on_telegram(both, 5, "welcome")
    await notice_on_telegram(both, start, 5, "welcome", balance=5)
    assert both.discord_notices() == []

    answer = await both.discord("points")  # she switches to Discord
    assert balance_in(answer.content) == 5
    start = both.tg.mark()
    await award_on_discord(both, 20, "helpful")
    await notice_on_discord(both, 0, 20, "helpful", balance=25)
    assert both.telegram_notices(start) == []

    assert await both.balances() == (25, 25)
    assert len(both.telegram_notices()) == 1 and len(both.discord_notices()) == 1


async def test_closed_discord_dms_send_her_notices_to_telegram(both: Both):
    """Mia is on Discord but has closed her DMs: the award's DM is refused (403, 50007), the
    bot carries on, and the notice reaches her in Telegram instead; the next one goes there
    straight away."""
    await link_from_telegram(both)
    assert balance_in((await both.discord("points")).content) == 0  # she is on Discord now
    both.dc.close_dms(MIA_DC)
    start = both.tg.mark()
    await award_on_telegram(both, 8, "first post")
    await notice_on_telegram(both, start, 8, "first post", balance=8)
    assert any(r.status == 403 for r in both.dc.requests)  # the DM was tried first
    assert both.discord_notices() == []

    start = both.tg.mark()
    refused = sum(1 for r in both.dc.requests if r.status == 403)
    await award_on_discord(both, 4, "nice thread")  # made on Discord, she is still "on" it
    await notice_on_telegram(both, start, 4, "nice thread", balance=12)
    assert sum(1 for r in both.dc.requests if r.status == 403) == refused  # not tried again
    assert (await both.discord("points")).ephemeral  # the bot still answers her on Discord
