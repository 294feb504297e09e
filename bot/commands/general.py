"""Everyone's basics: /start /help /language /timezone /notify /cancel."""

from __future__ import annotations

from bot import errors, zones
from bot.actions import Action, action
from bot.commands.context import Ctx
from bot.commands.spec import Opt, button, command
from bot.i18n import N_, negotiate, translator
from bot.model import Role
from bot.reply import Button, Reply, Text, bold, code
from bot.views.usage import usage_block, usage_line


@command("start", N_("Welcome, and choose your language."),
         Opt.text("payload", N_("A start link's payload"), max_len=64, required=False))
async def start(ctx: Ctx, payload: str | None) -> Reply:
    """A deep-link payload runs only what a feature declared for it (`start_payload`)."""
    found = ctx.registry.start_command(payload) if payload else None
    if found is not None:
        command, raw = found
        return await ctx.run(command, raw)
    return welcome(ctx)


def welcome(ctx: Ctx) -> Reply:
    t = ctx.t
    text = Text().add(bold(t.gettext("Welcome to the creator campus bot!")))
    text.line(t.gettext("Browse bounties, earn points, redeem them in the mall and join our "
                        "events. Send /help to see what you can do."))
    text.line("")
    enabled = ctx.services.settings.i18n.locales
    for locale in enabled:
        other = translator(locale)
        text.line(f"{other.language_name(locale)}: ",
                  other.gettext("choose this language with /language {code}").format(code=locale))
    return text.reply(buttons=language_buttons(ctx))


def language_buttons(ctx: Ctx) -> tuple[tuple[Button, ...], ...]:
    locales = ctx.services.settings.i18n.locales
    buttons = [Button(ctx.t.language_name(loc), action("lang", "set", loc)) for loc in locales]
    return tuple(tuple(buttons[i:i + 3]) for i in range(0, len(buttons), 3))


@command("help", N_("The commands you can use, or how to use one."),
         Opt.text("command", N_("A command name"), max_len=40, required=False))
async def help_(ctx: Ctx, command: str | None) -> Reply:
    t = ctx.t
    if command:
        spec = ctx.registry.get(command.lstrip("/"))
        if spec is None or spec.role > ctx.caller.role:
            raise errors.NotFound(what="command", name=command.lstrip("/")[:40])
        return Text().add(*usage_block(t, spec)).reply()
    text = Text().add(bold(t.gettext("What you can do")))
    headings = {Role.MEMBER: N_("Everyone"), Role.AMBASSADOR: N_("Ambassadors"),
                Role.ORGANISER: N_("Organisers")}
    for role, heading in headings.items():
        specs = [s for s in ctx.registry if s.role == role]
        if role > ctx.caller.role or not specs:
            continue
        text.line("").line(bold(t.gettext(heading)))
        for spec in specs:
            text.line(code(usage_line(spec)), " — " + t.gettext(spec.help))
    text.line("").line(t.gettext("Send /help COMMAND for the details of one command."))
    return text.reply()


@command("language", N_("Choose your language."),
         Opt.text("code", N_("A language code such as en or zh_Hans"), max_len=20,
                  required=False))
async def language(ctx: Ctx, code: str | None) -> Reply:
    if not code:
        return Text().add(ctx.t.gettext("Choose your language:")).reply(
            buttons=language_buttons(ctx))
    return await _set_language(ctx, code)


@button("lang")
async def language_pressed(ctx: Ctx, pressed: Action) -> Reply:
    if pressed.verb != "set" or not pressed.args:
        raise errors.StaleAction()
    reply = await _set_language(ctx, pressed.args[0])
    return reply.with_(edit=True)


async def _set_language(ctx: Ctx, code: str) -> Reply:
    enabled = ctx.services.settings.i18n.locales
    locale = negotiate(code, enabled)
    if locale is None:
        raise errors.UsageError(command="language", option="code", problem="bad_choice",
                                value=code[:20], choices=", ".join(enabled))
    await ctx.services.members.set_settings(ctx.caller.member_id, locale=locale)
    zone = ctx.caller.timezone or ctx.services.settings.time.default_timezone
    t = translator(locale, zone)
    return Text().fmt(t.gettext("Done: I will speak {language} with you."),
                      language=bold(t.language_name(locale))).reply(private=True)


@command("timezone", N_("Show or set your time zone."),
         Opt.text("zone", N_("An IANA time zone such as Asia/Shanghai"), max_len=64,
                  required=False))
async def timezone(ctx: Ctx, zone: str | None) -> Reply:
    t = ctx.t
    if not zone:
        return Text().fmt(t.gettext("Your time zone is {zone}; it is now {time} there."),
                          zone=bold(str(t.tz)), time=t.datetime(ctx.now, "short")).line(
            t.gettext("Change it with /timezone Area/City, for example /timezone Asia/Jakarta.")
        ).reply(private=True)
    try:
        zone = zones.canonical(zone)
    except zones.UnknownZone as exc:
        raise errors.UsageError(command="timezone", option="zone", problem="bad_zone",
                                value=exc.name[:40],
                                suggestions=", ".join(exc.suggestions)) from None
    await ctx.services.members.set_settings(ctx.caller.member_id, timezone=zone)
    moved = translator(t.locale, zone)
    return Text().fmt(t.gettext("Your time zone is now {zone}; it is {time} there."),
                      zone=bold(zone), time=moved.datetime(ctx.now, "short")).reply(private=True)


@command("notify", N_("Turn notifications by direct message on or off."),
         Opt.choice("state", N_("on or off"), ("on", "off"), required=False))
async def notify(ctx: Ctx, state: str | None) -> Reply:
    t = ctx.t
    if state is None:
        current = ctx.caller.notify
    else:
        current = state == "on"
        await ctx.services.members.set_settings(ctx.caller.member_id, notify=current)
    message = (t.gettext("Notifications by direct message are on. Turn them off with /notify off.")
               if current else
               t.gettext("Notifications by direct message are off. You can still read everything "
                         "in /history. Turn them on with /notify on."))
    return Text().add(message).reply(private=True)


@command("cancel", N_("Leave a guided dialogue."))
async def cancel(ctx: Ctx) -> Reply:
    if ctx.services.dialogues.cancel(ctx.inv):
        return Text().add(ctx.t.gettext("Cancelled.")).reply()
    return Text().add(ctx.t.gettext("There is nothing to cancel.")).reply()
