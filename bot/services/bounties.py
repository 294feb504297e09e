"""Bounties: organisers post tasks with a points reward, members submit links to their work,
organisers review them, and an approval credits the reward once.

Every state change is one write transaction that re-reads (and on PostgreSQL locks) the rows it
changes and checks the actor's role and the object's state again, whatever asked for it (a
command, a button, a replayed update). The reward's ledger entry has the key `bounty:S<id>`,
and the submission leaves `pending` only under `WHERE state = 'pending'`, so however many
organisers approve at once the member is credited exactly once. A bounty past its deadline
reads as closed everywhere (`effective_status`); nothing needs to run at the deadline.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy.ext.asyncio import AsyncConnection

from bot import errors
from bot.errors import DomainError, Plural
from bot.i18n import N_
from bot.ids import IdKind, format_id
from bot.model import MAX_POINTS, Role
from bot.scheduler import Scheduler
from bot.services.audit import Audit
from bot.services.ledger import LedgerService, Movement
from bot.services.notices import Notifier
from bot.services.translations import Texts, Translations
from bot.spec import NoticeKind, Table
from bot.storage import bounties as repo
from bot.storage import members as member_repo
from bot.storage.bounties import BountyRow, SubmissionItem, SubmissionRow
from bot.storage.db import Database

TRACKS = ("graphic", "video", "music", "text", "other")
STATUSES = ("draft", "open", "closed")
TITLE_MAX = 120
DESCRIPTION_MAX = 2_000
NOTE_MAX = 500
SPONSOR_MAX = 120
REASON_MAX = 500
LINK_MAX = 2_000
WINNERS_MAX = 100_000
KEY_MAX = 255  # submissions.link_key
CLOSE_JOB = "bounty.close"  # the scheduler's job kind that closes a bounty at its deadline
DIGEST_JOB = "bounty.digest"  # the daily digest of long-waiting submissions
DIGEST_SHOWN = 10  # the oldest submissions a digest lists by id
TRANSLATION_KIND = "bounty"  # the translations table's `kind` of a bounty's texts
EDITABLE = ("title", "description", "sponsor", "track", "reward", "deadline", "winners",
            "once", "status")

# Query parameters that only say where a link was shared from, not what it points at.
_TRACKING = re.compile(r"^(utm_.*|fbclid|gclid|si|igshid)$", re.IGNORECASE)


# -- errors ----------------------------------------------------------------------------------

class UnknownBounty(DomainError):
    message = N_("There is no bounty {id}. Send /bounties to see the open ones.")


class UnknownSubmission(DomainError):
    message = N_("There is no submission {id}.")


class BountyDraft(DomainError):
    message = N_("Bounty {id} is not open for submissions yet. Send /bounties to see the open "
                 "ones.")


class BountyClosed(DomainError):
    message = N_("Bounty {id} is closed and takes no more submissions. Send /bounties to see "
                 "the open ones.")


class BountyExpired(DomainError):
    message = N_("The deadline of bounty {id} has passed, so it takes no more submissions. "
                 "Send /bounties to see the open ones.")


class BountyFull(DomainError):
    message = Plural(
        "Bounty {id} already has its {winners} winner, so it takes no more submissions. Send "
        "/bounties to see the open ones.",
        "Bounty {id} already has all its {winners} winners, so it takes no more submissions. "
        "Send /bounties to see the open ones.",
        "winners")


class LinkTaken(DomainError):
    message = N_("That link was already submitted to bounty {id}. Submit the link of a "
                 "different piece of work instead.")
    log_level = logging.INFO


class OncePerMember(DomainError):
    message = N_("You already have a submission to bounty {id}, and it takes one per member. "
                 "Send /mysubmissions to see how it is doing.")


class BadLink(DomainError):
    message = N_("The link must be a web address starting with http:// or https:// (you wrote "
                 "“{value}”).")
    show_usage = True


class DeadlinePassed(DomainError):
    message = N_("That deadline has already passed: give a time or day still to come.")
    show_usage = True


class NothingToChange(DomainError):
    message = N_("Give at least one field to change, such as title=\"…\" or status=closed.")
    show_usage = True


class AlreadyDecided(DomainError):
    message = N_("Submission {id} was already decided.")

    def template(self) -> str:
        if self.params.get("state") == "approved":
            return N_("Submission {id} is already approved.")
        return N_("Submission {id} was already rejected.")


class AlreadyApprovedByYou(DomainError):
    message = N_("You already approved submission {id}. It needs the approval of a second, "
                 "different organiser.")
    log_level = logging.INFO


class WinnersReached(DomainError):
    message = N_("Bounty {bounty} already has all its winners, so submission {id} can't be "
                 "approved. Reject it, or raise the limit with /editbounty {bounty} winners=….")


class AlreadyWon(DomainError):
    message = N_("That member already has an approved submission to bounty {bounty}, which "
                 "takes one per member. Reject submission {id} instead.")


# -- values ----------------------------------------------------------------------------------

def link_key(link: str) -> str:
    """The link as it is compared: scheme and host lower-cased, default port, fragment,
    trailing slash and tracking parameters (utm_*, fbclid, gclid, si, igshid) dropped.
    Longer than the column holds, it is its hash."""
    parts = urlsplit(link.strip())
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    port = parts.port
    if port and (scheme, port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{port}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                       if not _TRACKING.match(k)])
    path = parts.path.rstrip("/")
    key = urlunsplit((scheme, host, path, query, ""))
    if len(key) > KEY_MAX:
        key = "sha256:" + hashlib.sha256(key.encode()).hexdigest()
    return key


def check_link(link: str) -> str:
    """The link as given, if it is an http(s) address with a host; else BadLink."""
    link = link.strip()
    try:
        parts = urlsplit(link)
        ok = (parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
              and len(link) <= LINK_MAX and not any(ch.isspace() for ch in link))
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        ok = False
    if not ok:
        raise BadLink(value=link[:60], command="submit")
    return link


def end_of_day(day: date, tz: tzinfo) -> datetime:
    """A date deadline: the last second of that day in the organiser's zone, in UTC."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=tz).astimezone(UTC)


def effective_status(bounty: BountyRow, now: datetime) -> str:
    """`open` bounties read as `closed` once past their deadline or winner limit."""
    if bounty.status == "open" and closed_by(bounty, now) is not None:
        return "closed"
    return bounty.status


def closed_by(bounty: BountyRow, now: datetime) -> str | None:
    """Why an open bounty takes no more submissions: "deadline", "winners", or None."""
    if bounty.deadline is not None and now > bounty.deadline:
        return "deadline"
    if bounty.winners is not None and bounty.approved >= bounty.winners:
        return "winners"
    return None


def bounty_ref(bounty_id: int) -> str:
    return format_id(IdKind.BOUNTY, bounty_id)


def submission_ref(submission_id: int) -> str:
    return format_id(IdKind.SUBMISSION, submission_id)


@dataclass(frozen=True)
class Decision:
    """What an approval or rejection did. `state`: "approved", "rejected", or "waiting" (an
    approval recorded that still needs another organiser's)."""

    submission: SubmissionRow
    bounty: BountyRow
    state: str
    approvals: int = 0
    needed: int = 1
    movement: Movement | None = None
    closed: bool = False  # the bounty reached its winner limit and closed itself


@dataclass(frozen=True)
class Listed:
    """One page of a list, for bot.views.pager.Page."""

    items: list[Any]
    number: int
    pages: int
    total: int


class BountyService:
    def __init__(self, db: Database, clock: Callable[[], datetime], ledger: LedgerService,
                 notifier: Notifier, audit: Audit, translations: Translations,
                 double_approval_above: int = 0, scheduler: Scheduler | None = None):
        self.db = db
        self.scheduler = scheduler
        self.clock = clock
        self.ledger = ledger
        self.notifier = notifier
        self.audit = audit
        self.translations = translations
        self.double_approval_above = double_approval_above

    # -- organisers: bounties ------------------------------------------------------------

    async def create(self, actor: int, actor_role: Role, *, title: str, reward: int,
                     description: str | None = None, sponsor: str | None = None,
                     track: str | None = None, deadline: datetime | None = None,
                     winners: int | None = None, once: bool = True,
                     status: str = "open") -> BountyRow:
        _organiser(actor_role, "newbounty")
        now = self.clock()
        values = _checked(title=title, reward=reward, description=description or "",
                          sponsor=sponsor, track=track or "other", deadline=deadline,
                          winners=winners, once=once, status=status)
        if deadline is not None and deadline < now:
            raise DeadlinePassed(command="newbounty")
        async with self.db.write() as conn:
            bounty_id = await repo.insert_bounty(conn, **values, created_by=actor,
                                                 created_at=now,
                                                 closed_at=now if status == "closed" else None)
            await self.audit.record(conn, actor_member_id=actor, action="bounty.create",
                                    target_ref=bounty_ref(bounty_id), **_jsonable(values))
            return await self._deadline_job(conn, bounty_id)

    async def edit(self, actor: int, actor_role: Role, bounty_id: int,
                   changes: dict[str, Any]) -> BountyRow:
        """Change some fields (`EDITABLE`); None for sponsor, deadline or winners removes
        them."""
        _organiser(actor_role, "editbounty")
        if not changes:
            raise NothingToChange(command="editbounty")
        unknown = set(changes) - set(EDITABLE)
        if unknown:
            raise ValueError(f"not editable: {sorted(unknown)}")
        now = self.clock()
        async with self.db.write() as conn:
            before = await repo.get_bounty(conn, bounty_id, lock=True)
            if before is None:
                raise UnknownBounty(id=bounty_ref(bounty_id))
            merged = {name: getattr(before, name) for name in EDITABLE} | changes
            _checked(**merged)
            values = dict(changes)
            if "status" in changes and changes["status"] != before.status:
                values["closed_at"] = now if changes["status"] == "closed" else None
            await repo.update_bounty(conn, bounty_id, **values)
            await self.audit.record(
                conn, actor_member_id=actor, action="bounty.edit",
                target_ref=bounty_ref(bounty_id),
                old=_jsonable({k: getattr(before, k) for k in changes}), new=_jsonable(changes))
            return await self._deadline_job(conn, bounty_id)

    async def close(self, actor: int, actor_role: Role, bounty_id: int) -> BountyRow:
        _organiser(actor_role, "closebounty")
        now = self.clock()
        async with self.db.write() as conn:
            before = await repo.get_bounty(conn, bounty_id, lock=True)
            if before is None:
                raise UnknownBounty(id=bounty_ref(bounty_id))
            if before.status != "closed":
                await repo.update_bounty(conn, bounty_id, status="closed", closed_at=now)
            await self.audit.record(conn, actor_member_id=actor, action="bounty.close",
                                    target_ref=bounty_ref(bounty_id), old=before.status)
            return await self._deadline_job(conn, bounty_id)

    async def _deadline_job(self, conn: AsyncConnection, bounty_id: int) -> BountyRow:
        """The bounty as it now is, with its closing job following it: due at the deadline
        of a bounty that is not closed, cancelled otherwise (a moved deadline moves it)."""
        bounty = await repo.get_bounty(conn, bounty_id)
        if self.scheduler is not None:
            ref = bounty_ref(bounty_id)
            if bounty.deadline is not None and bounty.status != "closed":
                await self.scheduler.schedule_in(conn, CLOSE_JOB, ref, bounty.deadline,
                                                 params={"bounty": bounty_id})
            else:
                await self.scheduler.cancel_in(conn, CLOSE_JOB, ref)
        return bounty

    async def close_at_deadline(self, conn: AsyncConnection, bounty_id: int) -> bool:
        """The closing job: a bounty still taking submissions when its deadline came is
        closed (it already reads as closed everywhere; now its row says so too)."""
        bounty = await repo.get_bounty(conn, bounty_id, lock=True)
        if bounty is None or bounty.status == "closed" or bounty.deadline is None:
            return False
        if bounty.deadline > self.clock():
            return False  # moved later since: its own job will come
        await repo.update_bounty(conn, bounty.id, status="closed", closed_at=bounty.deadline)
        return True

    async def digest_in(self, conn: AsyncConnection, organisers: list[int], hours: int,
                        notice: NoticeKind, occurrence: str) -> int:
        """The daily digest: each organiser is told of the submissions that have waited longer
        than `hours` (nothing is sent when none have). Returns how many waited."""
        now = self.clock()
        total, oldest = await repo.waiting_since(conn, now - timedelta(hours=hours),
                                                 DIGEST_SHOWN)
        if not total:
            return 0
        params = {"count": total, "hours": hours,
                  "oldest": [[submission_ref(i.submission.id), bounty_ref(i.submission.bounty_id),
                              i.submission.created_at.isoformat()] for i in oldest]}
        for member_id in organisers:
            await self.notifier.to_member(conn, member_id, notice, params, now=now,
                                          dedupe_key=f"bounty:digest:{occurrence}:{member_id}")
        return total

    async def translate(self, actor: int, actor_role: Role, kind: str, object_id: int,
                        ref: str, locale: str, fields: dict[str, str]) -> None:
        """Write translations with their audit record, in one transaction. A bounty is
        checked here; another kind's object is checked by its owner first (the mall's
        reward)."""
        _organiser(actor_role, "translate")
        async with self.db.write() as conn:
            if kind == TRANSLATION_KIND and await repo.get_bounty(conn, object_id) is None:
                raise UnknownBounty(id=ref)
            await self.translations.set_in(conn, kind, object_id, locale, fields)
            await self.audit.record(conn, actor_member_id=actor, action=f"{kind}.translate",
                                    target_ref=ref, locale=locale, fields=sorted(fields))

    # -- members: reading and submitting -------------------------------------------------

    async def get(self, bounty_id: int) -> BountyRow:
        async with self.db.read() as conn:
            bounty = await repo.get_bounty(conn, bounty_id)
        if bounty is None:
            raise UnknownBounty(id=bounty_ref(bounty_id))
        return bounty

    async def texts(self, bounty_ids: list[int], locale: str) -> Texts:
        return await self.translations.for_reader(TRANSLATION_KIND, bounty_ids, locale)

    async def open_page(self, track: str | None, sponsor: str | None, page: int,
                        size: int) -> Listed:
        now = self.clock()
        async with self.db.scan() as conn:
            total = await repo.count_open(conn, now, track, sponsor)
            number, pages = _clamp(page, total, size)
            items = await repo.open_page(conn, now, track, sponsor, (number - 1) * size, size)
        return Listed(items, number, pages, total)

    async def submit(self, member_id: int, bounty_id: int, link: str, note: str | None,
                     platform: str | None) -> tuple[SubmissionRow, BountyRow]:
        link = check_link(link)
        if note is not None and len(note) > NOTE_MAX:
            raise errors.UsageError(option="note", problem="too_long", max=NOTE_MAX,
                                    command="submit")
        key = link_key(link)
        now = self.clock()
        async with self.db.write() as conn:
            bounty = await repo.get_bounty(conn, bounty_id)
            if bounty is None:
                raise UnknownBounty(id=bounty_ref(bounty_id))
            _check_takes_submissions(bounty, now)
            if bounty.once:
                # One member's two submissions at once wait for each other here (PostgreSQL).
                await member_repo.lock_member(conn, member_id)
                if await repo.has_live_submission(conn, bounty_id, member_id):
                    raise OncePerMember(id=bounty_ref(bounty_id))
            submission_id = await repo.insert_submission(
                conn, bounty_id=bounty_id, member_id=member_id, link=link, link_key=key,
                note=note or None, state="pending", platform=platform, created_at=now)
            if submission_id is None:
                raise LinkTaken(id=bounty_ref(bounty_id))
            return await repo.get_submission(conn, submission_id), bounty

    async def get_submission(self, submission_id: int) -> SubmissionRow:
        async with self.db.read() as conn:
            found = await repo.get_submission(conn, submission_id)
        if found is None:
            raise UnknownSubmission(id=submission_ref(submission_id))
        return found

    async def member_page(self, member_id: int, page: int, size: int) -> Listed:
        async with self.db.scan() as conn:
            total = await repo.count_member(conn, member_id)
            number, pages = _clamp(page, total, size)
            items = await repo.member_page(conn, member_id, (number - 1) * size, size)
        return Listed(items, number, pages, total)

    # -- organisers: review --------------------------------------------------------------

    def approvals_needed(self, reward: int) -> int:
        limit = self.double_approval_above
        return 2 if limit > 0 and reward > limit else 1

    async def review_page(self, page: int, size: int) -> tuple[Listed, dict[int, int]]:
        """Pending submissions, oldest first, and how many approvals each has."""
        async with self.db.scan() as conn:
            total = await repo.count_pending(conn)
            number, pages = _clamp(page, total, size)
            items: list[SubmissionItem] = await repo.pending_page(conn, (number - 1) * size,
                                                                  size)
            counts = {item.submission.id: len(await repo.approvers(conn, item.submission.id))
                      for item in items}
        return Listed(items, number, pages, total), counts

    async def bounty_of(self, submission: SubmissionRow) -> BountyRow:
        return await self.get(submission.bounty_id)

    async def check_pending(self, actor_role: Role, submission_id: int,
                            command: str) -> SubmissionRow:
        """A submission an organiser may decide now (before asking them for a reason)."""
        _organiser(actor_role, command)
        submission = await self.get_submission(submission_id)
        if submission.state != "pending":
            raise AlreadyDecided(id=submission_ref(submission_id), state=submission.state)
        return submission

    async def approve(self, actor: int, actor_role: Role, submission_id: int, *,
                      notice: NoticeKind | None = None) -> Decision:
        """Record `actor`'s approval; once enough organisers approved, mark the submission
        approved, credit the reward (key `bounty:S<id>`), count the winner (closing a bounty
        that reached its limit) and queue the member's `notice` where they submitted from —
        all in this transaction."""
        _organiser(actor_role, "approve")
        ref = submission_ref(submission_id)
        now = self.clock()
        async with self.db.write() as conn:
            submission = await self._pending(conn, submission_id)
            bounty = await repo.get_bounty(conn, submission.bounty_id, lock=True)
            await self._check_winnable(conn, bounty, submission)
            needed = self.approvals_needed(bounty.reward)
            if not await repo.add_approval(conn, submission.id, actor, now):
                raise AlreadyApprovedByYou(id=ref)
            count = len(await repo.approvers(conn, submission.id))
            if count < needed:
                await self.audit.record(conn, actor_member_id=actor, action="bounty.approve",
                                        target_member_id=submission.member_id, target_ref=ref,
                                        bounty=bounty_ref(bounty.id), approvals=count,
                                        needed=needed, credited=False)
                return Decision(submission, bounty, "waiting", count, needed)
            return await self._award(conn, actor, submission, bounty, count, needed, now,
                                     notice)

    async def _pending(self, conn: AsyncConnection, submission_id: int) -> SubmissionRow:
        """The submission, locked, if it still waits for a decision."""
        ref = submission_ref(submission_id)
        submission = await repo.get_submission(conn, submission_id, lock=True)
        if submission is None:
            raise UnknownSubmission(id=ref)
        if submission.state != "pending":
            raise AlreadyDecided(id=ref, state=submission.state)
        return submission

    @staticmethod
    async def _check_winnable(conn: AsyncConnection, bounty: BountyRow,
                              submission: SubmissionRow) -> None:
        ref, b_ref = submission_ref(submission.id), bounty_ref(bounty.id)
        if bounty.winners is not None and bounty.approved >= bounty.winners:
            raise WinnersReached(id=ref, bounty=b_ref)
        if bounty.once and await repo.has_live_submission(
                conn, bounty.id, submission.member_id, states=("approved",),
                other_than=submission.id):
            raise AlreadyWon(id=ref, bounty=b_ref)

    async def _award(self, conn: AsyncConnection, actor: int, submission: SubmissionRow,
                     bounty: BountyRow, count: int, needed: int, now: datetime,
                     notice: NoticeKind | None) -> Decision:
        """The approval that decides: credit once, count the winner, tell the member."""
        ref, b_ref = submission_ref(submission.id), bounty_ref(bounty.id)
        await repo.decide(conn, submission.id, state="approved", reviewer=actor, now=now,
                          points=bounty.reward)  # pending under our lock: it changes
        movement = await self.ledger.credit_in(
            conn, submission.member_id, bounty.reward, kind="bounty",
            reason=f"{b_ref} {bounty.title}"[:200], key=f"bounty:{ref}",
            actor_member_id=actor, ref=ref, platform=submission.platform)
        approved = await repo.count_approved(conn, bounty.id)
        closed = (bounty.status == "open" and bounty.winners is not None
                  and approved >= bounty.winners)
        if closed:
            await repo.update_bounty(conn, bounty.id, status="closed", closed_at=now)
            await self._deadline_job(conn, bounty.id)  # its closing job is no longer due
        await self._tell(conn, submission, bounty, notice, now,
                         amount=bounty.reward, balance=movement.balance)
        await self.audit.record(conn, actor_member_id=actor, action="bounty.approve",
                                target_member_id=submission.member_id, target_ref=ref,
                                bounty=b_ref, approvals=count, needed=needed,
                                credited=bounty.reward, entry=movement.entry.id,
                                closed_bounty=closed)
        return Decision(await repo.get_submission(conn, submission.id),
                        await repo.get_bounty(conn, bounty.id), "approved", count, needed,
                        movement, closed)

    async def _tell(self, conn: AsyncConnection, submission: SubmissionRow, bounty: BountyRow,
                    notice: NoticeKind | None, now: datetime, **params) -> None:
        """The decision's notice, once per submission, to the platform it was submitted from;
        it carries the bounty's title in every language it has, for the reader's."""
        if notice is None:
            return
        titles = await self.translations.every_locale_in(conn, TRANSLATION_KIND, bounty.id,
                                                         "title")
        await self.notifier.to_member(
            conn, submission.member_id, notice,
            {"submission": submission_ref(submission.id), "bounty": bounty_ref(bounty.id),
             "title": bounty.title, "titles": titles, **params},
            dedupe_key=f"bounty:{submission_ref(submission.id)}:decision", now=now,
            platform=submission.platform)

    async def reject(self, actor: int, actor_role: Role, submission_id: int,
                     reason: str, *, notice: NoticeKind | None = None) -> Decision:
        _organiser(actor_role, "reject")
        reason = reason.strip()
        if not reason:
            raise errors.UsageError(option="reason", problem="missing", command="reject")
        if len(reason) > REASON_MAX:
            raise errors.UsageError(option="reason", problem="too_long", max=REASON_MAX,
                                    command="reject")
        now = self.clock()
        async with self.db.write() as conn:
            submission = await self._pending(conn, submission_id)
            await repo.decide(conn, submission.id, state="rejected", reviewer=actor, now=now,
                              reason=reason)
            bounty = await repo.get_bounty(conn, submission.bounty_id)
            await self._tell(conn, submission, bounty, notice, now, reason=reason)
            await self.audit.record(conn, actor_member_id=actor, action="bounty.reject",
                                    target_member_id=submission.member_id,
                                    target_ref=submission_ref(submission.id),
                                    bounty=bounty_ref(bounty.id), reason=reason)
            return Decision(await repo.get_submission(conn, submission.id), bounty, "rejected")

    # -- export --------------------------------------------------------------------------

    async def export_rows(self, sponsor: str | None = None,
                          since: date | None = None) -> Table:
        """One row per submission (of one sponsor's bounties; from the start of `since`,
        UTC), oldest first."""
        start = datetime.combine(since, time.min, UTC) if since else None
        async with self.db.scan() as conn:
            rows = await repo.export(conn, sponsor, start)
        header = ["bounty_id", "bounty_title", "sponsor", "track", "submission_id",
                  "member_id", "member", "link", "note", "state", "reviewers", "points",
                  "reason", "submitted_at", "decided_at"]
        return Table(header, [
            [bounty_ref(r.bounty.id), r.bounty.title, r.bounty.sponsor or "", r.bounty.track,
             submission_ref(r.submission.id), r.submission.member_id, r.member_name or "",
             r.submission.link, r.submission.note or "", r.submission.state,
             "; ".join(r.reviewers), r.submission.points or 0, r.submission.reason or "",
             r.submission.created_at.isoformat(),
             r.submission.decided_at.isoformat() if r.submission.decided_at else ""]
            for r in rows])


def _organiser(role: Role, command: str) -> None:
    if role < Role.ORGANISER:
        raise errors.PermissionDenied(role=Role.ORGANISER.code, command=command)


def _check_takes_submissions(bounty: BountyRow, now: datetime) -> None:
    ref = bounty_ref(bounty.id)
    if bounty.status == "draft":
        raise BountyDraft(id=ref)
    if bounty.status == "closed":
        raise BountyClosed(id=ref)
    why = closed_by(bounty, now)
    if why == "deadline":
        raise BountyExpired(id=ref)
    if why == "winners":
        raise BountyFull(id=ref, winners=bounty.winners)


def _checked(*, title: str, reward: int, description: str, sponsor: str | None, track: str,
             deadline: datetime | None, winners: int | None, once: bool,
             status: str) -> dict[str, Any]:
    """The fields, checked against the contract's limits (the options check them first; this
    guards the service's other callers)."""
    if not title.strip() or len(title) > TITLE_MAX:
        raise errors.UsageError(option="title", problem="too_long", max=TITLE_MAX)
    if len(description) > DESCRIPTION_MAX:
        raise errors.UsageError(option="description", problem="too_long", max=DESCRIPTION_MAX)
    if sponsor is not None and len(sponsor) > SPONSOR_MAX:
        raise errors.UsageError(option="sponsor", problem="too_long", max=SPONSOR_MAX)
    if not 1 <= reward <= MAX_POINTS:
        raise errors.UsageError(option="reward", problem="out_of_range", min=1, max=MAX_POINTS)
    if winners is not None and not 1 <= winners <= WINNERS_MAX:
        raise errors.UsageError(option="winners", problem="out_of_range", min=1,
                                max=WINNERS_MAX)
    if track not in TRACKS:
        raise errors.UsageError(option="track", problem="bad_choice", value=track[:40],
                                choices=", ".join(TRACKS))
    if status not in STATUSES:
        raise errors.UsageError(option="status", problem="bad_choice", value=status[:40],
                                choices=", ".join(STATUSES))
    if deadline is not None and deadline.tzinfo is None:
        raise ValueError("a deadline must be an aware datetime")
    return {"title": title, "reward": reward, "description": description, "sponsor": sponsor,
            "track": track, "deadline": deadline, "winners": winners, "once": bool(once),
            "status": status}


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in values.items()}


def _clamp(requested: int, total: int, size: int) -> tuple[int, int]:
    pages = max(1, -(-max(total, 0) // size))
    return min(max(requested, 1), pages), pages
