"""The fake Discord must fool the real discord.py, or the bot's Discord tests prove nothing.

Each test runs a minimal ``discord.Client`` with a ``CommandTree`` against ``FakeDiscord``,
patched exactly the way campusbot patches it (``Route.BASE`` before login,
``DiscordWebSocket.DEFAULT_GATEWAY`` from ``GET /gateway/bot`` in ``setup_hook``), and checks
one behaviour the bot's own tests rely on: readiness, command sync, ephemeral replies, deferred
answers, buttons (views and ``DynamicItem`` templates), 429 retries, Discord's rejections and
gateway resumes.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Iterator

import aiohttp
import discord
import pytest
import pytest_asyncio
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket
from discord.http import Route

from .discord_api import DEFAULT_USER_ID, FakeDiscord

TOKEN = "fake-token"
APP_ID = 1000
GUILD_ID = 5000
CHANNEL_ID = 5001
GUILD = discord.Object(GUILD_ID)
GUILDS = [
    {
        "id": GUILD_ID,
        "name": "Campus",
        "preferred_locale": "en-US",
        "channels": [{"id": CHANNEL_ID, "name": "general", "type": 0}],
    }
]
CALLBACK = r"^/interactions/\d+/[^/]+/callback$"


class VoteButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"vote:(?P<poll>[0-9]+):(?P<choice>[a-z]+)",
):
    """A button that must keep working after a restart, so it is a DynamicItem template."""

    def __init__(self, poll: int, choice: str) -> None:
        button = discord.ui.Button(label=f"Vote {choice}", custom_id=f"vote:{poll}:{choice}")
        super().__init__(button)
        self.poll = poll
        self.choice = choice

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]
    ) -> VoteButton:
        return cls(int(match["poll"]), match["choice"])

    async def callback(self, interaction: discord.Interaction) -> None:
        client: CampusTestClient = interaction.client  # type: ignore[assignment]
        client.votes.append((self.poll, self.choice, interaction.user.id))
        await interaction.response.send_message(
            f"Voted {self.choice} in poll {self.poll}", ephemeral=True
        )


class WaveView(discord.ui.View):
    """An ordinary view button next to a dynamic one, as the hello reply shows both."""

    def __init__(self) -> None:
        super().__init__(timeout=60)
        self.add_item(VoteButton(7, "yes"))

    @discord.ui.button(label="Wave", custom_id="hello:wave")
    async def wave(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.edit_message(content="Waved!", view=None)


class FeedbackModal(discord.ui.Modal, title="Feedback"):
    """A modal with a Label-wrapped input, the layout discord.py 2.7 documents."""

    text = discord.ui.Label(
        text="Your feedback", component=discord.ui.TextInput(custom_id="fb:text")
    )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        value = self.text.component.value  # type: ignore[union-attr]
        await interaction.response.send_message(f"Thanks: {value}", ephemeral=True)


class CampusTestClient(discord.Client):
    """The smallest client that exercises what campusbot uses of discord.py."""

    def __init__(self) -> None:
        # guild_ready_timeout: discord.py waits this long after the last GUILD_CREATE
        # before on_ready (2 s by default); short here to keep the tests quick.
        super().__init__(intents=discord.Intents.default(), guild_ready_timeout=0.05)
        self.tree = app_commands.CommandTree(self)
        self.votes: list[tuple[int, str, int]] = []
        self._add_commands()

    def _add_commands(self) -> None:
        @self.tree.command(name="hello", description="Say hello", guild=GUILD)
        async def hello(interaction: discord.Interaction) -> None:
            await interaction.response.send_message(
                f"Hello, {interaction.user.name}!", ephemeral=True, view=WaveView()
            )

        @self.tree.command(name="slow", description="Answer after deferring", guild=GUILD)
        async def slow(interaction: discord.Interaction) -> None:
            await interaction.response.defer(ephemeral=True, thinking=True)
            await asyncio.sleep(0.05)
            await interaction.followup.send("Done slowly")

        @self.tree.command(name="feedback", description="Open a form", guild=GUILD)
        async def feedback(interaction: discord.Interaction) -> None:
            await interaction.response.send_modal(FeedbackModal())

        @self.tree.command(name="room", description="Pick a room", guild=GUILD)
        async def room(interaction: discord.Interaction, name: str) -> None:
            await interaction.response.send_message(f"Booked {name}")

        @room.autocomplete("name")
        async def room_names(
            interaction: discord.Interaction, current: str
        ) -> list[app_commands.Choice[str]]:
            rooms = ["lab-1", "lab-2", "hall"]
            return [app_commands.Choice(name=r, value=r) for r in rooms if r.startswith(current)]

        @self.tree.command(name="sleepy", description="Answer too late", guild=GUILD)
        async def sleepy(interaction: discord.Interaction) -> None:
            await asyncio.sleep(0.2)
            await interaction.response.send_message("Too late")

    async def setup_hook(self) -> None:
        _, url, _ = await self.http.get_bot_gateway()
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)
        self.add_dynamic_items(VoteButton)


@pytest.fixture
def discord_globals() -> Iterator[None]:
    """Restore the two class attributes the tests patch, so no test leaks into another."""
    base, gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    yield
    Route.BASE = base
    DiscordWebSocket.DEFAULT_GATEWAY = gateway


@pytest_asyncio.fixture
async def fake(discord_globals: None) -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(
        token=TOKEN, application_id=APP_ID, bot_user_id=APP_ID, guilds=GUILDS
    ) as server:
        Route.BASE = server.api_base_url
        yield server


async def start_client(client: discord.Client, token: str = TOKEN) -> asyncio.Task[None]:
    """Start the client as the bot does and wait for on_ready, failing fast if start fails."""
    task = asyncio.create_task(client.start(token))
    ready = asyncio.create_task(client.wait_until_ready())
    done, _ = await asyncio.wait({task, ready}, timeout=5, return_when=asyncio.FIRST_COMPLETED)
    if ready not in done:
        ready.cancel()
        if task.done():
            task.result()  # re-raise why start() failed
        raise AssertionError("client did not become ready within 5 s")
    return task


@pytest_asyncio.fixture
async def bot(fake: FakeDiscord) -> AsyncIterator[CampusTestClient]:
    client = CampusTestClient()
    task = await start_client(client)
    await client.tree.sync(guild=GUILD)
    try:
        yield client
    finally:
        await client.close()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 5)


def callback_requests(fake: FakeDiscord) -> list[tuple[int | None, float]]:
    return [(r.status, r.timestamp) for r in fake.requests if re.search(CALLBACK, r.path)]


@pytest.mark.asyncio
async def test_client_becomes_ready_and_sees_the_guild(
    bot: CampusTestClient, fake: FakeDiscord
) -> None:
    guild = bot.get_guild(GUILD_ID)
    assert guild is not None and guild.name == "Campus"
    assert guild.get_channel(CHANNEL_ID).name == "general"
    assert guild.default_role.id == GUILD_ID
    assert guild.me is not None and bot.user is not None and bot.user.id == APP_ID
    assert bot.application_id == APP_ID
    assert fake.live_connections == 1 and fake.identify_count == 1
    # discord.py asks for zlib-stream (the fake compresses it), or zstd-stream when zstandard
    # or compression.zstd is importable (the fake then sends plain text frames, also read).
    query = fake.gateway_queries[0]
    assert (query["v"], query["encoding"]) == ("10", "json")
    assert query["compress"] in ("zlib-stream", "zstd-stream")
    assert fake.unknown_routes == []


@pytest.mark.asyncio
async def test_sync_stores_guild_commands_and_records_each_bulk_sync(
    bot: CampusTestClient, fake: FakeDiscord
) -> None:
    stored = {c["name"]: c for c in fake.commands(GUILD_ID)}
    assert set(stored) == {"hello", "slow", "feedback", "room", "sleepy"}
    assert stored["hello"]["guild_id"] == str(GUILD_ID)
    assert stored["hello"]["application_id"] == str(APP_ID)
    assert fake.commands() == []
    assert fake.sync_count == 1 and fake.syncs[0].changed

    synced = await bot.tree.sync(guild=GUILD)
    assert fake.sync_count == 2 and not fake.syncs[1].changed
    assert {c.name: str(c.id) for c in synced} == {n: c["id"] for n, c in stored.items()}
    assert fake.commands(GUILD_ID)[0]["version"] == stored[synced[0].name]["version"]


@pytest.mark.asyncio
async def test_slash_gets_an_ephemeral_reply_with_a_view(
    bot: CampusTestClient, fake: FakeDiscord
) -> None:
    rec = await fake.slash("hello", username="ana")
    body = await rec.response()
    assert body["type"] == 4
    assert body["data"]["content"] == "Hello, ana!"
    assert rec.ephemeral
    message = await rec.readable()
    assert sorted(message.custom_ids) == ["hello:wave", "vote:7:yes"]
    assert message.interaction_id == rec.id and message.kind == "interaction_response"
    assert rec.ack_latency is not None and rec.ack_latency < 1.0
    assert fake.messages == [message]


@pytest.mark.asyncio
async def test_deferred_answer_is_readable_when_the_followup_arrives(
    bot: CampusTestClient, fake: FakeDiscord
) -> None:
    rec = await fake.slash("slow")
    assert (await rec.response())["type"] == 5
    message = await rec.readable()
    assert message.content == "Done slowly"
    # The first follow-up resolves the "thinking" message and keeps the defer's ephemerality.
    assert message is rec.original and message.ephemeral and not message.loading
    assert rec.followups == []
    assert rec.readable_latency is not None and rec.ack_latency is not None
    assert rec.readable_latency >= rec.ack_latency + 0.04


@pytest.mark.asyncio
async def test_buttons_reach_the_view_and_the_dynamic_item(
    bot: CampusTestClient, fake: FakeDiscord
) -> None:
    message = await (await fake.slash("hello")).readable()

    vote = await fake.press(message, "vote:7:yes")
    assert (await vote.response())["data"]["content"] == "Voted yes in poll 7"
    assert bot.votes == [(7, "yes", DEFAULT_USER_ID)]

    wave = await fake.press(message, "hello:wave")
    assert (await wave.response())["type"] == 7
    assert message.content == "Waved!" and message.components == []
    assert fake.edits[-1].message is message and fake.edits[-1].source == "callback"

    # discord.py only dispatches a DynamicItem whose custom_id is on the message.
    forged = await fake.press(message, "vote:8:no")
    with pytest.raises(AssertionError, match="no the interaction callback"):
        await forged.response(timeout=0.3)
    assert bot.votes == [(7, "yes", DEFAULT_USER_ID)]


@pytest.mark.asyncio
async def test_rate_limited_callback_and_followup_are_retried(
    bot: CampusTestClient, fake: FakeDiscord
) -> None:
    failure = fake.fail_next("POST", CALLBACK, retry_after=0.3)
    rec = await fake.slash("hello")
    assert (await rec.response())["data"]["content"].startswith("Hello")
    (first, first_at), (second, second_at) = callback_requests(fake)
    assert (first, second) == (429, 200) and second_at - first_at >= 0.3
    assert len(failure.hits) == 1 and failure.remaining == 0

    followup = fake.fail_next("POST", r"^/webhooks/\d+/[^/]+$", retry_after=0.2)
    slow = await fake.slash("slow")
    assert (await slow.readable()).content == "Done slowly"
    assert [r.status for r in followup.hits] == [429]


@pytest.mark.asyncio
async def test_bad_token_is_a_login_failure(fake: FakeDiscord) -> None:
    client = CampusTestClient()
    try:
        with pytest.raises(discord.LoginFailure):
            await client.login("not-the-token")
    finally:
        await client.close()
    assert fake.requests[-1].status == 401


@pytest.mark.asyncio
async def test_dm_to_a_user_with_closed_dms_is_forbidden(
    bot: CampusTestClient, fake: FakeDiscord
) -> None:
    closed, open_ = DEFAULT_USER_ID + 1, DEFAULT_USER_ID + 2
    fake.add_user(closed, "bo")
    fake.add_user(open_, "cy")
    fake.close_dms(closed)

    user = await bot.fetch_user(closed)
    with pytest.raises(discord.Forbidden) as excinfo:
        await user.send("Your reminder")
    assert excinfo.value.code == 50007

    await (await bot.fetch_user(open_)).send("Your reminder")
    [sent] = fake.dm_messages(open_)
    assert sent.kind == "dm" and sent.content == "Your reminder"
    assert fake.dm_channel_id(open_) == sent.channel_id


@pytest.mark.asyncio
async def test_discord_rejects_what_discord_rejects(
    bot: CampusTestClient, fake: FakeDiscord
) -> None:
    channel = bot.get_channel(CHANNEL_ID)
    with pytest.raises(discord.HTTPException) as excinfo:
        await channel.send("x" * 2001)
    assert excinfo.value.status == 400 and excinfo.value.code == 50035
    assert "content" in excinfo.value.text

    with pytest.raises(discord.NotFound):
        await bot.http.request(Route("GET", "/no/such/route"))
    assert [r.path for r in fake.unknown_routes] == ["/no/such/route"]


@pytest.mark.asyncio
async def test_late_and_repeated_acknowledgements_fail(
    bot: CampusTestClient, fake: FakeDiscord
) -> None:
    fake.ack_deadline = 0.1
    late = await fake.slash("sleepy")
    await fake.wait_for(lambda: late.rejections, timeout=2)
    assert late.rejections[0][:2] == (404, 10062) and not late.acknowledged

    fake.ack_deadline = 3.0
    rec = await fake.slash("hello")
    await rec.response()
    url = f"{fake.api_base_url}/interactions/{rec.id}/{rec.token}/callback"
    async with aiohttp.ClientSession() as session:
        answer = await session.post(url, json={"type": 4, "data": {"content": "again"}})
        assert answer.status == 400 and (await answer.json())["code"] == 40060


@pytest.mark.asyncio
async def test_dropped_gateway_resumes_and_keeps_delivering(
    bot: CampusTestClient, fake: FakeDiscord
) -> None:
    resumed = asyncio.create_task(bot.wait_for("resumed", timeout=2))
    await fake.drop_connections()
    await fake.wait_for(lambda: fake.resume_count == 1 and fake.live_connections == 1)
    await resumed

    rec = await fake.slash("hello")
    assert (await rec.response())["type"] == 4
    assert fake.identify_count == 1


@pytest.mark.asyncio
async def test_dynamic_button_survives_a_restart_without_a_resync(
    bot: CampusTestClient, fake: FakeDiscord
) -> None:
    voter = DEFAULT_USER_ID + 3
    message = await (await fake.slash("hello", user_id=voter)).readable()
    with pytest.raises(ValueError, match="ephemeral"):
        await fake.press(message, "vote:7:yes")  # only the caller sees an ephemeral reply
    await bot.close()  # the bot restarts; its in-memory views are gone

    restarted = CampusTestClient()
    task = await start_client(restarted)  # an unchanged schema: no tree.sync() this time
    try:
        vote = await fake.press(message, "vote:7:yes", user_id=voter)
        assert (await vote.readable()).content == "Voted yes in poll 7"
        assert restarted.votes == [(7, "yes", voter)]
        assert fake.sync_count == 1 and fake.identify_count == 2
    finally:
        await restarted.close()
        await asyncio.wait_for(task, 5)


@pytest.mark.asyncio
async def test_autocomplete_and_modal_round_trip(bot: CampusTestClient, fake: FakeDiscord) -> None:
    choices = await fake.autocomplete("room", {"name": "la"})
    assert (await choices.response())["type"] == 8
    assert [c["value"] for c in choices.choices or []] == ["lab-1", "lab-2"]

    form = await fake.slash("feedback", locale="de")
    modal = (await form.response())["data"]
    assert modal["title"] == "Feedback" and form.modal is not None
    submitted = await fake.submit_modal(modal["custom_id"], {"fb:text": "More seats"})
    answer = await submitted.readable()
    assert answer.content == "Thanks: More seats" and answer.ephemeral

    with pytest.raises(ValueError, match="never sends locale"):
        await fake.slash("hello", locale="ar")  # no Arabic Discord client exists
