"""A Reply as Telegram HTML messages: escaped spans, inline keyboards, split under 4,096.

Every span's text goes through `html.escape` here and nowhere else, so user text (a reason, a
display name) can never become markup. Formatting reference:
https://core.telegram.org/bots/api#html-style
"""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass

from telegram import ForceReply, InlineKeyboardButton, InlineKeyboardMarkup

from bot.actions import MAX_BYTES
from bot.reply import Reply, Span, Style

log = logging.getLogger(__name__)

# https://core.telegram.org/bots/api#sendmessage: "1-4096 characters after entities parsing".
# Telegram counts UTF-16 code units (as it does for entity offsets), so we count them too.
MAX_TEXT = 4096
_TAGS = {Style.BOLD: "b", Style.ITALIC: "i", Style.CODE: "code"}
_LINK_SCHEMES = ("https://", "http://", "tg://")


@dataclass(frozen=True)
class Chunk:
    """One message's worth of HTML, and its length as Telegram counts it."""

    html: str
    length: int


def units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def span_html(span: Span) -> str:
    """One span, escaped; a link with a scheme Telegram refuses is shown as plain text."""
    text = html.escape(span.text, quote=False)
    if span.style == Style.LINK:
        if span.url and span.url.startswith(_LINK_SCHEMES):
            return f'<a href="{html.escape(span.url, quote=True)}">{text}</a>'
        return text
    tag = _TAGS.get(span.style)
    return f"<{tag}>{text}</{tag}>" if tag and span.text else text


def _pieces(spans: tuple[Span, ...]) -> list[Span | None]:
    """Spans cut at every newline; None marks a line break. A styled span that runs over
    several lines becomes one tag per line, so a split between lines never cuts a tag."""
    pieces: list[Span | None] = []
    for span in spans:
        for index, part in enumerate(span.text.split("\n")):
            if index:
                pieces.append(None)
            if part:
                pieces.append(Span(part, span.style, span.url))
    return pieces


def _cut(span: Span, room: int) -> tuple[Span, Span]:
    """Cut one over-long span's *text* (before escaping) at `room` UTF-16 units."""
    taken, count = [], 0
    for char in span.text:
        width = units(char)
        if count + width > room:
            break
        taken.append(char)
        count += width
    head = "".join(taken)
    return Span(head, span.style, span.url), Span(span.text[len(head):], span.style, span.url)


def chunks(spans: tuple[Span, ...], limit: int = MAX_TEXT) -> list[str]:
    """HTML messages of at most `limit` visible units each, split at line ends where possible.

    Only a single line longer than the limit is cut inside a span, and then between characters
    of its text, each half wrapped in its own tags.
    """
    if sum(len(s.text) for s in spans) * 2 <= limit:  # fits even if every char took 2 units
        text = "".join(span_html(s) for s in spans).strip("\n")
        return [text] if text.strip() else []
    out: list[Chunk] = []
    lines: list[list[Span]] = [[]]
    for piece in _pieces(spans):
        if piece is None:
            lines.append([])
        else:
            lines[-1].append(piece)
    html_parts: list[str] = []
    length = 0

    def flush() -> None:
        nonlocal html_parts, length
        text = "".join(html_parts).strip("\n")
        if text.strip():
            out.append(Chunk(text, length))
        html_parts, length = [], 0

    for line in lines:
        width = sum(units(s.text) for s in line)
        if html_parts and length + 1 + width > limit:
            flush()
        elif html_parts:
            html_parts.append("\n")
            length += 1
        for span in line:
            while length + units(span.text) > limit:
                head, span = _cut(span, limit - length)
                html_parts.append(span_html(head))
                length += units(head.text)
                flush()
            html_parts.append(span_html(span))
            length += units(span.text)
    flush()
    return [c.html for c in out]


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    """Buttons as an inline keyboard; Button.action is already our encoded payload.

    callback_data must be 1-64 bytes (https://core.telegram.org/bots/api#inlinekeyboardbutton);
    the codec guarantees it, and a button that breaks it is dropped rather than failing the
    whole message with 400 BUTTON_DATA_INVALID.
    """
    rows = []
    for row in reply.buttons:
        buttons = []
        for button in row:
            if not 1 <= len(button.action.encode()) <= MAX_BYTES:
                log.error("dropping button %r: payload is not 1-%d bytes", button.label, MAX_BYTES)
                continue
            buttons.append(InlineKeyboardButton(button.label, callback_data=button.action))
        if buttons:
            rows.append(buttons)
    return InlineKeyboardMarkup(rows) if rows else None


def markup(reply: Reply) -> InlineKeyboardMarkup | ForceReply | None:
    """The keyboard, or ForceReply for a dialogue question.

    ForceReply makes the member's client answer *to our message*, and replies to the bot reach
    it in groups even with privacy mode on (https://core.telegram.org/bots/features#privacy-mode).
    `selective` asks only the member we replied to (https://core.telegram.org/bots/api#forcereply).
    """
    buttons = keyboard(reply)
    if buttons is None and reply.ask:
        return ForceReply(selective=True)
    return buttons


def first_line(reply: Reply) -> Reply:
    """An error's first line (what went wrong), without the usage block that follows: a group
    sees the short version, /help COMMAND gives the rest."""
    kept: list[Span] = []
    for span in reply.spans:
        head, newline, _rest = span.text.partition("\n")
        if head:
            kept.append(Span(head, span.style, span.url))
        if newline:
            break
    return reply.with_(spans=tuple(kept) or reply.spans)
