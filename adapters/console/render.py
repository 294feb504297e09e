"""A Reply as plain terminal text: markup stripped, buttons as numbered `[n] Label` lines,
attachments saved under a folder (never over an earlier file) and shown as their paths."""

from __future__ import annotations

from pathlib import Path

from bot.reply import Button, Reply, Style

MAX_COPIES = 10_000  # name.csv … name-10000.csv


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
    lines += [str(path) for path in save_attachments(reply, out_dir)]
    for number, button in enumerate(flat_buttons(reply), start=1):
        lines.append(f"[{number}] {button.label}")
    return "\n".join(lines)


def render_notice(name: str, reply: Reply, out_dir: Path) -> str:
    """A delivered notification: each line starts with `[to NAME]`; its attachments are
    saved like a reply's, and their paths printed."""
    lines = render_text(reply).splitlines()
    lines += [str(path) for path in save_attachments(reply, out_dir)]
    return "\n".join(f"[to {name}] {line}" for line in lines)


def save_attachments(reply: Reply, out_dir: Path) -> list[Path]:
    return [save_file(out_dir, attachment.filename, attachment.data)
            for attachment in reply.attachments]


def save_file(out_dir: Path, filename: str, data: bytes) -> Path:
    """Write `data` under `out_dir` as `filename` (its last part only), or as `name-2.csv`,
    `name-3.csv`… when that exists: a file written earlier is never overwritten, even by
    another process at the same moment (the name is claimed with open(…, "x"))."""
    name = Path(filename.replace("\\", "/")).name
    if name in ("", ".", ".."):
        name = "attachment"
    stem, suffix = Path(name).stem, Path(name).suffix
    out_dir.mkdir(parents=True, exist_ok=True)
    for number in range(1, MAX_COPIES + 1):
        path = out_dir / (name if number == 1 else f"{stem}-{number}{suffix}")
        try:
            with path.open("xb") as out:
                out.write(data)
        except FileExistsError:
            continue
        return path
    raise FileExistsError(f"{out_dir / name}: {MAX_COPIES} files of that name already")
