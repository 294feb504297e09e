"""The one CSV writer of the project: exports and chat attachments alike.

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is run as a formula by
spreadsheet programs, so a display name `=HYPERLINK(…)` typed by a member would run on the
organiser's machine. Such text cells get a leading `'`, which spreadsheets show as plain text
(OWASP, https://owasp.org/www-community/attacks/CSV_Injection). Numbers are written as numbers:
a negative amount is data, not a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

from bot.reply import Attachment
from bot.spec import Table

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """`value` as a spreadsheet will read it: text that could start a formula is quoted."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str):
        return value
    return "'" + value if value.startswith(_FORMULA_START) else value


def write_csv(out: TextIO, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    writer = csv.writer(out)
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """The same CSV as an attachment's bytes (UTF-8 with a BOM, so spreadsheet programs
    read Chinese names correctly)."""
    buffer = io.StringIO()
    write_csv(buffer, header, rows)
    return buffer.getvalue().encode("utf-8-sig")


def csv_attachment(table: Table, filename: str) -> Attachment:
    """`table` as a CSV file a reply carries (`Reply(attachments=(…,))`): the same rows as
    `campusbot export`, with a BOM (see csv_bytes). `filename` is used as given."""
    return Attachment(filename, csv_bytes(table.header, table.rows))
