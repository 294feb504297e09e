"""The page button of every paged list: `v1:pg:<list>:<page>[:<token>]`.

Lists are declared with `Router.pager(name, role)`; their handlers, `async def (ctx, page,
filters) -> Reply`, answer both the list's command (page 1) and these presses. Nothing in a
payload is trusted: the list must exist, the presser must hold the list's role, the token must
name stored filters, and the handler checks again what those filters point at (someone else's
history is for organisers only).
"""

from __future__ import annotations

from bot import errors
from bot.actions import Action
from bot.commands.context import Ctx
from bot.reply import Reply
from bot.spec import Router
from bot.views.pager import PREFIX

router = Router("pages")

MAX_PAGE = 100_000  # no list has more; a larger number was not made by us


@router.button(PREFIX)
async def page(ctx: Ctx, action: Action) -> Reply:
    spec = ctx.registry.pagers.get(action.verb)
    if spec is None or len(action.args) not in (1, 2):
        raise errors.StaleAction()
    number = action.int_arg(0)
    if not 1 <= number <= MAX_PAGE:
        raise errors.StaleAction()
    if ctx.caller.role < spec.role:
        raise errors.PermissionDenied(role=spec.role.code, command=None)
    filters: dict[str, str] = {}
    if len(action.args) == 2:
        found = await ctx.services.pages.filters(action.args[1])
        if found is None:  # unknown, forged or expired
            raise errors.StaleAction()
        filters = found
    reply = await spec.handler(ctx, number, filters)
    return reply.with_(edit=True)


def own_member(ctx, filters: dict[str, str]) -> int:
    """The member a "my …" list's token names, which must be the presser: a page token of
    someone else's list is answered as a stale button, never shown."""
    try:
        member_id = int(filters["member"])
    except (KeyError, ValueError):
        raise errors.StaleAction() from None
    if member_id != ctx.caller.member_id:
        raise errors.StaleAction()
    return member_id
