"""Identity and roles: /link /unlink /grant /revoke."""

from __future__ import annotations

from bot.commands.context import Ctx
from bot.commands.spec import Opt, command
from bot.i18n import N_
from bot.model import Role
from bot.reply import Reply, Text, bold
from bot.reply import code as code_style
from bot.storage.members import MemberRow
from bot.views.errors import role_name
from bot.views.points import member_name, points_phrase

ROLE_CHOICES = ("ambassador", "organiser")


@command("link", N_("Join your accounts on several platforms into one member."),
         Opt.text("code", N_("The code /link gave you on your other account"), max_len=32,
                  required=False),
         private=True)
async def link(ctx: Ctx, code: str | None) -> Reply:
    t = ctx.t
    if not code:
        issued, _expires = await ctx.services.members.issue_link_code(ctx.caller)
        minutes = ctx.services.settings.points.link_code_minutes
        return (Text()
                .fmt(t.gettext("Your link code is {code}."), code=code_style(issued))
                .line_fmt(t.ngettext(
                    "On your other account (Telegram, Discord or the console), send /link {code} "
                    "within {n} minute. It works once.",
                    "On your other account (Telegram, Discord or the console), send /link {code} "
                    "within {n} minutes. It works once.", minutes), code=issued,
                    n=t.number(minutes))
                .reply(private=True))
    result = await ctx.services.members.link(ctx.caller, code)
    standing = await ctx.services.ledger.standing(result.member_id)
    text = Text().add(t.gettext("Linked! This account now shares one member, one balance and one "
                                "history with your other account."))
    text.line_fmt(t.gettext("Balance: {points}"), points=bold(points_phrase(t, standing.balance)))
    return text.reply(private=True)


@command("unlink", N_("Detach this account from its member (it starts again with no points)."),
         private=True)
async def unlink(ctx: Ctx) -> Reply:
    await ctx.services.members.unlink(ctx.caller)
    return Text().add(ctx.t.gettext(
        "This account is now on its own, with no points. Your other accounts keep the member, its "
        "points and its history.")).reply(private=True)


@command("grant", N_("Give a member the ambassador or organiser role."),
         Opt.member("member", N_("Who")),
         Opt.choice("role", N_("Which role"), ROLE_CHOICES),
         role=Role.ORGANISER)
async def grant(ctx: Ctx, member: MemberRow, role: str) -> Reply:
    changed = await ctx.services.members.grant(member, Role.from_code(role))
    template = (ctx.t.gettext("{name} is now an {role}.") if changed
                else ctx.t.gettext("{name} already has the {role} role or a higher one."))
    return Text().fmt(template, name=bold(member_name(ctx.t, member)),
                      role=role_name(ctx.t, role)).reply()


@command("revoke", N_("Take the ambassador or organiser role away from a member."),
         Opt.member("member", N_("Who")),
         Opt.choice("role", N_("Which role"), ROLE_CHOICES),
         role=Role.ORGANISER)
async def revoke(ctx: Ctx, member: MemberRow, role: str) -> Reply:
    changed = await ctx.services.members.revoke(member, Role.from_code(role))
    template = (ctx.t.gettext("{name} is no longer an {role}.") if changed
                else ctx.t.gettext("{name} does not have the {role} role."))
    return Text().fmt(template, name=bold(member_name(ctx.t, member)),
                      role=role_name(ctx.t, role)).reply()
