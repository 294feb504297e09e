"""Members and identity: who is calling, linking accounts, roles and personal settings.

One person may use Telegram, Discord and the console; each platform account attaches to one
member, and points, role and settings belong to the member. Looking up the caller happens on
every update, so the result is cached per account and dropped whenever this process changes it.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot import errors
from bot.config import Settings
from bot.model import Actor, Platform, Role, Target
from bot.services.audit import Audit
from bot.services.notices import Notifier
from bot.spec import NoticeKind
from bot.storage import members as repo
from bot.storage.db import Database
from bot.storage.members import AccountRow, MemberRow

CACHE_SECONDS = 30.0
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread


@dataclass(frozen=True)
class Caller:
    """The member behind an update, with the role they hold right now and where it comes from."""

    member_id: int
    account_id: int
    platform: str
    role: Role
    db_role: Role
    config_role: Role
    platform_role: Role
    locale: str | None
    timezone: str | None
    notify: bool
    display_name: str | None
    # True only on the update that created this account: its first answer may say more.
    first_contact: bool = False
    # The platform role stored for this account (see MemberService.resolve).
    stored_platform_role: Role = Role.MEMBER


@dataclass(frozen=True)
class LinkPreview:
    """Both sides of a link before it is confirmed: the issuer's member stays."""

    code: str
    issuer: MemberRow
    issuer_role: Role
    joiner: MemberRow
    joiner_role: Role
    merged_role: Role


@dataclass(frozen=True)
class LinkResult:
    member_id: int
    already: bool = False


class MemberService:
    def __init__(self, db: Database, settings: Settings, clock: Callable[[], datetime],
                 notifier: Notifier | None = None, audit: Audit | None = None):
        self.db = db
        self.notifier = notifier
        self.audit = audit
        self.settings = settings
        self.clock = clock
        self._cache: dict[tuple[str, str], tuple[float, Caller]] = {}
        self._last_platform: dict[int, str] = {}
        self._config_roles = _config_roles(settings)

    # -- the caller ------------------------------------------------------------------------

    async def resolve(self, actor: Actor) -> Caller:
        """The caller's member, created on first sight; cached briefly, the role always fresh
        from the actor's own platform hints."""
        key = (str(actor.platform), actor.user_id)
        cached = self._cache.get(key)
        if cached and cached[0] > time.monotonic():
            caller = cached[1]
            fresh = (caller.display_name == _name(actor)
                     and self._last_platform.get(caller.member_id) == actor.platform
                     and caller.stored_platform_role == actor.platform_role)
            if fresh:
                return self._with_actor_roles(caller, actor)
        caller = await self._load_or_create(actor)
        self._last_platform[caller.member_id] = str(actor.platform)
        if actor.platform_role != caller.stored_platform_role:
            caller = await self._store_platform_role(caller, actor.platform_role)
        self._cache[key] = (time.monotonic() + CACHE_SECONDS, replace(caller,
                                                                      first_contact=False))
        return self._with_actor_roles(caller, actor)

    async def _store_platform_role(self, caller: Caller, role: Role) -> Caller:
        """Keep the role the platform grants (a Discord role) with the account, so lists of
        organisers (who is told of a missed job, who gets the digest) include them. Written
        only when it changed, so the usual update writes nothing."""
        async with self.db.write() as conn:
            await repo.set_platform_role(conn, caller.account_id,
                                         None if role == Role.MEMBER else role.code)
        return replace(caller, stored_platform_role=role)

    def forget(self, *member_ids: int) -> None:
        """Drop cached callers of these members (after a role, language or link change)."""
        wanted = set(member_ids)
        for key in [k for k, (_, c) in self._cache.items() if c.member_id in wanted]:
            del self._cache[key]

    def _with_actor_roles(self, caller: Caller, actor: Actor) -> Caller:
        role = max(caller.db_role, caller.config_role, actor.platform_role,
                   actor.trusted_role or Role.MEMBER)
        if role == caller.role and actor.platform_role == caller.platform_role:
            return caller  # the usual case: no copy on every update
        return replace(caller, role=role, platform_role=actor.platform_role)

    async def _load_or_create(self, actor: Actor) -> Caller:
        now = self.clock()
        async with self.db.write() as conn:
            account, created = await repo.get_or_create_account(
                conn, platform=actor.platform, user_id=actor.user_id, username=actor.username,
                display_name=_name(actor), now=now, locale_hint=actor.locale_hint)
            if not created:
                await repo.touch_account(conn, account.id, username=actor.username,
                                         display_name=_name(actor), now=now,
                                         locale_hint=actor.locale_hint)
            member = await repo.get_member(conn, account.member_id)
            if member.last_platform != actor.platform or member.display_name != _name(actor):
                await repo.set_last_platform(conn, member.id, actor.platform, _name(actor))
            linked = await repo.accounts_of(conn, member.id)
        return replace(self._caller(member, account, linked, actor.platform),
                       first_contact=created)

    def _caller(self, member: MemberRow, account: AccountRow, linked: list[AccountRow],
                platform: str) -> Caller:
        db_role, config_role = self.role_sources(member, linked)
        return Caller(
            member_id=member.id, account_id=account.id, platform=platform,
            role=max(db_role, config_role), db_role=db_role, config_role=config_role,
            platform_role=Role.MEMBER, locale=member.locale, timezone=member.timezone,
            notify=member.notify, display_name=member.display_name,
            stored_platform_role=Role.from_code(account.platform_role or "member"),
        )

    # -- other members ---------------------------------------------------------------------

    async def find(self, target: Target, vouched: Target | None = None) -> MemberRow:
        """The member someone pointed at (see `locate`); never creates a console account."""
        member, _created = await self.locate(target, vouched)
        return member

    async def locate(self, target: Target, vouched: Target | None = None,
                     may_create: bool = False) -> tuple[MemberRow, bool]:
        """The member someone pointed at, and whether their account was created just now.

        A chat platform's account is known once it talked to the bot, or when the platform
        vouches for it (`vouched`: a Discord user option, the author of a replied-to message).
        A console `@NAME` nobody used yet is created only when `may_create` (an organiser's
        command, which then says so). Names are case-insensitive: `@Bob` is `@bob`. Pointing
        at someone never changes their own record (name, last platform)."""
        if (target.platform == Platform.CONSOLE and target.username and vouched is None
                and may_create):
            name = target.username
            vouched = Target(Platform.CONSOLE, user_id=name.lower(), username=name,
                             display_name=name)
        async with self.db.read() as conn:
            account = await self._find_account(conn, target)
        created = False
        if account is None and vouched is not None and vouched.user_id:
            account, created = await self._add_account(vouched)
        if account is None:
            raise errors.MemberUnknown(who=_describe(target), platform=str(target.platform))
        return await self.get(account.member_id), created

    async def _add_account(self, who: Target) -> tuple[AccountRow, bool]:
        """A new member for an account the platform vouched for; race-safe (first one wins)."""
        async with self.db.write() as conn:
            return await repo.get_or_create_account(
                conn, platform=who.platform, user_id=who.user_id, username=who.username,
                display_name=who.display_name or who.username, now=self.clock())

    async def _find_account(self, conn, target: Target) -> AccountRow | None:
        if target.user_id:
            return await repo.get_account(conn, target.platform, target.user_id)
        if target.username:
            found = await repo.find_by_username(conn, target.platform, target.username)
            if found:
                return found[-1]
            if target.platform == Platform.CONSOLE:  # an account known by id, its name changed
                return await repo.get_account(conn, Platform.CONSOLE, target.username.lower())
            return None
        return None

    async def get(self, member_id: int) -> MemberRow:
        async with self.db.read() as conn:
            member = await repo.get_member(conn, member_id)
        if member is None:
            raise errors.NotFound(what="member")
        return member

    async def accounts(self, member_id: int) -> list[AccountRow]:
        async with self.db.read() as conn:
            return await repo.accounts_of(conn, member_id)

    def role_sources(self, member: MemberRow, linked: list[AccountRow]) -> tuple[Role, Role]:
        config_role = max((self._config_roles.get(a.account_id, Role.MEMBER) for a in linked),
                          default=Role.MEMBER)
        return Role.from_code(member.role), config_role

    # -- settings --------------------------------------------------------------------------

    async def set_settings(self, member_id: int, **values) -> None:
        async with self.db.write() as conn:
            await repo.update_member(conn, member_id, **values)
        self.forget(member_id)

    # -- roles -----------------------------------------------------------------------------

    async def grant(self, target: MemberRow, role: Role, *, key: str,
                    notice: NoticeKind | None = None,
                    actor_member_id: int | None = None) -> bool:
        """Raise the member's own role to `role` and tell them (once per `key`); False when
        they already hold it or more."""
        async with self.db.write() as conn:
            member = await repo.lock_member(conn, target.id)
            if Role.from_code(member.role) >= role:
                return False
            await repo.update_member(conn, member.id, role=role.code)
            await self._tell(conn, member.id, notice, {"role": role.code}, key)
            await self._record(conn, actor_member_id, "roles.grant", member.id, role)
        self.forget(target.id)
        return True

    async def revoke(self, target: MemberRow, role: Role, *, key: str,
                     notice: NoticeKind | None = None,
                     actor_member_id: int | None = None) -> bool:
        """Take `role` (and anything above it) from the member's own grant, and tell them.

        A role that comes from config can only be taken away there; the error says so.
        """
        async with self.db.write() as conn:
            member = await repo.lock_member(conn, target.id)
            linked = await repo.accounts_of(conn, member.id)
            db_role, config_role = self.role_sources(member, linked)
            if config_role >= role:
                raise errors.RoleFromConfig(role=role.code, source="config")
            if db_role < role:
                return False
            await repo.update_member(conn, member.id, role=Role(role - 1).code)
            await self._tell(conn, member.id, notice, {"role": role.code}, key)
            await self._record(conn, actor_member_id, "roles.revoke", member.id, role)
        self.forget(target.id)
        return True

    async def _record(self, conn, actor_member_id: int | None, action: str, member_id: int,
                      role: Role) -> None:
        if self.audit is not None:
            await self.audit.record(conn, actor_member_id=actor_member_id, action=action,
                                    target_member_id=member_id, role=role.code)

    async def _tell(self, conn, member_id: int, notice: NoticeKind | None, params: dict,
                    key: str) -> None:
        if notice is not None and self.notifier is not None:
            await self.notifier.to_member(conn, member_id, notice, params,
                                          dedupe_key=f"{key}:notice", now=self.clock())

    # -- linking ---------------------------------------------------------------------------

    async def issue_link_code(self, caller: Caller) -> tuple[str, datetime]:
        """A one-time code for another account to join the caller's member. The caller's role
        right now (a Discord role shows only on the update itself) is kept with it."""
        now = self.clock()
        expires = now + timedelta(minutes=self.settings.identity.link_code_minutes)
        code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))
        async with self.db.write() as conn:
            await repo.delete_expired_codes(conn, now)
            await repo.insert_link_code(conn, code=code, member_id=caller.member_id,
                                        issuer_account_id=caller.account_id,
                                        issuer_role=caller.role.code, expires_at=expires)
        return code, expires

    async def preview_link(self, caller: Caller, code: str) -> LinkPreview:
        """What linking with `code` would do, checked as the link itself will check it; nothing
        changes until the caller confirms (a posted link must never link by itself)."""
        code = normalise_code(code)
        async with self.db.read() as conn:
            found = await repo.get_link_code(conn, code)
            issuer = await repo.get_member(conn, found.member_id) if found else None
            linked = await repo.accounts_of(conn, issuer.id) if issuer else []
            joiner = await repo.get_member(conn, caller.member_id)
        if found is not None and found.used_by_account_id == caller.account_id:
            raise errors.AlreadyLinked()
        if (found is None or issuer is None or found.used_at is not None
                or found.expires_at <= self.clock()):
            raise self._invalid_code()
        if issuer.id == caller.member_id:
            raise errors.AlreadyLinked()
        issuer_role = self._issuer_role(found, issuer, linked)
        self._check_no_rise(caller, issuer_role)
        return LinkPreview(code, issuer, issuer_role, joiner, caller.role,
                           max(issuer_role, caller.role))

    async def link(self, caller: Caller, code: str) -> LinkResult:
        """Join the caller's account (and its member) to the member who issued `code`.

        Refused when the caller holds a higher role than the issuer: the merged member keeps
        the higher role, so the issuer's other accounts would gain it. The higher side must
        issue the code instead (see `_check_no_rise`)."""
        code = normalise_code(code)
        now = self.clock()
        async with self.db.write() as conn:
            found = await repo.get_link_code(conn, code)
            if found is not None and found.used_by_account_id == caller.account_id:
                # The same press or update delivered twice: the first one did the linking.
                return LinkResult(found.member_id, already=True)
            if not await repo.claim_link_code(conn, code, caller.account_id, now):
                raise self._invalid_code()
            if found.member_id == caller.member_id:
                raise errors.AlreadyLinked()
            keep = await repo.lock_member(conn, found.member_id)
            gone = await repo.lock_member(conn, caller.member_id)
            issuer_role = self._issuer_role(found, keep, await repo.accounts_of(conn, keep.id))
            self._check_no_rise(caller, issuer_role)  # raising rolls the claim back too
            role = max(Role.from_code(keep.role), Role.from_code(gone.role)).code
            await repo.merge_members(conn, keep, gone, role)
        self.forget(keep.id, gone.id)
        return LinkResult(keep.id)

    def _issuer_role(self, found: repo.LinkCodeRow, issuer: MemberRow,
                     linked: list[AccountRow]) -> Role:
        return max(Role.from_code(found.issuer_role), *self.role_sources(issuer, linked))

    @staticmethod
    def _check_no_rise(caller: Caller, issuer_role: Role) -> None:
        """Linking must never lift anyone's rights by surprise. A member who posts their code
        (or a t.me link with it) and gets an organiser to open it would otherwise share the
        organiser's role on their own accounts. So the account with the higher role — from
        config, a Discord role or a chat grant — must be the one that issues the code."""
        if caller.role > issuer_role:
            raise errors.LinkRaisesRole(role=caller.role.code, issuer_role=issuer_role.code)

    def _invalid_code(self) -> errors.LinkCodeInvalid:
        return errors.LinkCodeInvalid(minutes=self.settings.identity.link_code_minutes)

    async def unlink(self, caller: Caller) -> int:
        """Detach the caller's account onto a fresh member with no points; returns its id."""
        now = self.clock()
        async with self.db.write() as conn:
            linked = await repo.accounts_of(conn, caller.member_id)
            if len(linked) < 2:
                raise errors.NothingToUnlink()
            account = next(a for a in linked if a.id == caller.account_id)
            new_member = await repo.create_member(conn, now, account.display_name,
                                                  account.platform)
            await repo.move_account(conn, account.id, new_member)
            others = [a for a in linked if a.id != account.id]
            last = max(others, key=lambda a: a.id)
            await repo.set_last_platform(conn, caller.member_id, last.platform, None)
        self.forget(caller.member_id)
        return new_member


def normalise_code(code: str) -> str:
    """Codes are shown upper case; people type them in any case, with or without a dash."""
    return code.strip().upper().replace("-", "")


def _name(actor: Actor) -> str | None:
    return actor.display_name or actor.username or None


def _describe(target: Target) -> str:
    if target.username:
        return f"@{target.username}"
    return f"{target.platform}:{target.user_id}"


def _config_roles(settings: Settings) -> dict[str, Role]:
    roles: dict[str, Role] = {}
    for account in settings.roles.ambassadors:
        roles[_account_key(account)] = Role.AMBASSADOR
    for account in settings.roles.organisers:
        roles[_account_key(account)] = Role.ORGANISER
    return roles


def _account_key(account: str) -> str:
    """Console names are case-insensitive (`console:Admin` is `console:admin`), like the
    console's account ids."""
    return account.lower() if account.startswith("console:") else account
