"""A Reply as Discord messages: escaped markdown content in ≤ 2,000-character parts, buttons.

Every span's text is escaped for Discord markdown and mentions before its style is wrapped
around it, so user text can never become markup or a ping. Mentions are also
switched off client-wide with `AllowedMentions.none()`, which is what really decides who is
pinged (https://discord.com/developers/docs/resources/message#allowed-mentions-object).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import discord
from discord.utils import escape_markdown, escape_mentions

from bot.reply import Button, Form, Reply, Span, Style

# Message content is at most 2,000 characters
# (https://discord.com/developers/docs/resources/message#create-message-jsonform-params).
LIMIT = 2000
# Raw text is cut into pieces this long before escaping: escaping at most doubles a piece
# (a backslash per character) and escape_mentions adds one character per mention.
_RAW_PIECE = LIMIT // 2 - 50
# Components: ≤ 5 action rows of ≤ 5 buttons, label ≤ 80 characters
# (https://discord.com/developers/docs/components/reference#button).
MAX_ROWS, MAX_PER_ROW, MAX_LABEL = 5, 5, 80
ACTION_TEMPLATE = r"v1:.+"
_URL_UNSAFE = {" ": "%20", "(": "%28", ")": "%29", "<": "%3C", ">": "%3E", "\n": ""}


@dataclass
class Part:
    """One Discord message's worth of a reply."""

    content: str
    view: discord.ui.View | None = None
    files: list[discord.File] = field(default_factory=list)

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments for send_message / followup.send / edit_message."""
        out: dict[str, Any] = {"content": self.content}
        if self.view is not None:
            out["view"] = self.view
        if self.files:
            out["files"] = self.files
        return out


class ActionButton(discord.ui.DynamicItem[discord.ui.Button], template=ACTION_TEMPLATE):
    """Every campusbot button: custom_id = the core's action payload (`v1:…`, ≤ 64 bytes).

    A `DynamicItem` is rebuilt from the custom_id of the pressed button, so buttons on old
    messages keep working after a restart without any stored view
    (https://discordpy.readthedocs.io/en/stable/interactions/api.html#dynamicitem).
    """

    def __init__(self, action: str, label: str = "…"):
        super().__init__(discord.ui.Button(label=label[:MAX_LABEL], custom_id=action,
                                           style=discord.ButtonStyle.secondary))
        self.action = action

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item,
                             match: re.Match[str], /) -> ActionButton:
        return cls(match.string, getattr(item, "label", None) or "…")

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.client.handle_button(interaction, self.action)  # type: ignore[attr-defined]


@lru_cache(maxsize=4096)
def escape(text: str) -> str:
    """Discord markdown and mention escaping of a literal. Cached: most spans are catalog
    strings and numbers that every reply repeats, and each escape is two regex passes."""
    return escape_mentions(escape_markdown(text))


def render_span(span: Span) -> str:
    text = span.text
    if span.style is Style.PLAIN or not text.strip():
        return escape(text)
    core = text.strip()
    lead, trail = text[: len(text) - len(text.lstrip())], text[len(text.rstrip()):]
    if span.style is Style.CODE:
        # Inside backticks nothing is escaped, so a backtick is swapped for a look-alike.
        return f"{lead}`{core.replace('`', 'ˋ')}`{trail}"
    if span.style is Style.LINK and span.url and span.url.startswith(("https://", "http://")):
        url = "".join(_URL_UNSAFE.get(ch, ch) for ch in span.url)
        # <url> inside a masked link suppresses the embed preview.
        return f"{lead}[{escape(core)}](<{url}>){trail}"
    marker = {Style.BOLD: "**", Style.ITALIC: "_"}.get(span.style, "")
    return f"{lead}{marker}{escape(core)}{marker}{trail}"


def _tokens(spans: tuple[Span, ...]) -> list[str]:
    """Rendered pieces that may not be cut: a line of plain text, or a styled span's piece."""
    tokens: list[str] = []
    for span in spans:
        lines = re.split(r"(?<=\n)", span.text) if span.style is Style.PLAIN else [span.text]
        for line in lines:
            for start in range(0, len(line), _RAW_PIECE):
                piece = Span(line[start:start + _RAW_PIECE], span.style, span.url)
                tokens.append(render_span(piece))
    return tokens


def split_content(spans: tuple[Span, ...], limit: int = LIMIT) -> list[str]:
    """Pack rendered tokens into messages under `limit`, breaking between tokens only."""
    if _fits(spans, limit):  # the usual short reply: no need to cut it into tokens
        whole = "".join(render_span(span) for span in spans).strip("\n")
        return [whole] if whole.strip() else []
    chunks: list[str] = []
    current = ""
    for token in _tokens(spans):
        if current and len(current) + len(token) > limit:
            chunks.append(current)
            current = ""
        current += token
    chunks.append(current)
    return [chunk.strip("\n") for chunk in chunks if chunk.strip()]


def _fits(spans: tuple[Span, ...], limit: int) -> bool:
    """Escaping at most doubles a character; a link adds its URL and six characters."""
    size = sum(2 * len(span.text) + (len(span.url) + 6 if span.url else 0) for span in spans)
    return size <= limit


def fit_rows(buttons: tuple[tuple[Button, ...], ...]) -> tuple[tuple[Button, ...], ...]:
    """Discord allows 5 rows of 5 buttons; a list with a button per item (the mall's Redeem,
    an order's Fulfil) has more rows than that. The last row (the pager's) stays a row of its
    own; the items' buttons are packed 5 to a row before it, so none is dropped while 24 fit."""
    if len(buttons) <= MAX_ROWS:
        return buttons
    last = buttons[-1][:MAX_PER_ROW]
    items = [button for row in buttons[:-1] for button in row]
    packed = [tuple(items[i:i + MAX_PER_ROW]) for i in range(0, len(items), MAX_PER_ROW)]
    return (*packed[:MAX_ROWS - 1], last)


def build_view(buttons: tuple[tuple[Button, ...], ...]) -> discord.ui.View | None:
    if not buttons:
        return None
    view = discord.ui.View(timeout=None)
    for row_index, row in enumerate(fit_rows(buttons)):
        for button in row[:MAX_PER_ROW]:
            item = ActionButton(button.action, button.label)
            item.item.row = row_index
            view.add_item(item)
    return view


def is_ephemeral(reply: Reply) -> bool:
    """Personal data, errors and usage are for the caller only: the EPHEMERAL message flag, 64
    (https://discord.com/developers/docs/resources/message#message-object-message-flags)."""
    return reply.private or reply.error


def render(reply: Reply) -> list[Part]:
    """The reply as messages: files with the first, buttons with the last.

    A reply whose Form could not open as a modal (the interaction was already acknowledged,
    or it answers a modal, which cannot open another) gets a button that opens it: the form's
    payload, which the core answers with the form again."""
    contents = split_content(reply.spans) or [escape(reply.notice or "")]
    if not contents[0].strip() and not reply.attachments:
        contents = ["…"]
    parts = [Part(content) for content in contents]
    parts[0].files = [discord.File(io.BytesIO(a.data), filename=a.filename)
                      for a in reply.attachments]
    buttons = reply.buttons
    if reply.form is not None and reply.form.fields:
        buttons = (*buttons, (Button(reply.form.title, reply.form.payload()),))
    parts[-1].view = build_view(buttons)
    return parts


# A modal: a title of ≤ 45 characters, ≤ 5 labelled text inputs, values of ≤ 4,000
# (https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-
# response-object-modal, https://discord.com/developers/docs/components/reference#label).
MAX_MODAL_INPUTS, MAX_INPUT_LABEL, MAX_INPUT_VALUE = 5, 45, 4000


def build_modal(form: Form) -> discord.ui.Modal:
    """The Form as a modal whose custom_id is the form's payload (`v1:form:<command>:…`).

    It is stopped before it is sent, so discord.py keeps no Modal object waiting for the
    submission (`send_modal` stores only unfinished ones): the adapter's on_interaction reads
    every modal submission from its custom_id, so forms opened before a restart still work.
    """
    modal = discord.ui.Modal(title=form.title[:45], custom_id=form.payload(), timeout=None)
    for item in form.fields[:MAX_MODAL_INPUTS]:
        style = discord.TextStyle.paragraph if item.long else discord.TextStyle.short
        max_len = max(1, min(item.max_len, MAX_INPUT_VALUE))
        text_input = discord.ui.TextInput(style=style, custom_id=item.name,
                                          default=item.value[:max_len] or None,
                                          required=item.required, max_length=max_len)
        modal.add_item(discord.ui.Label(text=item.label[:MAX_INPUT_LABEL] or item.name,
                                        description=item.help[:100] or None,
                                        component=text_input))
    modal.stop()
    return modal
