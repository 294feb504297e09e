"""Commands: each feature module declares its commands on its own Router.

FEATURES lists the routers in menu order (/help, Telegram menus and Discord's picker follow
it). Adding a feature is one line here.
"""

from __future__ import annotations

from bot.commands import bounties, general, identity, mall, pages, points
from bot.spec import Registry, Router

FEATURES: tuple[Router, ...] = (general.router, points.router, identity.router, mall.router,
                                bounties.router, pages.router)


def load_registry(features: tuple[Router, ...] = FEATURES) -> Registry:
    return Registry.build(features)
