"""Linking replies: what a link would do before it is confirmed, and what it did."""

from __future__ import annotations

from bot.actions import action
from bot.i18n import Translator
from bot.reply import Button, Reply, Text, bold
from bot.services.members import LinkPreview
from bot.spec import NoticeKind
from bot.views.errors import role_name
from bot.views.points import member_name, points_phrase


def link_preview(t: Translator, preview: LinkPreview) -> Reply:
    """Both sides, with their points and roles, and a button: opening a code (or a t.me
    link with one) never links by itself."""
    issuer, joiner = preview.issuer, preview.joiner
    text = Text().add(bold(t.gettext("Link this account to another member?")))
    text.line_fmt(t.gettext("The code was made by {name}: {points}, role {role}."),
                  name=bold(member_name(t, issuer)),
                  points=points_phrase(t, issuer.balance),
                  role=role_name(t, preview.issuer_role.code))
    text.line_fmt(t.gettext("This account ({name}): {points}, role {role}."),
                  name=bold(member_name(t, joiner)),
                  points=points_phrase(t, joiner.balance),
                  role=role_name(t, preview.joiner_role.code))
    text.line_fmt(t.gettext("After linking, both accounts share one member: {points}, one "
                            "history, role {role}, and the language and time zone of {name}."),
                  points=bold(points_phrase(t, issuer.balance + joiner.balance)),
                  role=role_name(t, preview.merged_role.code), name=member_name(t, issuer))
    text.line(t.gettext("Only link accounts that are all yours."))
    buttons = ((Button(t.gettext("Link accounts"), action("link", "ok", preview.code)),
                Button(t.gettext("Cancel"), action("link", "no"))),)
    return text.reply(private=True, buttons=buttons)


def linked(t: Translator, balance: int, already: bool) -> Reply:
    text = Text()
    if already:
        text.add(t.gettext("These accounts are already linked: they share one member."))
    else:
        text.add(t.gettext("Linked! This account now shares one member, one balance and one "
                           "history with your other account."))
    text.line_fmt(t.gettext("Balance: {points}"), points=bold(points_phrase(t, balance)))
    return text.reply(private=True)


def unlink_question(t: Translator) -> Reply:
    text = Text().add(bold(t.gettext("Detach this account from its member?")))
    text.line(t.gettext("It starts again on its own with no points. Your other accounts keep "
                        "the member, its points and its history. To join it again later you "
                        "need a new /link code."))
    buttons = ((Button(t.gettext("Detach this account"), action("unlink", "ok")),
                Button(t.gettext("Keep it linked"), action("unlink", "no"))),)
    return text.reply(private=True, buttons=buttons)


def notice_granted(t: Translator, params: dict) -> Reply:
    role = role_name(t, params["role"])
    return Text().fmt(t.gettext("An organiser gave you the {role} role."), role=bold(role)).line(
        t.gettext("Send /help to see what you can do now.")).reply()


def notice_revoked(t: Translator, params: dict) -> Reply:
    role = role_name(t, params["role"])
    return Text().fmt(t.gettext("An organiser took the {role} role from you."),
                      role=bold(role)).reply()


ROLE_GRANTED = NoticeKind("roles.granted", notice_granted)
ROLE_REVOKED = NoticeKind("roles.revoked", notice_revoked)
