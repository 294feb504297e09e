"""Bounty replies and notices: lists, details, submissions, the review queue, decisions."""

from __future__ import annotations

from datetime import datetime

from babel.dates import format_timedelta

from bot.actions import action
from bot.i18n import N_, Translator
from bot.reply import Button, Reply, Span, Text, bold, code, italic
from bot.services.bounties import (
    Decision,
    Listed,
    bounty_ref,
    effective_status,
    submission_ref,
)
from bot.services.translations import Texts
from bot.spec import NoticeKind
from bot.storage.bounties import BountyRow, SubmissionRow
from bot.views.content import localized, noticed
from bot.views.pager import NEWER_OLDER, Page, page_line, pager_buttons
from bot.views.points import points_phrase
from bot.views.usage import item

BOUNTIES = "bounties"  # the paged lists' names (bot.commands.bounties declares them)
MINE = "mysubmissions"
REVIEW = "review"
PREFIX = "bty"  # a member's buttons: v1:bty:sub:<bounty>
REVIEW_PREFIX = "rv"  # an organiser's: v1:rv:ap:<submission>, v1:rv:rj:<submission>

TRACK_LABELS = {
    "graphic": N_("graphic design"),
    "video": N_("video"),
    "music": N_("music"),
    "text": N_("writing"),
    "other": N_("other"),
}
STATUS_LABELS = {
    "draft": N_("draft"),
    "open": N_("open"),
    "closed": N_("closed"),
}
STATE_LABELS = {
    "pending": N_("waiting for review"),
    "approved": N_("approved"),
    "rejected": N_("not accepted"),
}


def _page(listed: Listed) -> Page:
    return Page(listed.items, listed.number, listed.pages, listed.total)


def _title(t: Translator, texts: Texts, bounty: BountyRow, default_locale: str) -> list[Span]:
    return localized(t, texts, bounty.id, "title", bounty.title, default_locale)


def _deadline(t: Translator, bounty: BountyRow) -> str:
    if bounty.deadline is None:
        return t.gettext("no deadline")
    return t.gettext("until {time}").format(time=t.datetime(bounty.deadline))


def _left(t: Translator, bounty: BountyRow) -> str:
    left = bounty.winners_left
    if left is None:
        return t.gettext("no winner limit")
    return t.ngettext("{n} winner left", "{n} winners left", left).format(n=t.number(left))


def bounty_list(t: Translator, listed: Listed, texts: Texts, token: str | None,
                default_locale: str, track: str | None, sponsor: str | None) -> Reply:
    page = _page(listed)
    text = Text().line(bold(t.gettext("Open bounties")))
    if track or sponsor:
        shown = [t.gettext(TRACK_LABELS.get(track, track))] if track else []
        shown += [sponsor] if sponsor else []
        text.line_fmt(t.gettext("Only: {filters}"), filters=t.list(shown))
    if not page.items:
        text.line(t.gettext("No open bounties right now."))
    for bounty in page.items:
        text.line(bold(bounty_ref(bounty.id)), " ", *_title(t, texts, bounty, default_locale))
        text.line("   ", points_phrase(t, bounty.reward), " · ", _deadline(t, bounty), " · ",
                  _left(t, bounty))
    if page.items:
        text.line_fmt(t.gettext("Send {command} for the details of one."),
                      command=code("/bounty B…"))
    text.line(page_line(t, page))
    submit = [Button(t.gettext("Submit to {id}").format(id=bounty_ref(bounty.id)),
                     action(PREFIX, "sub", bounty.id)) for bounty in page.items]
    rows = tuple(tuple(submit[i:i + 2]) for i in range(0, len(submit), 2))
    return text.reply(buttons=(*rows, *pager_buttons(t, BOUNTIES, page, token,
                                                     labels=NEWER_OLDER)))


def bounty_details(t: Translator, bounty: BountyRow, texts: Texts, now: datetime,
                   default_locale: str) -> Reply:
    status = effective_status(bounty, now)
    text = Text().line(bold(bounty_ref(bounty.id)), " ",
                       *_title(t, texts, bounty, default_locale))
    if bounty.description:
        text.line(*localized(t, texts, bounty.id, "description", bounty.description,
                             default_locale))
    text.line(*item(t, t.gettext("Reward"), bold(points_phrase(t, bounty.reward))))
    if bounty.sponsor:
        text.line(*item(t, t.gettext("Sponsor"), bounty.sponsor))
    text.line(*item(t, t.gettext("Track"), t.gettext(TRACK_LABELS.get(bounty.track,
                                                                      bounty.track))))
    text.line(*item(t, t.gettext("Deadline"), t.datetime(bounty.deadline) if bounty.deadline
                    else t.gettext("none")))
    text.line(*item(t, t.gettext("Winners"), _left(t, bounty)))
    if bounty.once:
        text.line(t.gettext("One submission per member."))
    text.line(*item(t, t.gettext("Status"), t.gettext(STATUS_LABELS.get(status, status))))
    buttons: tuple = ()
    if status == "open":
        buttons = ((Button(t.gettext("Submit"), action(PREFIX, "sub", bounty.id)),),)
    return text.reply(buttons=buttons)


def submit_usage(t: Translator, bounty_id: int, link_word: str, note_word: str) -> Reply:
    """The Submit button's answer: the exact command to send (the link comes from the
    member's own message), and the dialogue's question."""
    usage = f"/submit {bounty_ref(bounty_id)} {link_word} [{note_word}]"
    text = Text().fmt(t.gettext("Send the link to your work for {id} now, or send {usage}."),
                      id=bold(bounty_ref(bounty_id)), usage=code(usage))
    text.line_fmt(t.gettext("Send {cancel} to stop."), cancel=code("/cancel"))
    return text.reply(ask=True)


def created(t: Translator, bounty: BountyRow, default_locale: str) -> Reply:
    text = Text().fmt(t.gettext("Bounty {id} is {status}: {title}"),
                      id=bold(bounty_ref(bounty.id)),
                      status=t.gettext(STATUS_LABELS.get(bounty.status, bounty.status)),
                      title=bounty.title)
    _summary(t, text, bounty)
    text.line_fmt(t.gettext("Add its texts in other languages with {command}."),
                  command=code(f"/translate {bounty_ref(bounty.id)} …"))
    return text.reply()


def edited(t: Translator, bounty: BountyRow, now: datetime) -> Reply:
    status = effective_status(bounty, now)
    text = Text().fmt(t.gettext("Bounty {id} updated ({status}): {title}"),
                      id=bold(bounty_ref(bounty.id)),
                      status=t.gettext(STATUS_LABELS.get(status, status)), title=bounty.title)
    _summary(t, text, bounty)
    return text.reply()


def _summary(t: Translator, text: Text, bounty: BountyRow) -> None:
    text.line("   ", points_phrase(t, bounty.reward), " · ", _deadline(t, bounty), " · ",
              _left(t, bounty))


def closed(t: Translator, bounty: BountyRow) -> Reply:
    return Text().fmt(t.gettext("Bounty {id} is closed: it takes no more submissions."),
                      id=bold(bounty_ref(bounty.id))).reply()


def translated(t: Translator, ref: str, locale: str, fields: list[str]) -> Reply:
    return Text().fmt(t.gettext("Saved the {language} text of {id}: {fields}."),
                      language=t.language_name(locale), id=bold(ref),
                      fields=t.list(fields)).reply()


def submitted(t: Translator, submission: SubmissionRow, bounty: BountyRow) -> Reply:
    text = Text().fmt(t.gettext("Submitted {submission} to {bounty}. An organiser will review "
                                "it, and I'll tell you what they decide."),
                      submission=bold(submission_ref(submission.id)),
                      bounty=bold(bounty_ref(bounty.id)))
    text.line_fmt(t.gettext("Send {command} to see your submissions."),
                  command=code("/mysubmissions"))
    return text.reply()


def _state(t: Translator, submission: SubmissionRow) -> str:
    return t.gettext(STATE_LABELS.get(submission.state, submission.state))


def my_submissions(t: Translator, listed: Listed, token: str | None) -> Reply:
    page = _page(listed)
    text = Text().line(bold(t.gettext("Your submissions")))
    if not page.items:
        text.line_fmt(t.gettext("None yet. Send {command} to find a bounty."),
                      command=code("/bounties"))
    for entry in page.items:
        s = entry.submission
        text.line(bold(submission_ref(s.id)), " ",
                  *item(t, f"{bounty_ref(s.bounty_id)} {entry.bounty_title}", _state(t, s)))
        if s.state == "approved" and s.points:
            text.add(" (+", points_phrase(t, s.points), ")")
        text.line("   ", s.link)
        if s.state == "rejected" and s.reason:
            text.line("   ", *item(t, t.gettext("Reason"), italic(s.reason)))
    text.line(page_line(t, page))
    return text.reply(private=True, buttons=pager_buttons(t, MINE, page, token,
                                                         labels=NEWER_OLDER))


def review(t: Translator, listed: Listed, approvals: dict[int, int], now: datetime,
           needed: dict[int, int]) -> Reply:
    """Pending submissions, oldest first, each with how long it has waited and its buttons."""
    page = _page(listed)
    text = Text().line(bold(t.gettext("Submissions to review")))
    if not page.items:
        text.line(t.gettext("Nothing is waiting for review."))
    rows: list[tuple[Button, ...]] = []
    for entry in page.items:
        s = entry.submission
        ref = submission_ref(s.id)
        waited = format_timedelta(now - s.created_at, locale=t.locale)
        text.line(bold(ref), " ", *item(t, f"{bounty_ref(s.bounty_id)} {entry.bounty_title}",
                                        entry.member_name or t.gettext("a member")))
        text.line("   ", s.link)
        if s.note:
            text.line("   ", italic(s.note))
        text.line("   ", t.gettext("waiting for {time}").format(time=waited))
        need = needed.get(s.id, 1)
        if approvals.get(s.id):
            text.add(" · ", t.gettext("approved by {count} of {needed}").format(
                count=t.number(approvals[s.id]), needed=t.number(need)))
        rows.append((Button(t.gettext("Approve {id}").format(id=ref),
                            action(REVIEW_PREFIX, "ap", s.id)),
                     Button(t.gettext("Reject {id}").format(id=ref),
                            action(REVIEW_PREFIX, "rj", s.id))))
    text.line(page_line(t, page))
    return text.reply(private=True, buttons=(*rows, *pager_buttons(t, REVIEW, page)))


def reject_usage(t: Translator, submission_id: int, reason_word: str) -> Reply:
    usage = f"/reject {submission_ref(submission_id)} {reason_word}…"
    text = Text().fmt(t.gettext("Why is {id} not accepted? Send the reason now, or send "
                                "{usage}. The member reads it."),
                      id=bold(submission_ref(submission_id)), usage=code(usage))
    text.line_fmt(t.gettext("Send {cancel} to stop."), cancel=code("/cancel"))
    return text.reply(ask=True)


def decided(t: Translator, decision: Decision, member_name: str | None) -> Reply:
    ref = bold(submission_ref(decision.submission.id))
    name = member_name or t.gettext("a member")
    if decision.state == "waiting":
        text = Text().fmt(t.gettext("{id}: approved by {count} of {needed}. Another organiser "
                                    "must approve it too before the points are credited."),
                          id=ref, count=t.number(decision.approvals),
                          needed=t.number(decision.needed))
        return text.reply()
    if decision.state == "rejected":
        text = Text().fmt(t.gettext("Rejected {id}. I'll tell {name} why."), id=ref, name=name)
        return text.reply()
    amount = decision.movement.entry.amount if decision.movement else decision.bounty.reward
    text = Text().fmt(t.gettext("Approved {id}: {name} received {points}."), id=ref, name=name,
                      points=bold(points_phrase(t, amount)))
    if decision.closed:
        text.line_fmt(t.gettext("Bounty {bounty} has all its winners now, so it is closed."),
                      bounty=bold(bounty_ref(decision.bounty.id)))
    return text.reply()


# -- notices ---------------------------------------------------------------------------------

def notice_approved(t: Translator, params: dict) -> Reply:
    text = Text().fmt(t.gettext("Your submission {submission} to {bounty} “{title}” was "
                                "approved: you received {points}!"),
                      submission=bold(params["submission"]), bounty=bold(params["bounty"]),
                      title=noticed(t, params, "title"),
                      points=bold(points_phrase(t, int(params["amount"]))))
    text.line_fmt(t.gettext("Your balance: {balance}"),
                  balance=points_phrase(t, int(params["balance"])))
    return text.reply(private=True)


def notice_rejected(t: Translator, params: dict) -> Reply:
    text = Text().fmt(t.gettext("Your submission {submission} to {bounty} “{title}” was not "
                                "accepted."),
                      submission=bold(params["submission"]), bounty=bold(params["bounty"]),
                      title=params.get("title", ""))
    if params.get("reason"):
        text.line_fmt(t.gettext("Reason: {reason}"), reason=italic(params["reason"]))
    text.line_fmt(t.gettext("Send {command} to see whether it takes another submission."),
                  command=code(f"/bounty {params['bounty']}"))
    return text.reply(private=True)


def notice_digest(t: Translator, params: dict) -> Reply:
    """The organisers' daily digest of submissions waiting too long, oldest first."""
    count, hours = int(params["count"]), int(params["hours"])
    text = Text().fmt(t.ngettext("{count} submission has waited for review for more than "
                                 "{hours} hours:",
                                 "{count} submissions have waited for review for more than "
                                 "{hours} hours:", count),
                      count=bold(t.number(count)), hours=t.number(hours))
    for submission, bounty, since in params.get("oldest", []):
        text.line_fmt(t.gettext("{submission} to {bounty}, waiting since {time}"),
                      submission=code(submission), bounty=bounty,
                      time=t.datetime(datetime.fromisoformat(since)))
    text.line_fmt(t.gettext("Send {command} to decide them."), command=code("/review"))
    return text.reply(private=True)


APPROVED = NoticeKind("bounty.approved", notice_approved)
DIGEST = NoticeKind("bounty.digest", notice_digest)
REJECTED = NoticeKind("bounty.rejected", notice_rejected)
