"""Wiring: a discord.py client whose slash commands and buttons all go through the core.

`serve(app)` runs the adapter until cancelled (`campusbot run`); `sync_now(app)` logs in, syncs
the command tree and closes (`campusbot discord-sync`). Tests and the benchmark drive the
`DiscordAdapter` class directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable
from typing import Any

import aiohttp
import discord
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket
from discord.http import Route

from adapters.discord import parse
from adapters.discord.menus import build_tree, payload, schema_hash
from adapters.discord.render import (
    ACTION_TEMPLATE,
    ActionButton,
    build_modal,
    is_ephemeral,
    render,
)
from adapters.discord.translator import CatalogTranslator
from bot.actions import BadPayload
from bot.app import App
from bot.delivery import SENT, STOP_GRACE, Deliverer, Outcome, Recipient, Status
from bot.errors import StartupError, os_reason
from bot.reply import Form, Reply, is_form_payload
from bot.spec import CommandSpec, Opt

log = logging.getLogger(__name__)

BAD_TOKEN = ("discord.token: Discord rejected the token (401 Unauthorized) — check "
             "CAMPUSBOT_DISCORD__TOKEN")
# The gateway's close code for a token it refuses
# (https://discord.com/developers/docs/topics/opcodes-and-status-codes#gateway-gateway-close-event-codes).
AUTHENTICATION_FAILED = 4004
# An interaction must be acknowledged within 3 s or the user sees "This interaction failed"
# (https://discord.com/developers/docs/interactions/receiving-and-responding#responding-to-an-
# interaction). A core answer ready within this budget is sent as the response itself (one
# request, the quickest readable answer); a slower one is deferred first, then followed up.
FAST_ANSWER = 1.5
READY_TIMEOUT = 60.0
# discord.py holds on_ready back until no GUILD_CREATE arrived for this long (default 2 s); tests
# with one small guild lower it.
GUILD_READY_TIMEOUT = 2.0
# 403 "Cannot send messages to this user": closed DMs
# (https://discord.com/developers/docs/topics/opcodes-and-status-codes#json).
CANNOT_DM = 50007
# Autocomplete shows at most 25 choices
# (https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-
# response-object-autocomplete).
MAX_CHOICES = 25
_ACTION = re.compile(ACTION_TEMPLATE)


# The bot never joins a voice channel, so discord.py's start-up warnings that the voice libraries
# (PyNaCl, davey) are missing are noise. discord.py warns once a process, while these are true.
for _flag in ("warn_nacl", "warn_dave"):
    if hasattr(discord.VoiceClient, _flag):
        setattr(discord.VoiceClient, _flag, False)


class _QuietLogin(logging.Filter):
    """discord.py's INFO "logging in using static token" on every start (kept with -v): a start
    that fails then prints only its one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        return (record.msg != "logging in using static token"
                or logging.getLogger(record.name).isEnabledFor(logging.DEBUG))


logging.getLogger("discord.client").addFilter(_QuietLogin())


def intents() -> discord.Intents:
    """Slash commands and buttons need only `guilds`: no privileged intent, no message content
    (https://discord.com/developers/docs/topics/gateway#privileged-intents)."""
    chosen = discord.Intents.none()
    chosen.guilds = True
    return chosen

NO_COMMANDS = schema_hash([])  # the stored digest of an empty command list

class CampusClient(discord.AutoShardedClient):
    """AutoShardedClient in every case: without `shard_count` it asks GET /gateway/bot how many
    shards Discord recommends, so a bot that grows past 2,500 guilds keeps working without a
    config change; with `[discord] shard_count` it runs exactly the shards it is told."""

    def __init__(self, adapter: DiscordAdapter):
        conf = adapter.app.settings.discord
        shards: dict[str, Any] = {"guild_ready_timeout": adapter.guild_ready_timeout}
        if conf.shard_count:
            shards.update(shard_count=conf.shard_count, shard_ids=list(conf.shard_ids) or None)
        super().__init__(intents=intents(), allowed_mentions=discord.AllowedMentions.none(),
                         **shards)
        self.adapter = adapter
        self.tree = build_tree(self, adapter.app.registry, adapter.on_command,
                               adapter.on_suggest)

    async def setup_hook(self) -> None:
        await self.adapter.setup()

    async def on_ready(self) -> None:
        self.adapter.on_ready()

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        await self.adapter.on_any_interaction(interaction)

    async def handle_button(self, interaction: discord.Interaction, payload_: str) -> None:
        await self.adapter.on_press(interaction, payload_)


class DiscordAdapter:
    def __init__(self, app: App, *, fast_answer: float = FAST_ANSWER,
                 guild_ready_timeout: float = GUILD_READY_TIMEOUT):
        self.app = app
        self.guild_ready_timeout = guild_ready_timeout
        self.conf = app.settings.discord
        self.fast_answer = fast_answer
        self.client: CampusClient | None = None
        self.force_sync = False
        self.synced: list[int | None] = []  # scopes PUT by this adapter (None = global)
        self._ready = asyncio.Event()
        self._runner: asyncio.Task | None = None
        self._deliverer: Deliverer | None = None
        self._answering: set[asyncio.Task] = set()

    # -- life cycle -----------------------------------------------------------------------

    async def start(self, *, connect: bool = True, force_sync: bool = False) -> None:
        """Log in (syncing commands when their schema changed), then connect the gateway.

        A refused token or an unreachable API raises StartupError with the one line to show;
        on any failure the client (and its HTTP session) is closed first."""
        # REST, interaction callbacks and follow-ups all go through Route.BASE (discord.py has no
        # public setting for the API's address); one of the two class attributes we set.
        Route.BASE = self.conf.api_base_url.rstrip("/")
        self.force_sync = force_sync
        self.client = CampusClient(self)
        try:
            await self.client.login(self.conf.token)
        except BaseException as exc:
            await self.client.close()
            problem = self._startup_problem(exc)
            if problem is None:
                raise
            raise StartupError(problem) from exc
        if connect:
            self._runner = asyncio.create_task(self.client.connect(reconnect=True),
                                               name="discord-gateway")
            await self._wait_ready()
            self.app.settle()

    async def _wait_ready(self) -> None:
        ready = asyncio.create_task(self._ready.wait())
        done, _ = await asyncio.wait({ready, self._runner}, timeout=READY_TIMEOUT,
                                     return_when=asyncio.FIRST_COMPLETED)
        ready.cancel()
        if self._runner in done:
            await self.stop()
            error = self._runner.exception()
            problem = self._startup_problem(error) if error is not None else None
            if problem is not None:
                raise StartupError(problem) from error
            if error is not None:
                raise error  # why the gateway stopped
            raise StartupError("discord: the gateway closed before the bot was ready")
        if not done:
            await self.stop()
            raise StartupError("discord: no READY from the gateway within a minute")

    async def setup(self) -> None:
        """After login: point the gateway at the configured API, register buttons, sync."""
        client = self.client
        assert client is not None
        _shards, url, _limits = await client.http.get_bot_gateway()
        # discord.Client connects to DEFAULT_GATEWAY without asking /gateway/bot (and so does
        # any client after an invalid session): the second class attribute we may set.
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)
        client.add_dynamic_items(ActionButton)
        await client.tree.set_translator(CatalogTranslator(self.app.settings.i18n.locales))
        await self.sync_commands(force=self.force_sync)

    def _startup_problem(self, exc: BaseException) -> str | None:
        """The operator's line for a failed start, or None for an error that is a bug."""
        url = self.conf.api_base_url
        if isinstance(exc, discord.LoginFailure):
            return BAD_TOKEN
        if isinstance(exc, discord.ConnectionClosed) and exc.code == AUTHENTICATION_FAILED:
            return BAD_TOKEN
        if isinstance(exc, discord.DiscordServerError):
            return (f"discord.api_base_url: Discord at {url} answered {exc.status} "
                    f"{exc.response.reason} (try again later)")
        if isinstance(exc, aiohttp.ClientError | OSError):  # TimeoutError is an OSError
            return f"discord.api_base_url: cannot reach Discord at {url} ({os_reason(exc)})"
        return None

    def on_ready(self) -> None:
        self._ready.set()
        if self._deliverer is None:
            self._deliverer = Deliverer(self.app.services, "discord", self.send)
            self._deliverer.start()

    async def wait(self) -> None:
        """Until the gateway task ends (it only ends on close or a fatal error)."""
        if self._runner is not None:
            await self._runner

    async def stop(self) -> None:
        """Let interactions being answered finish (their writes must not be cut off), stop
        the outbox, then close the gateway."""
        if self._answering:
            await asyncio.wait(set(self._answering), timeout=STOP_GRACE)
        if self._deliverer is not None:
            await self._deliverer.stop()
            self._deliverer = None
        if self.client is not None:
            await self.client.close()
        if self._runner is not None and not self._runner.done():
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(self._runner, 10)

    # -- command sync ----------------------------------------------------------------------

    async def sync_commands(self, force: bool = False) -> None:
        """PUT the tree only when its JSON changed: creating commands is rate limited (200 a
        day per guild), and a sync makes clients refetch
        (https://discord.com/developers/docs/interactions/application-commands#registering-a-command).
        """
        client = self.client
        assert client is not None
        tree = client.tree
        scopes = [discord.Object(g) for g in self.conf.guild_ids] or [None]
        if self.conf.guild_ids:
            await self._clear_global_commands(force)
        for scope in scopes:
            if scope is not None:
                tree.copy_global_to(guild=scope)
            digest = schema_hash(await payload(tree, scope))
            key = self._sync_key(scope.id if scope else "global")
            stored = await self.app.services.bookkeeping.get(key)
            if stored == digest and not force:
                continue
            await tree.sync(guild=scope)
            await self.app.services.bookkeeping.put(key, digest)
            self.synced.append(scope.id if scope else None)
            log.info("synced %d slash commands to %s", len(tree.get_commands(guild=scope)),
                     f"guild {scope.id}" if scope else "all servers")

    def _sync_key(self, scope: int | str) -> str:
        client = self.client
        assert client is not None
        return f"discord:commands:{client.application_id}:{self.conf.api_base_url}:{scope}"

    async def _clear_global_commands(self, force: bool) -> None:
        """Guild mode after a global deployment: the old global commands would show twice in
        the picker (and answer in DMs), so they are replaced by an empty list, once."""
        client = self.client
        assert client is not None
        key = self._sync_key("global")
        stored = await self.app.services.bookkeeping.get(key)
        if stored in (None, NO_COMMANDS) and not force:
            return
        await client.http.bulk_upsert_global_commands(client.application_id, [])
        await self.app.services.bookkeeping.put(key, NO_COMMANDS)
        log.info("removed the global slash commands: this bot now uses guild commands")

    # -- interactions ----------------------------------------------------------------------

    async def on_command(self, interaction: discord.Interaction, spec: CommandSpec,
                         options: dict[str, Any]) -> None:
        inv = parse.command_invocation(interaction, spec.name, options, self.conf)
        # A dialogue command run without a required option is answered with a modal, and a
        # modal must be the interaction's first response: such an answer is never deferred.
        # It is known here, before the core runs, and the core's form answer is quick (the
        # caller is resolved; nothing else is read or written), well inside Discord's 3 s.
        form = spec.dialogue and any(o.required and options.get(o.name) is None
                                     for o in spec.options)
        await self._answer(interaction, self.app.dispatcher.handle(inv), press=False,
                           private=spec.private, defer=not form)

    async def on_press(self, interaction: discord.Interaction, payload_: str) -> None:
        """A press; a button that opens a form (`v1:form:…`) is not deferred, so its modal can
        be the first response. Another button's reply may carry a Form too: it opens as a
        modal when ready within `fast_answer`, else the deferred answer shows a button that
        opens it."""
        inv = parse.press_invocation(interaction, payload_, self.conf)
        await self._answer(interaction, self.app.dispatcher.handle(inv), press=True,
                           private=False, defer=not is_form_payload(payload_))

    async def on_form(self, interaction: discord.Interaction) -> None:
        """A submitted modal: its custom_id names the command and the fixed arguments, its
        inputs the rest; it runs as that command would when typed with them all."""
        custom_id = str((interaction.data or {}).get("custom_id", ""))
        try:
            command, fixed = Form.target(custom_id)
        except BadPayload:
            # Not a form of ours (or an older version's): the core's "no longer works".
            await self.on_press(interaction, custom_id[:100])
            return
        spec = self.app.registry.get(command)
        inv = parse.form_invocation(interaction, command, fixed, self.conf)
        await self._answer(interaction, self.app.dispatcher.handle(inv), press=False,
                           private=spec.private if spec is not None else False)

    async def on_suggest(self, interaction: discord.Interaction, opt: Opt,
                         current: str) -> list[app_commands.Choice[str]]:
        """Autocomplete of an id option: the core's suggesters of its kinds (Router.suggest),
        for the member typing; at most 25 choices, 100 characters each. A failing suggester
        offers nothing rather than an error."""
        suggesters = [self.app.registry.suggesters[letter] for letter in opt.id_kinds
                      if letter in self.app.registry.suggesters]
        if not suggesters:
            return []
        try:
            caller = await self.app.services.members.resolve(
                parse.actor_for(interaction, self.conf))
        except Exception:
            log.exception("autocomplete of %s: could not resolve the member", opt.name)
            return []
        choices: list[app_commands.Choice[str]] = []
        for suggester in suggesters:
            try:
                found = await suggester(self.app.services, current, caller)
            except Exception:
                log.exception("autocomplete of %s failed", opt.name)
                continue
            for label, value in found:
                if value and len(choices) < MAX_CHOICES:
                    choices.append(app_commands.Choice(name=(label or value)[:100],
                                                       value=str(value)[:100]))
        return choices

    async def on_any_interaction(self, interaction: discord.Interaction) -> None:
        """Answer a press nothing else claims: discord.py leaves a component interaction that no
        View or DynamicItem matches unanswered, and Discord then shows "This interaction failed"
        (https://discordpy.readthedocs.io/en/stable/api.html#discord.on_interaction).

        Modal submissions all come here: no Modal object waits for them (render.build_modal),
        so a form opened before a restart is answered like any other."""
        if interaction.type is discord.InteractionType.modal_submit:
            await self.on_form(interaction)
            return
        if interaction.type is not discord.InteractionType.component:
            return
        custom_id = str((interaction.data or {}).get("custom_id", ""))
        if self._claimed(interaction, custom_id):
            return
        # The core answers an unknown or old payload with the polite "no longer works" notice.
        await self.on_press(interaction, custom_id[:100])

    @staticmethod
    def _claimed(interaction: discord.Interaction, custom_id: str) -> bool:
        """Mirrors discord.py: a DynamicItem runs only when its custom_id is on the message."""
        if not _ACTION.fullmatch(custom_id) or interaction.message is None:
            return False
        for row in interaction.message.components:
            for item in getattr(row, "children", [row]):
                if getattr(item, "custom_id", None) == custom_id:
                    return True
        return False

    async def _answer(self, interaction: discord.Interaction, work: Awaitable[Reply | None],
                      *, press: bool, private: bool, defer: bool = True) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._answering.add(task)
        try:
            await self._answer_now(interaction, work, press=press, private=private,
                                   defer=defer)
        finally:
            self._answering.discard(task)

    async def _answer_now(self, interaction: discord.Interaction,
                          work: Awaitable[Reply | None], *, press: bool, private: bool,
                          defer: bool = True) -> None:
        """Answer within `fast_answer`, else defer and follow up; `defer=False` for answers
        that should be a modal, which only a first response can be."""
        # A timer, not a task per interaction: most answers are ready long before it fires.
        deferral: asyncio.Future[bool | None] | None = None

        def defer_now() -> None:
            nonlocal deferral
            deferral = asyncio.ensure_future(self._defer(interaction, press, private))

        timer = (asyncio.get_running_loop().call_later(self.fast_answer, defer_now)
                 if defer else None)
        try:
            reply = await work
        finally:
            if timer is not None:
                timer.cancel()
        deferred = await deferral if deferral is not None else None
        if reply is None:
            return
        try:
            if self._modal_fits(interaction, reply):
                assert reply.form is not None
                await interaction.response.send_modal(build_modal(reply.form))
                return
            await self._deliver(interaction, reply, press=press, deferred=deferred)
            for followup in reply.followups:
                for part in render(followup):
                    await interaction.followup.send(**part.kwargs(),
                                                    ephemeral=is_ephemeral(followup))
        except discord.HTTPException as exc:
            log.warning("could not answer interaction %s: %s", interaction.id, exc)

    @staticmethod
    def _modal_fits(interaction: discord.Interaction, reply: Reply) -> bool:
        """A Form opens as a modal when it has inputs, nothing answered the interaction yet,
        and the interaction may get one: a command or a press, not a modal's submission
        (https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-
        response-object-interaction-callback-type). Otherwise render() adds a form button."""
        return (reply.form is not None and bool(reply.form.fields) and not reply.error
                and not interaction.response.is_done()
                and interaction.type in (discord.InteractionType.application_command,
                                         discord.InteractionType.component))

    async def _defer(self, interaction: discord.Interaction, press: bool,
                     private: bool) -> bool | None:
        """Acknowledge now; returns whether the deferral is ephemeral (None: not deferred)."""
        try:
            if press:
                # Type 6, DEFERRED_UPDATE_MESSAGE: no "thinking" message; we edit or follow up.
                await interaction.response.defer()
                return False
            await interaction.response.defer(ephemeral=private, thinking=True)
            return private
        except discord.HTTPException as exc:
            log.warning("could not defer interaction %s: %s", interaction.id, exc)
            return None

    async def _deliver(self, interaction: discord.Interaction, reply: Reply, *, press: bool,
                       deferred: bool | None) -> None:
        parts = render(reply)
        ephemeral = is_ephemeral(reply)
        acked = interaction.response.is_done()
        if press and reply.edit and not reply.error:
            # Pagination: replace the pressed message (callback type 7, UPDATE_MESSAGE).
            edit = {"content": parts[0].content, "view": parts[0].view}
            if acked:
                await interaction.edit_original_response(**edit)
            else:
                await interaction.response.edit_message(**edit)
            rest = parts[1:]
        elif not acked:
            await interaction.response.send_message(**parts[0].kwargs(), ephemeral=ephemeral)
            rest = parts[1:]
        else:
            if not press and deferred is False and ephemeral:
                # The first follow-up fills the "thinking" message and keeps its visibility:
                # remove a public one so a private answer stays private.
                await interaction.delete_original_response()
            rest = parts
        for part in rest:
            await interaction.followup.send(**part.kwargs(), ephemeral=ephemeral)

    # -- notifications ---------------------------------------------------------------------

    async def send(self, recipient: Recipient, reply: Reply) -> Outcome:
        """Deliver one outbox notice: a member's DM, or a registered channel."""
        client = self.client
        assert client is not None
        try:
            if recipient.account is not None:
                user = discord.Object(int(recipient.account.platform_user_id))
                channel: discord.abc.Messageable = await client.create_dm(user)  # type: ignore
            else:
                channel = client.get_partial_messageable(int(recipient.chat_id))
            for part in render(reply):
                await channel.send(**part.kwargs())
        except discord.Forbidden as exc:
            if exc.code == CANNOT_DM:
                log.info("member %s has closed DMs: %s", recipient.member_id, exc.text)
                return Outcome(Status.UNREACHABLE, error=f"50007 {exc.text}")
            return Outcome(Status.FAILED, error=f"403 {exc.code} {exc.text}")
        except discord.HTTPException as exc:
            if exc.status == 429 or exc.status >= 500:
                return Outcome(Status.RETRY, retry_after=_retry_after(exc),
                               error=f"{exc.status} {exc.text}")
            return Outcome(Status.FAILED, error=f"{exc.status} {exc.code} {exc.text}")
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            return Outcome(Status.RETRY, error=f"{type(exc).__name__}: {exc}")
        return SENT


def _retry_after(exc: discord.HTTPException) -> float | None:
    value = getattr(exc, "retry_after", None)
    if value is None and exc.response is not None:
        with contextlib.suppress(TypeError, ValueError):
            value = float(exc.response.headers.get("Retry-After", ""))
    return value



async def serve(app: App) -> None:
    """`campusbot run`: until cancelled; a rejected token raises StartupError at once."""
    adapter = DiscordAdapter(app)
    await adapter.start()
    try:
        await adapter.wait()
    finally:
        await adapter.stop()


async def sync_now(app: App) -> None:
    """`campusbot discord-sync`: log in, sync every scope whatever the stored hash, close."""
    adapter = DiscordAdapter(app)
    await adapter.start(connect=False, force_sync=True)
    await adapter.stop()
