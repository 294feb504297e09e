"""Points mall replies and notices: the rewards, redemptions, orders and what organisers did."""

from __future__ import annotations

from bot.actions import action
from bot.i18n import N_, Translator
from bot.reply import Button, Reply, Span, Text, bold, code, italic
from bot.services.mall import Cancellation, Redemption, order_ref, reward_ref
from bot.spec import NoticeKind
from bot.storage.mall import CANCELLED, FULFILLED, OPEN, OrderRow, RewardRow
from bot.views.content import localized
from bot.views.pager import NEWER_OLDER, Page, page_line, pager_buttons
from bot.views.points import member_name, points_phrase
from bot.views.usage import item

MALL = "mall"          # the paged lists' names (bot.commands.mall declares them)
ORDERS = "orders"
MY_ORDERS = "myorders"
PREFIX = "mall"        # buttons: v1:mall:r:<reward>:<nonce> (redeem), v1:mall:f:<order> (fulfil)
DESCRIPTION_SHOWN = 300  # a list shows the start of a long description

STATE_LABELS = {
    OPEN: N_("open"),
    FULFILLED: N_("fulfilled"),
    CANCELLED: N_("cancelled"),
}

Texts = dict[tuple[int, str], str]


def _name(t: Translator, texts: Texts, reward_id: int, original: str,
          default_locale: str) -> list[Span]:
    return localized(t, texts, reward_id, "name", original, default_locale)


def stock_phrase(t: Translator, stock: int | None) -> str:
    if stock is None:
        return t.gettext("unlimited")
    if stock <= 0:
        return t.gettext("sold out")
    return t.ngettext("{n} left", "{n} left", stock).format(n=t.number(stock))


def _limit_phrase(t: Translator, per_member: int | None) -> str:
    if per_member is None:
        return t.gettext("no limit per member")
    return t.ngettext("at most {n} per member", "at most {n} per member",
                      per_member).format(n=t.number(per_member))


def mall(t: Translator, page: Page[RewardRow], texts: Texts, default_locale: str,
         balance: int, nonce: str) -> Reply:
    """A page of active rewards, each with a Redeem button. `nonce` makes each button's key:
    the same button pressed twice redeems once."""
    text = Text().line(bold(t.gettext("Points mall")))
    text.line(t.gettext("Spend your points on rewards. Points are a loyalty score: they are "
                        "never paid out as money or tokens, and can't be sent to other "
                        "members."))
    text.line_fmt(t.gettext("Your balance: {balance}"), balance=bold(points_phrase(t, balance)))
    if not page.items:
        text.line("").line(t.gettext("No rewards are on offer right now."))
    buttons: list[tuple[Button, ...]] = []
    for reward in page.items:
        ref = reward_ref(reward.id)
        text.line("").line(code(ref), " ", bold_spans(_name(t, texts, reward.id, reward.name,
                                                            default_locale)))
        text.line(points_phrase(t, reward.cost), " · ", stock_phrase(t, reward.stock))
        if reward.per_member is not None:
            text.add(" · ", _limit_phrase(t, reward.per_member))
        if reward.description:
            spans = localized(t, texts, reward.id, "description", reward.description,
                              default_locale)
            text.line(*_shortened(spans))
        if not reward.active:  # only organisers see these, to edit them
            text.line(italic(t.gettext("hidden: members don't see it (active=yes shows it)")))
        elif reward.stock is None or reward.stock > 0:
            label = t.gettext("Redeem {reward}").format(reward=ref)
            buttons.append((Button(label, action(PREFIX, "r", reward.id, nonce)),))
    if page.items:
        text.line("").line_fmt(t.gettext("To redeem one, press its button or send {example}."),
                               example=code(f"/redeem {reward_ref(page.items[0].id)}"))
    text.line(page_line(t, page))
    return text.reply(buttons=(*buttons, *pager_buttons(t, MALL, page)))


def bold_spans(spans: list[Span]) -> Span:
    """The name in bold (its untranslated note, if any, stays with it as plain text)."""
    return bold("".join(span.text for span in spans))


def _shortened(spans: list[Span]) -> list[Span]:
    first = spans[0]
    if len(first.text) <= DESCRIPTION_SHOWN:
        return [italic(first.text), *spans[1:]]
    return [italic(first.text[:DESCRIPTION_SHOWN].rstrip() + "…"), *spans[1:]]


def created(t: Translator, reward: RewardRow) -> Reply:
    text = Text().fmt(t.gettext("Added the reward {reward}: {name}."),
                      reward=bold(reward_ref(reward.id)), name=bold(reward.name))
    _details(t, text, reward)
    text.line_fmt(t.gettext("Members redeem it with {command}."),
                  command=code(f"/redeem {reward_ref(reward.id)}"))
    return text.reply()


def edited(t: Translator, before: RewardRow, after: RewardRow) -> Reply:
    text = Text().fmt(t.gettext("Changed the reward {reward}: {name}."),
                      reward=bold(reward_ref(after.id)), name=bold(after.name))
    _details(t, text, after)
    if before.active and not after.active:
        text.line(t.gettext("It is hidden from /mall and can't be redeemed; open orders stay "
                            "open."))
    elif after.active and not before.active:
        text.line(t.gettext("It is on offer in /mall again."))
    return text.reply()


def _details(t: Translator, text: Text, reward: RewardRow) -> None:
    text.line(*item(t, t.gettext("Cost"), points_phrase(t, reward.cost)))
    text.line(*item(t, t.gettext("Stock"), stock_phrase(t, reward.stock)))
    text.line(*item(t, t.gettext("Limit"), _limit_phrase(t, reward.per_member)))
    if not reward.active:
        text.line(*item(t, t.gettext("Status"), t.gettext("hidden (active=no)")))


def redeemed(t: Translator, done: Redemption, texts: Texts, default_locale: str) -> Reply:
    order = done.order
    text = Text().fmt(t.gettext("You redeemed {name} for {points}. Your order is {order}."),
                      name=bold_spans(_name(t, texts, done.reward.id, done.reward.name,
                                            default_locale)),
                      points=bold(points_phrase(t, order.cost)),
                      order=bold(order_ref(order.id)))
    text.line_fmt(t.gettext("Your balance: {balance}"), balance=points_phrase(t, done.balance))
    text.line(t.gettext("An organiser will hand it over and I will tell you when it is done. "
                        "/myorders shows your orders."))
    return text.reply(private=True)


def orders(t: Translator, page: Page[OrderRow], state: str | None, token: str | None,
           reason_word: str) -> Reply:
    """The organisers' queue: open orders oldest first, each with a Fulfil button."""
    title = (t.gettext("Open orders") if state == OPEN else t.gettext("All orders"))
    text = Text()
    if page.total is not None:
        text.fmt(t.gettext("{title} ({count})"), title=bold(title), count=t.number(page.total))
    else:
        text.add(bold(title))
    if not page.items:
        text.line(t.gettext("No open orders.") if state == OPEN else t.gettext("No orders yet."))
    buttons: list[tuple[Button, ...]] = []
    for order in page.items:
        text.line_fmt(t.gettext("{order} {reward} ({reward_id}) · {member} · {points} · "
                                "{state}"),
                      order=code(order_ref(order.id)), reward=bold(order.reward_name),
                      reward_id=reward_ref(order.reward_id),
                      member=member_name(t, None, order.member_name),
                      points=points_phrase(t, order.cost),
                      state=t.gettext(STATE_LABELS[order.state]))
        text.line("   ", t.datetime(order.created_at))
        if order.reason:
            text.add(" · ", italic(order.reason))
        if order.state == OPEN:
            label = t.gettext("Fulfil {order}").format(order=order_ref(order.id))
            buttons.append((Button(label, action(PREFIX, "f", order.id)),))
    text.line(page_line(t, page))
    first_open = next((o for o in page.items if o.state == OPEN), None)
    if first_open is not None:
        text.line_fmt(t.gettext("To cancel one and refund its points, send {example}."),
                      example=code(f"/cancelorder {order_ref(first_open.id)} {reason_word}"))
    return text.reply(buttons=(*buttons, *pager_buttons(t, ORDERS, page, token)))


def my_orders(t: Translator, page: Page[OrderRow], texts: Texts, default_locale: str,
              token: str | None) -> Reply:
    text = Text().line(bold(t.gettext("Your orders")))
    if not page.items:
        text.line(t.gettext("No orders yet. Send /mall to see what you can redeem."))
    for order in page.items:
        text.line(code(order_ref(order.id)), " ",
                  bold_spans(_name(t, texts, order.reward_id, order.reward_name,
                                   default_locale)),
                  " · ", points_phrase(t, order.cost), " · ",
                  bold(t.gettext(STATE_LABELS[order.state])))
        text.line("   ", t.datetime(order.created_at))
        if order.state == CANCELLED:
            text.add(" · ", t.gettext("points refunded"))
            if order.reason:
                text.add(" · ", italic(order.reason))
    text.line(page_line(t, page))
    return text.reply(private=True,
                      buttons=pager_buttons(t, MY_ORDERS, page, token, labels=NEWER_OLDER))


def fulfilled(t: Translator, order: OrderRow) -> Reply:
    return Text().fmt(t.gettext("Fulfilled {order} ({name}) for {member}. I told them."),
                      order=bold(order_ref(order.id)), name=order.reward_name,
                      member=bold(member_name(t, None, order.member_name))).reply()


def cancelled(t: Translator, done: Cancellation) -> Reply:
    order = done.order
    text = Text().fmt(
        t.gettext("Cancelled {order} ({name}) of {member}: refunded {points} and returned the "
                  "unit to stock. I told them."),
        order=bold(order_ref(order.id)), name=order.reward_name,
        member=bold(member_name(t, None, order.member_name)),
        points=bold(points_phrase(t, order.cost)))
    if order.reason:
        text.line_fmt(t.gettext("Reason: {reason}"), reason=italic(order.reason))
    return text.reply()


def _notice_name(t: Translator, params: dict) -> str:
    names = params.get("names") or {}
    return names.get(t.locale) or params.get("name") or params.get("reward", "")


def notice_fulfilled(t: Translator, params: dict) -> Reply:
    text = Text().fmt(t.gettext("Your order {order} ({name}) has been fulfilled. Enjoy!"),
                      order=bold(params["order"]), name=bold(_notice_name(t, params)))
    return text.reply(private=True)


def notice_cancelled(t: Translator, params: dict) -> Reply:
    text = Text().fmt(
        t.gettext("Your order {order} ({name}) was cancelled, and its {points} were returned "
                  "to you."),
        order=bold(params["order"]), name=bold(_notice_name(t, params)),
        points=bold(points_phrase(t, int(params["amount"]))))
    if params.get("reason"):
        text.line_fmt(t.gettext("Reason: {reason}"), reason=italic(params["reason"]))
    text.line_fmt(t.gettext("Your balance: {balance}"),
                  balance=points_phrase(t, int(params["balance"])))
    return text.reply(private=True)


FULFILLED_NOTICE = NoticeKind("mall.fulfilled", notice_fulfilled)
CANCELLED_NOTICE = NoticeKind("mall.cancelled", notice_cancelled)
