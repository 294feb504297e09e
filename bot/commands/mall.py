"""The points mall: /mall /redeem /myorders; organisers' /newreward /editreward /orders
/fulfil /cancelorder. The rules live in bot.services.mall; these handlers parse, call it with
the caller's role (which it checks again) and render."""

from __future__ import annotations

import secrets

from bot import errors
from bot.actions import Action
from bot.commands.context import Ctx
from bot.commands.pages import own_member
from bot.i18n import N_
from bot.ids import EntityId
from bot.model import Role
from bot.reply import Reply
from bot.services.mall import (
    DESCRIPTION_MAX,
    FORGET_JOB,
    NAME_MAX,
    REWARD_KIND,
    RewardEdit,
    parse_limit,
    parse_stock,
)
from bot.spec import Opt, Router
from bot.views import mall as views
from bot.views.pager import Page
from bot.views.usage import placeholder

router = Router("mall")
router.every(FORGET_JOB, "daily", rule=lambda settings: "daily 04:00",
             timezone=lambda settings: settings.time.default_timezone)
router.notice(views.FULFILLED_NOTICE, views.CANCELLED_NOTICE)

MALL_PAGE = 5
ORDERS_PAGE = 10
REASON_MAX = 200
ORG = Role.ORGANISER


def _reward_opt(required: bool = True) -> Opt:
    return Opt.ident("reward", N_("The reward's id, such as R3"), kinds=("R",),
                     required=required, label=N_("reward"))


def _order_opt() -> Opt:
    return Opt.ident("order", N_("The order's id, such as O9"), kinds=("O",), label=N_("order"))


@router.job(FORGET_JOB, N_("the mall's daily clean-up"))
async def forget_keys(services, conn, job) -> None:
    await services.mall.forget_keys_in(conn)


# -- members ----------------------------------------------------------------------------------

@router.command("mall", N_("The rewards you can redeem with your points."))
async def mall(ctx: Ctx) -> Reply:
    return await mall_pages(ctx, 1, {})


@router.pager(views.MALL)
async def mall_pages(ctx: Ctx, page: int, filters: dict[str, str]) -> Reply:
    services = ctx.services
    rows, number, pages = await services.mall.shown_rewards(page, MALL_PAGE,
                                                            hidden=ctx.is_organiser)
    texts = await services.translations.for_reader(REWARD_KIND, [r.id for r in rows],
                                                   ctx.t.locale)
    balance = (await services.ledger.standing(ctx.caller.member_id)).balance
    return views.mall(ctx.t, Page(rows, number, pages), texts, _default_locale(ctx), balance,
                      secrets.token_hex(4))


@router.command("redeem", N_("Spend your points on a reward from /mall."),
                _reward_opt(), private=True)
async def redeem(ctx: Ctx, reward: EntityId) -> Reply:
    return await _redeem(ctx, reward.number, ctx.key("redeem"))


@router.button(views.PREFIX)
async def mall_button(ctx: Ctx, action: Action) -> Reply:
    """`r:<reward>:<nonce>` redeems (the key is the button's, so a double press redeems once);
    `f:<order>` fulfils (organisers; the service checks the role and the state again)."""
    if action.verb == "r" and len(action.args) == 2:
        reward_id = action.int_arg(0)
        nonce = action.args[1]
        return await _redeem(ctx, reward_id,
                             f"mall:{ctx.caller.member_id}:{reward_id}:{nonce}")
    if action.verb == "f" and len(action.args) == 1:
        if not ctx.is_organiser:
            raise errors.PermissionDenied(role=ORG.code, command="fulfil")
        return await _fulfil(ctx, action.int_arg(0))
    raise errors.StaleAction()


async def _redeem(ctx: Ctx, reward_id: int, key: str) -> Reply:
    done = await ctx.services.mall.redeem(ctx.caller.member_id, reward_id, key=key,
                                          platform=str(ctx.inv.actor.platform))
    texts = await ctx.services.translations.for_reader(REWARD_KIND, [reward_id], ctx.t.locale)
    return views.redeemed(ctx.t, done, texts, _default_locale(ctx))


@router.command("myorders", N_("Your mall orders and their state."), private=True)
async def myorders(ctx: Ctx) -> Reply:
    return await _my_orders(ctx, ctx.caller.member_id, 1)


@router.pager(views.MY_ORDERS)
async def my_order_pages(ctx: Ctx, page: int, filters: dict[str, str]) -> Reply:
    """Whose orders rides in the token and is checked again: one's own only."""
    member_id = own_member(ctx, filters)
    return await _my_orders(ctx, member_id, page)


async def _my_orders(ctx: Ctx, member_id: int, page: int) -> Reply:
    rows, number, pages = await ctx.services.mall.member_orders(member_id, page, ORDERS_PAGE)
    texts = await ctx.services.translations.for_reader(
        REWARD_KIND, sorted({r.reward_id for r in rows}), ctx.t.locale)
    token = await ctx.services.pages.token_for({"member": str(member_id)})
    return views.my_orders(ctx.t, Page(rows, number, pages), texts, _default_locale(ctx),
                           token)


# -- organisers: rewards ----------------------------------------------------------------------

@router.command("newreward", N_("Add a reward to the mall."),
                Opt.text("name", N_("What members get"), max_len=NAME_MAX, label=N_("name")),
                Opt.points("cost", N_("Its price in points"), label=N_("cost")),
                Opt.text("stock", N_("How many there are: a number, or unlimited (the "
                                     "default)"), max_len=20, required=False,
                         label=N_("stock")),
                Opt.text("limit", N_("How many one member may redeem: a number, or none (the "
                                     "default)"), max_len=20, required=False,
                         label=N_("limit")),
                Opt.text("description", N_("More about it"), max_len=DESCRIPTION_MAX,
                         required=False, rest=True, label=N_("description")),
                role=ORG, dialogue=True)
async def newreward(ctx: Ctx, name: str, cost: int, stock: str | None, limit: str | None,
                    description: str | None) -> Reply:
    reward, _new = await ctx.services.mall.create_reward(
        ctx.caller.member_id, ctx.caller.role, name=name, description=description or "",
        cost=cost, stock=parse_stock(stock, command="newreward"),
        per_member=parse_limit(limit, command="newreward"), key=ctx.key("newreward"))
    return views.created(ctx.t, reward)


@router.command("editreward", N_("Change a reward: its name, description, cost, stock, limit, "
                                 "or hide it with active=no."),
                _reward_opt(),
                Opt.text("name", N_("A new name"), max_len=NAME_MAX, required=False,
                         label=N_("name")),
                Opt.text("description", N_("A new description"), max_len=DESCRIPTION_MAX,
                         required=False, label=N_("description")),
                Opt.points("cost", N_("A new price in points"), required=False,
                           label=N_("cost")),
                Opt.text("stock", N_("Units left: a number, or unlimited"), max_len=20,
                         required=False, label=N_("stock")),
                Opt.text("limit", N_("How many one member may redeem: a number, or none"),
                         max_len=20, required=False, label=N_("limit")),
                Opt.choice("active", N_("yes offers it, no hides it"), ("yes", "no"),
                           required=False, label=N_("active")),
                role=ORG)
async def editreward(ctx: Ctx, reward: EntityId, name: str | None, description: str | None,
                     cost: int | None, stock: str | None, limit: str | None,
                     active: str | None) -> Reply:
    changes: dict[str, object] = {}
    if name is not None:
        changes["name"] = name
    if description is not None:
        changes["description"] = description
    if cost is not None:
        changes["cost"] = cost
    if stock is not None:
        changes["stock"] = parse_stock(stock, command="editreward")
    if limit is not None:
        changes["per_member"] = parse_limit(limit, command="editreward")
    if active is not None:
        changes["active"] = active == "yes"
    before, after = await ctx.services.mall.edit_reward(
        ctx.caller.member_id, ctx.caller.role, reward.number, RewardEdit(**changes))
    return views.edited(ctx.t, before, after)


# -- organisers: orders -----------------------------------------------------------------------

@router.command("orders", N_("Mall orders to hand over, oldest first, with a Fulfil button."),
                Opt.choice("state", N_("open (the default) or all"), ("open", "all"),
                           required=False, label=N_("state")),
                role=ORG)
async def orders(ctx: Ctx, state: str | None) -> Reply:
    return await order_pages(ctx, 1, {"state": state or "open"})


@router.pager(views.ORDERS, role=ORG)
async def order_pages(ctx: Ctx, page: int, filters: dict[str, str]) -> Reply:
    if not ctx.is_organiser:
        raise errors.PermissionDenied(role=ORG.code, command="orders")
    chosen = filters.get("state", "open")
    if chosen not in ("open", "all"):
        raise errors.StaleAction()
    state = None if chosen == "all" else "open"
    rows, number, pages, total = await ctx.services.mall.orders(state, page, ORDERS_PAGE)
    token = await ctx.services.pages.token_for({"state": chosen})
    reason = ctx.registry.get("cancelorder").option("reason")
    return views.orders(ctx.t, Page(rows, number, pages, total), state, token,
                        placeholder(reason, ctx.t))


@router.command("fulfil", N_("Mark an order as handed over, and tell the member."),
                _order_opt(), role=ORG)
async def fulfil(ctx: Ctx, order: EntityId) -> Reply:
    return await _fulfil(ctx, order.number)


async def _fulfil(ctx: Ctx, order_id: int) -> Reply:
    done = await ctx.services.mall.fulfil(ctx.caller.member_id, ctx.caller.role, order_id,
                                          notice=views.FULFILLED_NOTICE)
    return views.fulfilled(ctx.t, done)


@router.command("cancelorder", N_("Cancel an open order: its points are refunded and its unit "
                                  "returns to stock."),
                _order_opt(),
                Opt.text("reason", N_("Why, for the member"), max_len=REASON_MAX,
                         required=False, rest=True, label=N_("reason")),
                role=ORG)
async def cancelorder(ctx: Ctx, order: EntityId, reason: str | None) -> Reply:
    done = await ctx.services.mall.cancel(ctx.caller.member_id, ctx.caller.role, order.number,
                                          reason=reason, notice=views.CANCELLED_NOTICE)
    return views.cancelled(ctx.t, done)


def _default_locale(ctx: Ctx) -> str:
    return ctx.services.settings.i18n.default_locale
