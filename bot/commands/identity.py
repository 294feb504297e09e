"""Identity and roles: /link /unlink /grant /revoke."""

from __future__ import annotations

from bot import errors
from bot.actions import Action
from bot.commands.context import Ctx
from bot.i18n import N_
from bot.model import Role
from bot.reply import Reply, Text, bold
from bot.reply import code as code_style
from bot.services.container import Services
from bot.spec import Opt, Router, Table
from bot.storage.members import MemberRow
from bot.views import identity as views
from bot.views.errors import role_name
from bot.views.points import member_name

router = Router("identity")
router.notice(views.ROLE_GRANTED, views.ROLE_REVOKED)

ROLE_CHOICES = ("ambassador", "organiser")


@router.command("link", N_("Join your accounts on several platforms into one member."),
                Opt.text("code", N_("The code /link gave you on your other account"), max_len=32,
                         required=False, label=N_("code")),
                private=True)
async def link(ctx: Ctx, code: str | None) -> Reply:
    """Without a code: issue one. With one: show what linking would do, and ask."""
    t = ctx.t
    if code:
        preview = await ctx.services.members.preview_link(ctx.caller, code)
        return views.link_preview(t, preview)
    issued, _expires = await ctx.services.members.issue_link_code(ctx.caller)
    minutes = ctx.services.settings.identity.link_code_minutes
    return (Text()
            .fmt(t.gettext("Your link code is {code}."), code=code_style(issued))
            .line_fmt(t.ngettext(
                "On your other account (Telegram, Discord or the console), send /link {code} "
                "within {n} minute. It works once.",
                "On your other account (Telegram, Discord or the console), send /link {code} "
                "within {n} minutes. It works once.", minutes), code=issued,
                n=t.number(minutes))
            .reply(private=True))


# t.me/<bot>?start=link-CODE opens the same preview as /link CODE (it never links by itself).
router.start_payload(r"link-([A-Za-z0-9]{4,16})", "link", "code")
router.start_payload("link", "link")


@router.button("link")
async def link_pressed(ctx: Ctx, pressed: Action) -> Reply:
    """The presser's own account joins: the code and both sides are checked again now."""
    if pressed.verb == "no":
        return Text().add(ctx.t.gettext("Nothing was linked.")).reply(private=True, edit=True)
    if pressed.verb != "ok" or len(pressed.args) != 1:
        raise errors.StaleAction()
    result = await ctx.services.members.link(ctx.caller, pressed.args[0])
    standing = await ctx.services.ledger.standing(result.member_id)
    return views.linked(ctx.t, standing.balance, result.already).with_(edit=True)


@router.command("unlink",
                N_("Detach this account from its member (it starts again with no points)."),
                private=True)
async def unlink(ctx: Ctx) -> Reply:
    """Destructive, so it asks first (a posted t.me/<bot>?start=unlink must not detach
    whoever taps it; /start does not run it anyway)."""
    if len(await ctx.services.members.accounts(ctx.caller.member_id)) < 2:
        raise errors.NothingToUnlink()
    return views.unlink_question(ctx.t)


@router.button("unlink")
async def unlink_pressed(ctx: Ctx, pressed: Action) -> Reply:
    if pressed.verb == "no":
        return Text().add(ctx.t.gettext("Nothing changed: this account stays linked.")).reply(
            private=True, edit=True)
    if pressed.verb != "ok":
        raise errors.StaleAction()
    await ctx.services.members.unlink(ctx.caller)
    return Text().add(ctx.t.gettext(
        "This account is now on its own, with no points. Your other accounts keep the member, its "
        "points and its history.")).reply(private=True, edit=True)


@router.command("grant", N_("Give a member the ambassador or organiser role."),
                Opt.member("member", N_("Who"), label=N_("member")),
                Opt.choice("role", N_("Which role"), ROLE_CHOICES, label=N_("role")),
                role=Role.ORGANISER)
async def grant(ctx: Ctx, member: MemberRow, role: str) -> Reply:
    changed = await ctx.services.members.grant(member, Role.from_code(role), key=ctx.key(),
                                               notice=views.ROLE_GRANTED,
                                               actor_member_id=ctx.caller.member_id)
    template = (ctx.t.gettext("{name} is now an {role}.") if changed
                else ctx.t.gettext("{name} already has the {role} role or a higher one."))
    return Text().fmt(template, name=bold(member_name(ctx.t, member)),
                      role=role_name(ctx.t, role)).reply()


@router.command("revoke", N_("Take the ambassador or organiser role away from a member."),
                Opt.member("member", N_("Who"), label=N_("member")),
                Opt.choice("role", N_("Which role"), ROLE_CHOICES, label=N_("role")),
                role=Role.ORGANISER)
async def revoke(ctx: Ctx, member: MemberRow, role: str) -> Reply:
    changed = await ctx.services.members.revoke(member, Role.from_code(role), key=ctx.key(),
                                                notice=views.ROLE_REVOKED,
                                                actor_member_id=ctx.caller.member_id)
    template = (ctx.t.gettext("{name} is no longer an {role}.") if changed
                else ctx.t.gettext("{name} does not have the {role} role."))
    return Text().fmt(template, name=bold(member_name(ctx.t, member)),
                      role=role_name(ctx.t, role)).reply()


@router.export("members", "every member with role, balance, points earned and language")
async def export_members(services: Services) -> Table:
    return await services.exports.member_rows()
