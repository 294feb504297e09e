"""Outbox message kinds and the views that render them for each recipient."""

from __future__ import annotations

from collections.abc import Callable

from bot.i18n import Translator
from bot.reply import Reply
from bot.views import points

RENDERERS: dict[str, Callable[[Translator, dict], Reply]] = {
    "points.awarded": points.notice_awarded,
    "points.deducted": points.notice_deducted,
}


def render(t: Translator, kind: str, params: dict) -> Reply:
    """Render a queued notice; an unknown kind (from a newer version) raises KeyError."""
    return RENDERERS[kind](t, params)
