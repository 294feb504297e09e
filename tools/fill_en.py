"""Fill the English catalog from the template: English msgstrs are the msgids themselves.

Run after `campusbot i18n update`; keeps the en catalog complete so `i18n check` can insist that
every enabled catalog translates every message.
"""

from pathlib import Path

from babel.messages.pofile import read_po, write_po

PO = Path(__file__).resolve().parent.parent / "locales/en/LC_MESSAGES/campusbot.po"


def main() -> None:
    with PO.open("rb") as fp:
        catalog = read_po(fp, locale="en")
    for message in catalog:
        if not message.id:
            continue
        message.string = message.id if isinstance(message.id, str) else tuple(message.id)
        message.flags.discard("fuzzy")
    with PO.open("wb") as fp:
        write_po(fp, catalog, width=99, sort_output=True)


if __name__ == "__main__":
    main()
