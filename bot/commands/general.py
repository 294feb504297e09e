"""Everyone's basics: /start /help /language /timezone /notify /cancel."""

from __future__ import annotations

from bot import errors, zones
from bot.actions import Action, action
from bot.commands.context import Ctx
from bot.i18n import N_, negotiate, translator
from bot.model import Platform, Role
from bot.reply import Button, Reply, Text, bold, code
from bot.spec import CommandSpec, Opt, Router
from bot.views.errors import role_name
from bot.views.general import language_lines
from bot.views.scheduler import MISSED
from bot.views.usage import for_role, item, placeholder, usage_block, usage_line

router = Router("general")
router.notice(MISSED)  # the scheduler tells organisers of a job missed while the bot was down


@router.command("start", N_("Welcome, and choose your language."),
                Opt.text("payload", N_("A start link's payload"), max_len=64, required=False,
                         label=N_("payload")),
                offers_language=True)
async def start(ctx: Ctx, payload: str | None) -> Reply:
    """A deep-link payload runs only what a feature declared for it (`start_payload`)."""
    found = ctx.registry.start_command(payload) if payload else None
    if found is not None:
        command, raw = found
        return await ctx.run(command, raw)
    return welcome(ctx)


def welcome(ctx: Ctx) -> Reply:
    """What this release offers, read from the registry: each feature command the caller may
    use (not the basics this module declares), so it never promises what does not exist."""
    t = ctx.t
    text = Text().add(bold(t.gettext("Welcome to the creator campus bot!")))
    basics = {spec.name for spec in router.commands}
    offered = [s for s in ctx.registry if s.name not in basics and s.role <= ctx.caller.role]
    if offered:
        text.line(t.gettext("Here you can:"))
        for spec in offered:
            text.line("• ", *item(t, code(f"/{spec.name}"), t.gettext(spec.help)))
    text.line(t.gettext("Send /help to see every command and how to use it."))
    text.line("")
    language_lines(text, ctx.services.settings.i18n.locales)
    return text.reply(buttons=language_buttons(ctx))


def language_buttons(ctx: Ctx) -> tuple[tuple[Button, ...], ...]:
    locales = ctx.services.settings.i18n.locales
    buttons = [Button(ctx.t.language_name(loc), action("lang", "set", loc)) for loc in locales]
    return tuple(tuple(buttons[i:i + 3]) for i in range(0, len(buttons), 3))


@router.command("help", N_("The commands you can use, or how to use one."),
                Opt.text("command", N_("A command name"), max_len=40, required=False,
                         label=N_("command")))
async def help_(ctx: Ctx, command: str | None) -> Reply:
    """Only what the caller may use, with only the options they may give."""
    t = ctx.t
    caller = ctx.caller.role
    if command:
        name = command.lstrip("/")
        spec = ctx.registry.get(name)
        if spec is None:
            raise errors.NotFound(what="command", name=name[:40])
        if spec.role > caller:
            return Text().fmt(t.gettext("Only an {role} can use /{command}."),
                              role=role_name(t, spec.role.code), command=spec.name).reply()
        return Text().add(*usage_block(t, spec, caller)).reply()
    text = Text().add(bold(t.gettext("What you can do")))
    headings = {Role.MEMBER: N_("Everyone"), Role.AMBASSADOR: N_("Ambassadors"),
                Role.ORGANISER: N_("Organisers")}
    for role, heading in headings.items():
        specs = [s for s in ctx.registry if s.role == role and _listed(ctx, s)]
        if role > caller or not specs:
            continue
        text.line("").line(bold(t.gettext(heading)))
        for spec in specs:
            usage = code(usage_line(for_role(spec, caller), t))
            text.line(*item(t, usage, t.gettext(spec.help)))
    asked = ctx.registry.get("help").option("command")  # `/help COMMAND`, `/help 命令`
    example = f"/help {placeholder(asked, t)}"
    text.line("").line_fmt(t.gettext("Send {example} for the details of one command."),
                           example=code(example))
    if ctx.inv.actor.platform == Platform.CONSOLE:  # buttons are numbered lines there
        text.line_fmt(t.gettext("Buttons appear as [1] Label lines: send {press} to press one."),
                      press=code("/press 1"))
    return text.reply()


def _listed(ctx: Ctx, spec: CommandSpec) -> bool:
    """/cancel only where some command holds a dialogue that it could leave."""
    return spec.name != "cancel" or any(s.dialogue for s in ctx.registry)


@router.command("language", N_("Choose your language."),
                Opt.text("code", N_("A language code such as en or zh_Hans"), max_len=20,
                         required=False, label=N_("language")),
                offers_language=True)
async def language(ctx: Ctx, code: str | None) -> Reply:
    if not code:
        return Text().add(ctx.t.gettext("Choose your language:")).reply(
            buttons=language_buttons(ctx))
    return await _set_language(ctx, code)


@router.button("lang")
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
                                value=code[:20], choices=tuple(enabled))
    await ctx.services.members.set_settings(ctx.caller.member_id, locale=locale)
    zone = ctx.caller.timezone or ctx.services.settings.time.default_timezone
    t = translator(locale, zone)
    return Text().fmt(t.gettext("Done: I will speak {language} with you."),
                      language=bold(t.language_name(locale))).reply(private=True)


@router.command("timezone", N_("Show or set your time zone."),
                Opt.text("zone", N_("An IANA time zone such as Asia/Shanghai"), max_len=64,
                         required=False, label=N_("zone")))
async def timezone(ctx: Ctx, zone: str | None) -> Reply:
    t = ctx.t
    if not zone:
        return Text().fmt(t.gettext("Your time zone is {zone}; it is now {time} there."),
                          zone=bold(str(t.tz)), time=t.datetime(ctx.now)).line(
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
                      zone=bold(zone), time=moved.datetime(ctx.now)).reply(private=True)


@router.command("notify", N_("Turn notifications by direct message on or off."),
                Opt.choice("state", N_("on or off"), ("on", "off"), required=False,
                           label=N_("setting")))
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


@router.command("cancel", N_("Leave a guided dialogue."))
async def cancel(ctx: Ctx) -> Reply:
    if ctx.services.dialogues.cancel(ctx.inv):
        return Text().add(ctx.t.gettext("Cancelled.")).reply()
    return Text().add(ctx.t.gettext("There is nothing to cancel.")).reply()
