"""Points replies and notices: balance and rank, history pages, leaderboards, awards."""

from __future__ import annotations

from bot.actions import action
from bot.i18n import N_, Translator
from bot.reply import Button, Reply, Text, bold, italic
from bot.services.ledger import Movement, Period, Ranked, Standing
from bot.spec import NoticeKind
from bot.storage.ledger import Entry
from bot.storage.members import MemberRow
from bot.views.pager import NEWER_OLDER, Page, page_line, pager_buttons
from bot.views.usage import item

KIND_LABELS = {
    "award": N_("award"),
    "correction": N_("correction"),
    "bounty": N_("bounty"),
    "checkin": N_("check-in"),
    "shift": N_("ambassador shift"),
    "redemption": N_("redemption"),
    "refund": N_("refund"),
}

PERIOD_TITLES = {
    Period.ALL: N_("Leaderboard — all time"),
    Period.MONTH: N_("Leaderboard — this month"),
    Period.WEEK: N_("Leaderboard — this week"),
}


def points_phrase(t: Translator, amount: int) -> str:
    return t.ngettext("{n} point", "{n} points", amount).format(n=t.number(amount))


def member_name(t: Translator, member: MemberRow | None, fallback: str | None = None) -> str:
    name = (member.display_name if member else None) or fallback
    return name or t.gettext("a member")


def standing(t: Translator, st: Standing, who: MemberRow | None = None) -> Reply:
    text = Text()
    if who is not None:
        text.line(bold(member_name(t, who)))
    text.line_fmt(t.gettext("Balance: {points}"), points=bold(points_phrase(t, st.balance)))
    if st.rank is None:
        text.line(t.gettext("No rank yet: earn points to join the leaderboard."))
    else:
        text.line_fmt(t.gettext("Rank: #{rank} (by points earned, all time)"),
                      rank=bold(t.number(st.rank)))
    return text.reply(private=True)


HISTORY = "history"  # the paged list's name (bot.commands.points declares it)


def history(t: Translator, page: Page[Entry], token: str | None,
            who: MemberRow | None = None) -> Reply:
    """A page of history, newest first; `token` carries whose it is on the page buttons."""
    text = Text()
    title = t.gettext("Points history") if who is None else t.gettext("Points history of {name}")
    text.line(bold(title.format(name=member_name(t, who))))
    if not page.items:
        text.line(t.gettext("No entries yet."))
    for entry in page.items:
        sign = "+" if entry.amount > 0 else "−"
        text.line(f"{t.datetime(entry.created_at)}  ",
                  bold(f"{sign}{t.number(abs(entry.amount))}"), "  ")
        kind = t.gettext(_kind(entry.kind))
        text.add(*(item(t, kind, italic(entry.reason)) if entry.reason else (kind,)))
    text.line(page_line(t, page))
    return text.reply(private=True,
                      buttons=pager_buttons(t, HISTORY, page, token, labels=NEWER_OLDER))


def _kind(kind: str) -> str:
    return KIND_LABELS.get(kind, kind)


def leaderboard(t: Translator, period: Period, ranked: list[Ranked]) -> Reply:
    text = Text().line(bold(t.gettext(PERIOD_TITLES[period])))
    if not ranked:
        text.line(t.gettext("Nobody has earned points in this period yet."))
    for row in ranked:
        text.line(f"{t.number(row.rank)}. ", *item(t, bold(row.name or t.gettext("a member")),
                                                   points_phrase(t, row.points)))
    buttons = tuple(
        Button(t.gettext(PERIOD_BUTTONS[p]), action("lb", "p", p.value))
        for p in Period if p != period
    )
    return text.reply(buttons=(buttons,))


PERIOD_BUTTONS = {Period.ALL: N_("All time"), Period.MONTH: N_("This month"),
                  Period.WEEK: N_("This week")}


def awarded(t: Translator, member: MemberRow, movement: Movement) -> Reply:
    text = Text().fmt(
        t.gettext("Awarded {points} to {name}. Their balance is now {balance}."),
        points=bold(points_phrase(t, movement.entry.amount)), name=bold(member_name(t, member)),
        balance=points_phrase(t, movement.balance))
    if movement.entry.reason:
        text.line_fmt(t.gettext("Reason: {reason}"), reason=italic(movement.entry.reason))
    return text.reply()


def deducted(t: Translator, member: MemberRow, movement: Movement) -> Reply:
    text = Text().fmt(
        t.gettext("Deducted {points} from {name} as a correction. Their balance is now "
                  "{balance}."),
        points=bold(points_phrase(t, -movement.entry.amount)),
        name=bold(member_name(t, member)), balance=points_phrase(t, movement.balance))
    if movement.entry.reason:
        text.line_fmt(t.gettext("Reason: {reason}"), reason=italic(movement.entry.reason))
    return text.reply()


def notice_awarded(t: Translator, params: dict) -> Reply:
    text = Text().fmt(t.gettext("You received {points}!"),
                      points=bold(points_phrase(t, int(params["amount"]))))
    if params.get("reason"):
        text.line_fmt(t.gettext("Reason: {reason}"), reason=italic(params["reason"]))
    text.line_fmt(t.gettext("Your balance: {balance}"),
                  balance=points_phrase(t, int(params["balance"])))
    return text.reply(private=True)


def notice_deducted(t: Translator, params: dict) -> Reply:
    text = Text().fmt(t.gettext("An organiser corrected your points by −{points}."),
                      points=bold(t.number(int(params["amount"]))))
    if params.get("reason"):
        text.line_fmt(t.gettext("Reason: {reason}"), reason=italic(params["reason"]))
    text.line_fmt(t.gettext("Your balance: {balance}"),
                  balance=points_phrase(t, int(params["balance"])))
    return text.reply(private=True)


AWARDED = NoticeKind("points.awarded", notice_awarded)
DEDUCTED = NoticeKind("points.deducted", notice_deducted)
