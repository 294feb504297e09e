"""Commands: declared once in feature modules, collected into one registry."""

from __future__ import annotations

from bot.commands.spec import REGISTRY, Registry


def load_registry() -> Registry:
    """Import every feature module so its @command declarations register, in menu order."""
    from bot.commands import general, points, identity  # noqa: F401, I001

    return REGISTRY
