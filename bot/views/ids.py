"""Entity ids and their kinds as a reader reads them: "a bounty", "a reward, or an event"."""

from __future__ import annotations

from collections.abc import Iterable

from babel.lists import format_list

from bot.i18n import N_, Translator
from bot.ids import IdKind

# TRANSLATORS: what an id names, with its article as it stands in a sentence ("R3 is a
# reward", "could be a bounty or an event"); a language without articles writes the noun.
KIND_NAMES: dict[IdKind, str] = {
    IdKind.BOUNTY: N_("a bounty"),
    IdKind.SUBMISSION: N_("a submission"),
    IdKind.REWARD: N_("a reward"),
    IdKind.ORDER: N_("an order"),
    IdKind.EVENT: N_("an event"),
    # TRANSLATORS: one session (time slot) of an event's track.
    IdKind.SESSION: N_("an event session"),
    IdKind.ANNOUNCEMENT: N_("an announcement"),
    IdKind.CHANNEL: N_("a channel"),
}


def kind_name(t: Translator, kind: IdKind | str) -> str:
    """One kind, by its letter or itself: "a bounty", "一个悬赏"; an unknown letter as is."""
    try:
        return t.gettext(KIND_NAMES[IdKind.of(kind)])
    except ValueError:
        return str(kind)


def kind_names(t: Translator, kinds: Iterable[IdKind | str]) -> str:
    """Kinds as alternatives the reader's language lists: "a bounty, a reward, or an event"."""
    names = [kind_name(t, kind) for kind in kinds]
    return format_list(names, style="or", locale=t.locale) if names else ""

