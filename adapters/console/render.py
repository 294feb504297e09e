"""A Reply as plain terminal text: markup stripped, buttons as numbered `[n] Label` lines."""

from __future__ import annotations

from pathlib import Path

from bot.reply import Button, Reply, Style


def render_text(reply: Reply) -> str:
    parts = []
    for span in reply.spans:
        if span.style == Style.LINK and span.url and span.url != span.text:
            parts.append(f"{span.text} ({span.url})")
        else:
            parts.append(span.text)
    return "".join(parts).strip("\n")


def flat_buttons(reply: Reply) -> list[Button]:
    return [button for row in reply.buttons for button in row]


def render(reply: Reply, out_dir: Path) -> str:
    lines = [render_text(reply)] if reply.spans else []
    for attachment in reply.attachments:
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / Path(attachment.filename).name
        path.write_bytes(attachment.data)
        lines.append(str(path))
    for number, button in enumerate(flat_buttons(reply), start=1):
        lines.append(f"[{number}] {button.label}")
    return "\n".join(lines)


def render_notice(name: str, reply: Reply) -> str:
    """A delivered notification: each line starts with `[to NAME]`."""
    return "\n".join(f"[to {name}] {line}" for line in render_text(reply).splitlines())
