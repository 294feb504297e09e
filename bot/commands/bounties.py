"""Bounties: /newbounty /editbounty /closebounty /translate /bounties /bounty /submit
/mysubmissions /review /approve /reject, their buttons, and `campusbot export bounties`.

Handlers parse and render only; every rule (roles again, states, limits, the once-only credit)
lives in bot.services.bounties, which each button press reaches the same way as a command.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from bot import errors
from bot.actions import Action
from bot.commands.context import Ctx
from bot.commands.pages import own_member
from bot.commands.parse import convert
from bot.i18n import N_, NC_
from bot.ids import EntityId, IdKind, format_id
from bot.model import Role
from bot.reply import Reply
from bot.services import bounties as service
from bot.services.container import Services
from bot.spec import ExportOpt, Opt, Router, Table
from bot.views import bounties as views
from bot.views.dialogue import form_for
from bot.views.usage import placeholder

router = Router("bounties")
router.notice(views.APPROVED, views.REJECTED, views.DIGEST)
router.every(service.DIGEST_JOB, "daily",
             rule=lambda settings: f"daily {settings.bounties.review_digest_time}",
             timezone=lambda settings: settings.time.default_timezone)

ORG = Role.ORGANISER
PAGE_SIZE = 10
CLEAR = "-"  # /editbounty sponsor=- removes the sponsor (and so for description, deadline)
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")

_DEADLINE_HELP = N_("A time such as 2026-12-01 20:00 [zone], or a day such as 2026-12-01 "
                    "(the end of that day in your time zone)")
# The option a deadline that is a time is read by (bot.commands.parse's date-time reader).
_DEADLINE_TIME = Opt.when("deadline", _DEADLINE_HELP, label=N_("deadline"))


def _opts(editing: bool) -> tuple[Opt, ...]:
    """The bounty's fields as options: required title and reward when creating."""
    return (
        Opt.text("title", N_("A short title"), max_len=service.TITLE_MAX,
                 required=not editing, label=N_("title")),
        Opt.points("reward", N_("Points for each approved submission"), required=not editing,
                   label=NC_("bounty", "reward")),
        Opt.text("description", N_("What to make, and how it is judged") if not editing
                 else N_("What to make, and how it is judged (- removes it)"),
                 max_len=service.DESCRIPTION_MAX, required=False, label=N_("description")),
        Opt.text("sponsor", N_("The partner business behind it") if not editing
                 else N_("The partner business behind it (- removes it)"),
                 max_len=service.SPONSOR_MAX, required=False, label=N_("sponsor")),
        Opt.choice("track", N_("The kind of work"), service.TRACKS, required=False,
                   label=N_("track")),
        Opt.text("deadline", _DEADLINE_HELP if not editing
                 else N_("A time such as 2026-12-01 20:00 [zone], or a day such as 2026-12-01 "
                         "(the end of that day in your time zone); - removes it"),
                 max_len=64, required=False, label=N_("deadline")),
        Opt.integer("winners", N_("How many submissions can win") if not editing
                    else N_("How many submissions can win (0 removes the limit)"),
                    0 if editing else 1, service.WINNERS_MAX, required=False,
                    label=N_("winners")),
        Opt.choice("once", N_("One submission per member (default yes)"), ("yes", "no"),
                   required=False, label=N_("once")),
    )


def _deadline(ctx: Ctx, value: str, command: str) -> datetime:
    """A deadline as the organiser wrote it: a day ends at 23:59:59 in their time zone."""
    value = value.strip()
    try:
        if _DAY.match(value):
            try:
                return service.end_of_day(date.fromisoformat(value), ctx.t.tz)
            except ValueError:
                raise errors.UsageError(option="deadline", problem="bad_time",
                                        value=value[:40]) from None
        return convert(_DEADLINE_TIME, value, platform=ctx.inv.actor.platform, tz=ctx.t.tz,
                       now=ctx.now)
    except errors.UsageError as exc:
        exc.params.setdefault("command", command)
        raise


def _bounty_id(ident: EntityId) -> int:
    return ident.number


# -- organisers: bounties --------------------------------------------------------------------

@router.command("newbounty", N_("Post a bounty: members submit work for its reward."),
                *_opts(editing=False), role=ORG, dialogue=True)
async def newbounty(ctx: Ctx, title: str, reward: int, description: str | None,
                    sponsor: str | None, track: str | None, deadline: str | None,
                    winners: int | None, once: str | None) -> Reply:
    bounty = await ctx.services.bounties.create(
        ctx.caller.member_id, ctx.caller.role, title=title, reward=reward,
        description=description, sponsor=sponsor, track=track,
        deadline=_deadline(ctx, deadline, "newbounty") if deadline else None,
        winners=winners, once=once != "no")
    return views.created(ctx.t, bounty, ctx.services.settings.i18n.default_locale)


@router.command("editbounty", N_("Change a bounty's fields: field=value …"),
                Opt.ident("id", N_("The bounty"), kinds=(IdKind.BOUNTY,), label=N_("bounty")),
                *_opts(editing=True),
                Opt.choice("status", N_("draft, open or closed"), service.STATUSES,
                           required=False, label=N_("status")),
                role=ORG)
async def editbounty(ctx: Ctx, id: EntityId, title: str | None, reward: int | None,
                     description: str | None, sponsor: str | None, track: str | None,
                     deadline: str | None, winners: int | None, once: str | None,
                     status: str | None) -> Reply:
    changes: dict = {}
    for name, value in (("title", title), ("reward", reward), ("track", track),
                        ("status", status)):
        if value is not None:
            changes[name] = value
    if description is not None:
        changes["description"] = "" if description == CLEAR else description
    if sponsor is not None:
        changes["sponsor"] = None if sponsor == CLEAR else sponsor
    if deadline is not None:
        changes["deadline"] = None if deadline == CLEAR else _deadline(ctx, deadline,
                                                                       "editbounty")
    if winners is not None:
        changes["winners"] = winners or None
    if once is not None:
        changes["once"] = once == "yes"
    bounty = await ctx.services.bounties.edit(ctx.caller.member_id, ctx.caller.role,
                                              _bounty_id(id), changes)
    return views.edited(ctx.t, bounty, ctx.now)


@router.command("closebounty", N_("Close a bounty: it takes no more submissions."),
                Opt.ident("id", N_("The bounty"), kinds=(IdKind.BOUNTY,), label=N_("bounty")),
                role=ORG)
async def closebounty(ctx: Ctx, id: EntityId) -> Reply:
    bounty = await ctx.services.bounties.close(ctx.caller.member_id, ctx.caller.role,
                                               _bounty_id(id))
    return views.closed(ctx.t, bounty)


# Which texts each kind of object has, in the order they are saved.
TRANSLATABLE = {IdKind.BOUNTY: ("title", "description"), IdKind.REWARD: ("name", "description")}


class NotTranslatable(errors.DomainError):
    message = N_("{id} has no text called {field}: give its {choices}.")
    show_usage = True


class LocaleNotEnabled(errors.DomainError):
    message = N_("This bot does not speak “{value}”: give one of {choices}.")
    show_usage = True


class OriginalLocale(errors.DomainError):
    message = N_("The texts are written in {value} already: change the original instead.")
    show_usage = True


class NothingToTranslate(errors.DomainError):
    message = N_("Give at least one text to translate, such as title=\"…\".")
    show_usage = True


@router.command("translate", N_("Add a bounty's or a reward's text in another language."),
                Opt.ident("id", N_("The bounty or reward"), kinds=(IdKind.BOUNTY, IdKind.REWARD),
                          label=N_("id")),
                Opt.text("locale", N_("The language, such as zh_Hans"), max_len=20,
                         label=N_("language")),
                Opt.text("title", N_("A bounty's title"), max_len=service.TITLE_MAX,
                         required=False, label=N_("title")),
                Opt.text("name", N_("A reward's name"), max_len=service.TITLE_MAX,
                         required=False, label=N_("name")),
                Opt.text("description", N_("The description"),
                         max_len=service.DESCRIPTION_MAX, required=False,
                         label=N_("description")),
                role=ORG)
async def translate(ctx: Ctx, id: EntityId, locale: str, title: str | None, name: str | None,
                    description: str | None) -> Reply:
    i18n = ctx.services.settings.i18n
    chosen = _enabled_locale(locale, i18n.locales)
    others = [code for code in i18n.locales if code != i18n.default_locale]
    if chosen is None:
        raise LocaleNotEnabled(value=locale[:20], choices=others, command="translate")
    if chosen == i18n.default_locale:
        raise OriginalLocale(value=chosen, command="translate")
    given = {k: v for k, v in (("title", title), ("name", name),
                               ("description", description)) if v is not None}
    if not given:
        raise NothingToTranslate(command="translate")
    allowed = TRANSLATABLE[id.kind]
    for field in given:
        if field not in allowed:
            raise NotTranslatable(id=str(id), field=field, choices=allowed, command="translate")
    if id.kind == IdKind.BOUNTY:
        kind = service.TRANSLATION_KIND
    else:
        # Rewards belong to the mall (bot.services.mall), which looks them up.
        mall = getattr(ctx.services, "mall", None)
        if mall is None:
            raise errors.NotFound(what="reward")
        await mall.reward(id.number)  # its own "there is no reward R3" when it is unknown
        kind = "reward"  # bot.services.mall.REWARD_KIND
    await ctx.services.bounties.translate(ctx.caller.member_id, ctx.caller.role, kind,
                                          id.number, str(id), chosen, given)
    return views.translated(ctx.t, str(id), chosen, list(given))


def _enabled_locale(text: str, enabled: tuple[str, ...]) -> str | None:
    wanted = text.strip().replace("-", "_").lower()
    return next((code for code in enabled if code.lower() == wanted), None)


# -- members ---------------------------------------------------------------------------------

@router.command("bounties", N_("Open bounties, newest first."),
                Opt.choice("track", N_("Only this kind of work"), service.TRACKS,
                           required=False, label=N_("track")),
                Opt.text("sponsor", N_("Only this sponsor's"), max_len=service.SPONSOR_MAX,
                         required=False, rest=True, label=N_("sponsor")))
async def bounties(ctx: Ctx, track: str | None, sponsor: str | None) -> Reply:
    filters = {k: v for k, v in (("track", track), ("sponsor", sponsor)) if v}
    return await bounty_pages(ctx, 1, filters)


@router.pager(views.BOUNTIES)
async def bounty_pages(ctx: Ctx, page: int, filters: dict[str, str]) -> Reply:
    track, sponsor = filters.get("track"), filters.get("sponsor")
    if track is not None and track not in service.TRACKS:
        raise errors.StaleAction()
    listed = await ctx.services.bounties.open_page(track, sponsor, page, PAGE_SIZE)
    texts = await ctx.services.bounties.texts([b.id for b in listed.items], ctx.t.locale)
    token = await ctx.services.pages.token_for(filters)
    return views.bounty_list(ctx.t, listed, texts, token,
                             ctx.services.settings.i18n.default_locale, track, sponsor)


@router.command("bounty", N_("A bounty's details."),
                Opt.ident("id", N_("The bounty"), kinds=(IdKind.BOUNTY,), label=N_("bounty")))
async def bounty(ctx: Ctx, id: EntityId) -> Reply:
    return await _details(ctx, _bounty_id(id))


async def _details(ctx: Ctx, bounty_id: int) -> Reply:
    found = await ctx.services.bounties.get(bounty_id)
    if found.status == "draft" and not ctx.is_organiser:
        raise service.UnknownBounty(id=format_id(IdKind.BOUNTY, bounty_id))
    texts = await ctx.services.bounties.texts([found.id], ctx.t.locale)
    return views.bounty_details(ctx.t, found, texts, ctx.now,
                                ctx.services.settings.i18n.default_locale)


@router.command("submit", N_("Submit a link to your work for a bounty."),
                Opt.ident("id", N_("The bounty"), kinds=(IdKind.BOUNTY,), label=N_("bounty")),
                Opt.text("link", N_("An http(s) link to your work"), max_len=service.LINK_MAX,
                         label=N_("link")),
                Opt.text("note", N_("A note for the organisers"), max_len=service.NOTE_MAX,
                         required=False, rest=True, label=N_("note")),
                dialogue=True)
async def submit(ctx: Ctx, id: EntityId, link: str, note: str | None) -> Reply:
    if note is None and len(link.split(None, 1)) == 2:
        link, note = link.split(None, 1)  # a dialogue's answer: the link, then a note
    submission, found = await ctx.services.bounties.submit(
        ctx.caller.member_id, _bounty_id(id), link, note, str(ctx.inv.actor.platform))
    return views.submitted(ctx.t, submission, found)


@router.button(views.PREFIX)
async def bounty_button(ctx: Ctx, action: Action) -> Reply:
    """Submit: the member's next message is the link (the dialogue of /submit), or they send
    the whole command; whatever they send is checked by /submit again."""
    if action.verb != "sub" or len(action.args) != 1:
        raise errors.StaleAction()
    bounty_id = action.int_arg(0)
    try:
        found = await ctx.services.bounties.get(bounty_id)
    except service.UnknownBounty:
        raise errors.StaleAction() from None
    if found.status == "draft" and not ctx.is_organiser:
        raise errors.StaleAction()
    return _asking(ctx, "submit", {"id": format_id(IdKind.BOUNTY, bounty_id)}, "link",
                   views.submit_usage(ctx.t, bounty_id, *_words(ctx, "submit", "link", "note")))


@router.command("mysubmissions", N_("Your bounty submissions and their state."), private=True)
async def mysubmissions(ctx: Ctx) -> Reply:
    return await mine_pages(ctx, 1, {"member": str(ctx.caller.member_id)})


@router.pager(views.MINE)
async def mine_pages(ctx: Ctx, page: int, filters: dict[str, str]) -> Reply:
    """Whose submissions rides in the token, and is checked again: one's own only."""
    member_id = own_member(ctx, filters)
    listed = await ctx.services.bounties.member_page(member_id, page, PAGE_SIZE)
    token = await ctx.services.pages.token_for(filters)
    return views.my_submissions(ctx.t, listed, token)


# -- organisers: review ----------------------------------------------------------------------

@router.command("review", N_("Submissions waiting for review, oldest first."), role=ORG,
                private=True)
async def review(ctx: Ctx) -> Reply:
    return await review_pages(ctx, 1, {})


@router.pager(views.REVIEW, role=ORG)
async def review_pages(ctx: Ctx, page: int, filters: dict[str, str]) -> Reply:
    if not ctx.is_organiser:
        raise errors.PermissionDenied(role=ORG.code, command="review")
    listed, approvals = await ctx.services.bounties.review_page(page, PAGE_SIZE)
    needed = {}
    for entry in listed.items:
        reward = await _reward_of(ctx, entry.submission.bounty_id)
        needed[entry.submission.id] = ctx.services.bounties.approvals_needed(reward)
    return views.review(ctx.t, listed, approvals, ctx.now, needed)


async def _reward_of(ctx: Ctx, bounty_id: int) -> int:
    return (await ctx.services.bounties.get(bounty_id)).reward


@router.command("approve", N_("Approve a submission: its member receives the reward."),
                Opt.ident("id", N_("The submission"), kinds=(IdKind.SUBMISSION,),
                          label=N_("submission")),
                role=ORG)
async def approve(ctx: Ctx, id: EntityId) -> Reply:
    return await _approve(ctx, id.number)


async def _approve(ctx: Ctx, submission_id: int) -> Reply:
    decision = await ctx.services.bounties.approve(ctx.caller.member_id, ctx.caller.role,
                                                   submission_id, notice=views.APPROVED)
    member = await ctx.services.members.get(decision.submission.member_id)
    return views.decided(ctx.t, decision, member.display_name)


@router.command("reject", N_("Reject a submission, telling its member why."),
                Opt.ident("id", N_("The submission"), kinds=(IdKind.SUBMISSION,),
                          label=N_("submission")),
                Opt.text("reason", N_("Why it is not accepted (the member reads it)"),
                         max_len=service.REASON_MAX, rest=True, label=N_("reason")),
                role=ORG, dialogue=True)
async def reject(ctx: Ctx, id: EntityId, reason: str) -> Reply:
    decision = await ctx.services.bounties.reject(ctx.caller.member_id, ctx.caller.role,
                                                  id.number, reason, notice=views.REJECTED)
    member = await ctx.services.members.get(decision.submission.member_id)
    return views.decided(ctx.t, decision, member.display_name)


@router.button(views.REVIEW_PREFIX, role=ORG)
async def review_button(ctx: Ctx, action: Action) -> Reply:
    """Approve or Reject from /review. The payload names a submission, never a right: the
    service checks the presser's role and the submission's state again."""
    if action.verb not in ("ap", "rj") or len(action.args) != 1:
        raise errors.StaleAction()
    submission_id = action.int_arg(0)
    if submission_id < 1:
        raise errors.StaleAction()
    try:
        if action.verb == "ap":
            return await _approve(ctx, submission_id)
        await ctx.services.bounties.check_pending(ctx.caller.role, submission_id, "reject")
    except service.UnknownSubmission:
        raise errors.StaleAction() from None
    reason, = _words(ctx, "reject", "reason")
    return _asking(ctx, "reject", {"id": format_id(IdKind.SUBMISSION, submission_id)}, "reason",
                   views.reject_usage(ctx.t, submission_id, reason.removesuffix("…")))


def _words(ctx: Ctx, command: str, *options: str) -> list[str]:
    spec = ctx.registry.get(command)
    return [placeholder(spec.option(name), ctx.t) for name in options]


def _asking(ctx: Ctx, command: str, fixed: dict[str, str], first: str, question: Reply) -> Reply:
    """A button that needs text: text platforms answer the question (the dialogue of
    `command`, so the answer is checked as if typed); Discord opens the Form as a modal."""
    ctx.services.dialogues.start(ctx.inv, command, fixed, first)
    return question.with_(form=form_for(ctx.t, ctx.registry.get(command), fixed))


# -- scheduled jobs -------------------------------------------------------------------------

@router.job(service.CLOSE_JOB, N_("a bounty's deadline"))
async def close_at_deadline(services: Services, conn, job) -> None:
    await services.bounties.close_at_deadline(conn, int(job.params["bounty"]))


@router.job(service.DIGEST_JOB, N_("the daily digest of submissions waiting for review"))
async def review_digest(services: Services, conn, job) -> None:
    """Once a day; keyed by the occurrence, so a crash and a second run send it once."""
    organisers = await services.scheduler.organisers(conn)
    await services.bounties.digest_in(conn, organisers,
                                      services.settings.bounties.review_digest_hours,
                                      views.DIGEST, job.due_at.isoformat())


# -- export ----------------------------------------------------------------------------------

@router.export("bounties", "one row per bounty submission, oldest first",
               ExportOpt.text("sponsor", "only the bounties of this sponsor"),
               ExportOpt.day("since", "only submissions from this day on (UTC)"))
async def export_bounties(services: Services, sponsor: str | None,
                          since: date | None) -> Table:
    return await services.bounties.export_rows(sponsor, since)
