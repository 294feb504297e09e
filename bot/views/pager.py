"""One page of a list, and the buttons every paged list shows.

Every list (/history, /bounties, /orders…) pages with the same button action:
`v1:pg:<list>:<page>[:<token>]`. `<list>` is a name declared with `Router.pager`, `<page>` the
page to show, and `<token>` the list's filters kept server-side (bot.services.pages), so a
filter that is not a short ASCII word (a sponsor's name in Chinese) never rides in a payload.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from bot.actions import action
from bot.i18n import N_, Translator
from bot.reply import Button

PREFIX = "pg"  # the one button family of every paged list (bot.commands.pages)

Item = TypeVar("Item")

# Labels of the two buttons, as msgids: (back, forward).
PREVIOUS_NEXT = (N_("‹ Previous"), N_("Next ›"))
NEWER_OLDER = (N_("‹ Newer"), N_("Older ›"))  # lists shown newest first


@dataclass(frozen=True)
class Page(Generic[Item]):
    """One page: its items, its number (from 1), how many pages, and how many items in all
    (None when the list's service does not count them)."""

    items: Sequence[Item]
    number: int
    pages: int
    total: int | None = None

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def clamp(requested: int, total: int, size: int) -> tuple[int, int]:
    """(page to show, pages): a requested page brought into 1…pages, an empty list having one
    (empty) page. A button may be pressed after the list shrank, or forged."""
    pages = max(1, -(-max(total, 0) // size))
    return min(max(requested, 1), pages), pages


def offset(number: int, size: int) -> int:
    """The index of page `number`'s first item."""
    return (number - 1) * size


def page_of(items: Sequence[Item], requested: int, size: int) -> Page[Item]:
    """A page of a list already in memory."""
    number, pages = clamp(requested, len(items), size)
    start = offset(number, size)
    return Page(tuple(items[start:start + size]), number, pages, len(items))


def page_action(list_name: str, number: int, token: str | None = None) -> str:
    return action(PREFIX, list_name, number, *((token,) if token else ()))


def page_line(t: Translator, page: Page) -> str:
    return t.gettext("Page {page} of {pages}").format(page=t.number(page.number),
                                                      pages=t.number(page.pages))


def pager_buttons(t: Translator, list_name: str, page: Page, token: str | None = None, *,
                  labels: tuple[str, str] = PREVIOUS_NEXT) -> tuple[tuple[Button, ...], ...]:
    """The row of page buttons (none for a single page); `labels` are msgids, shown in the
    reader's language."""
    back, forward = labels
    row = []
    if page.has_previous:
        row.append(Button(t.gettext(back), page_action(list_name, page.number - 1, token)))
    if page.has_next:
        row.append(Button(t.gettext(forward), page_action(list_name, page.number + 1, token)))
    return (tuple(row),) if row else ()
