"""A small fake of Discord's REST API and gateway, served over real HTTP and websockets.

Why: campusbot talks to Discord through discord.py. Mocking discord.py would test our
mocks, not the bot, so this fake speaks Discord's wire protocol instead and lets the real
library connect to it. The bot points two class attributes at the fake and nothing else::

    discord.http.Route.BASE = fake.api_base_url            # before login
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(<url of GET /gateway/bot>)

Webhook and interaction follow-ups reuse ``discord.http.Route`` and therefore ``Route.BASE``.

What the fake covers
--------------------
* REST: login (``GET /users/@me``, 401 for a wrong token), ``GET /gateway/bot``, the
  application object, global and guild application commands (bulk PUT, POST, GET, PATCH,
  DELETE, with Discord's validation rules and a record of every bulk sync), interaction
  callbacks (types 4, 5, 6, 7, 8 and 9, JSON or multipart with files, ``?with_response=1``),
  follow-ups and ``@original`` edits through ``/webhooks/{app}/{token}``, channel messages
  (create, edit, fetch, delete, with files), DMs (``POST /users/@me/channels``),
  ``GET /users/{id}``, ``GET /channels/{id}``, ``GET /guilds/{id}`` and
  ``GET /guilds/{id}/members/{id}``. Unknown routes answer 404 and are recorded.
* Discord's rules that catch bugs: 2,000 characters of content, embed limits, at most 5
  action rows of 5 components, ``custom_id`` <= 100, button label <= 80, duplicate custom
  ids, empty messages, command names/descriptions/options/choices/localizations and the
  100-command cap, the 3-second acknowledgement deadline (10062), double acknowledgement
  (40060), a first follow-up after a deferral resolving the "thinking" message (and so
  inheriting the deferral's ephemerality), ephemeral messages being invisible to channel
  routes, closed DMs (50007), and injected failures such as 429 with the ``Via`` header that
  discord.py needs before it retries.
* Gateway: HELLO, IDENTIFY -> READY + GUILD_CREATE, heartbeats, RESUME with replay of missed
  events, INVALID_SESSION for unknown sessions, sharding (guilds go to
  ``(guild_id >> 22) % shard_count``), member chunk requests, privileged intents (close 4014),
  and ``zlib-stream`` compression (``zstd-stream`` is answered with plain text frames,
  which discord.py also reads).
* Injection and observation: ``slash``, ``press``, ``autocomplete``, ``submit_modal`` and
  ``dispatch_event``; ``messages``, ``edits``, ``requests``, ``interactions``, ``syncs`` and
  ``wait_for`` built on an ``asyncio.Condition``.

What it does not cover
----------------------
Real rate-limit buckets (every answer carries fixed, generous ``X-RateLimit-*`` headers; use
``fail_next`` to produce a 429), permissions enforcement on REST calls, embeds' media, polls,
stickers, threads, reactions, voice, presences, MESSAGE_CREATE from users, attachment options
in slash commands, ETF encoding, and zstd compression.

Layout
------
The fake is one class, ``FakeDiscord`` (server.py), assembled from one mixin per role; the
records and helpers of each role live in the same module as its mixin.

* ``protocol.py``: constants (flags, permissions, intents, locales), snowflakes, ``ApiError``.
* ``validation.py``: Discord's payload and limit checks, as pure functions.
* ``state.py``: guilds, channels, users and members, and the JSON Discord sends for them.
* ``messages.py``: the messages the bot created, their edits and attachments.
* ``commands.py``: the application command registry, its routes and invocations' options.
* ``injection.py``: ``slash``, ``autocomplete``, ``press`` and ``submit_modal``.
* ``interactions.py``: interaction records, callbacks, follow-ups and ``@original`` edits.
* ``gateway.py``: gateway sessions, heartbeats, RESUME and dispatch.
* ``rest.py``: request recording, injected failures, response headers and the route table.
* ``server.py``: ``FakeDiscord`` itself: constructor, aiohttp app, URLs, ``wait_for``.

Tests import the public names from ``tests.fakes.discord_api``, which re-exports them.

All ``*_at`` timestamps are ``time.monotonic()`` values.
"""
