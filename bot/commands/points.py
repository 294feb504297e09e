"""Points commands: /points /history /leaderboard /award /deduct."""

from __future__ import annotations

from datetime import date

from bot import errors
from bot.actions import Action
from bot.commands.context import Ctx
from bot.i18n import N_
from bot.model import Role
from bot.reply import Reply
from bot.services.container import Services
from bot.services.ledger import Period
from bot.spec import ExportOpt, Opt, Router, Table
from bot.storage.members import MemberRow
from bot.views import points as views
from bot.views.pager import Page

router = Router("points")
router.notice(views.AWARDED, views.DEDUCTED)

REASON_MAX = 200


@router.command("points", N_("Your balance and rank."),
                Opt.member("member", N_("Another member (organisers only)"), required=False,
                           label=N_("member"), role=Role.ORGANISER),
                private=True)
async def points(ctx: Ctx, member: MemberRow | None) -> Reply:
    target = _viewable(ctx, member)
    st = await ctx.services.ledger.standing(target)
    return views.standing(ctx.t, st, member if target != ctx.caller.member_id else None)


@router.command("history", N_("Your points history, newest first."),
                Opt.member("member", N_("Another member (organisers only)"), required=False,
                           label=N_("member"), role=Role.ORGANISER),
                private=True)
async def history(ctx: Ctx, member: MemberRow | None) -> Reply:
    target = _viewable(ctx, member)
    return await _history_page(ctx, target, 1, member)


# The Telegram adapter points a group's member at these in a private chat (t.me/<bot>?start=…).
router.start_payload("points", "points")
router.start_payload("history", "history")


@router.pager(views.HISTORY)
async def history_pages(ctx: Ctx, page: int, filters: dict[str, str]) -> Reply:
    """A history page button (bot.commands.pages): whose history comes from the filters'
    token, and is checked again here, never trusted."""
    try:
        member_id = int(filters["member"])
    except (KeyError, ValueError):
        raise errors.StaleAction() from None
    if member_id != ctx.caller.member_id and not ctx.is_organiser:
        raise errors.PermissionDenied(role=Role.ORGANISER.code, command="history")
    who = None
    if member_id != ctx.caller.member_id:
        who = await ctx.services.members.get(member_id)
    return await _history_page(ctx, member_id, page, who)


async def _history_page(ctx: Ctx, member_id: int, page: int, who: MemberRow | None) -> Reply:
    """One page of a member's history. The member rides in the filters' token even for one's
    own history, so a button names whose history it pages and a replayed press is checked."""
    size = ctx.services.settings.points.history_page_size
    entries, number, pages = await ctx.services.ledger.history(member_id, page, size)
    token = await ctx.services.pages.token_for({"member": str(member_id)})
    return views.history(ctx.t, Page(entries, number, pages), token, who)


def _viewable(ctx: Ctx, member: MemberRow | None) -> int:
    """Whose points: the caller's own, or (organisers only: the option's `role`, which the
    dispatcher checks before the handler runs) the member they named."""
    return ctx.caller.member_id if member is None else member.id


@router.command("leaderboard", N_("Top 10 by points earned: all time, this month or this week."),
                Opt.choice("period", N_("Which period"), ("all", "month", "week"), required=False,
                           label=N_("period")))
async def leaderboard(ctx: Ctx, period: str | None) -> Reply:
    chosen = Period(period or "all")
    return views.leaderboard(ctx.t, chosen, await ctx.services.ledger.leaderboard(chosen))


@router.button("lb")
async def leaderboard_period(ctx: Ctx, action: Action) -> Reply:
    if action.verb != "p":
        raise errors.StaleAction()
    try:
        chosen = Period(action.args[0])
    except (IndexError, ValueError):
        raise errors.StaleAction() from None
    reply = views.leaderboard(ctx.t, chosen, await ctx.services.ledger.leaderboard(chosen))
    return reply.with_(edit=True)


@router.command("award", N_("Award points to a member."),
                Opt.member("member", N_("Who receives them"), label=N_("member")),
                Opt.points("amount", N_("How many points"), label=N_("amount")),
                Opt.text("reason", N_("Why"), max_len=REASON_MAX, rest=True, label=N_("reason")),
                role=Role.ORGANISER)
async def award(ctx: Ctx, member: MemberRow, amount: int, reason: str) -> Reply:
    movement = await ctx.services.ledger.credit(
        member.id, amount, kind="award", reason=reason, key=ctx.key("award"),
        actor_member_id=ctx.caller.member_id, notice=views.AWARDED,
        audit="points.award")
    return views.awarded(ctx.t, member, movement)


@router.command("deduct", N_("Correct a member's points downwards (never below zero)."),
                Opt.member("member", N_("Whose points"), label=N_("member")),
                Opt.points("amount", N_("How many points"), label=N_("amount")),
                Opt.text("reason", N_("Why"), max_len=REASON_MAX, rest=True, label=N_("reason")),
                role=Role.ORGANISER)
async def deduct(ctx: Ctx, member: MemberRow, amount: int, reason: str) -> Reply:
    movement = await ctx.services.ledger.debit(
        member.id, amount, kind="correction", reason=reason, key=ctx.key("deduct"),
        actor_member_id=ctx.caller.member_id, notice=views.DEDUCTED,
        audit="points.deduct")
    return views.deducted(ctx.t, member, movement)


@router.export("ledger", "every ledger entry, oldest first",
               ExportOpt.day("since", "only entries from this day on (UTC)"))
async def export_ledger(services: Services, since: date | None) -> Table:
    return await services.exports.ledger_rows(since)
