"""Members, their platform accounts and link codes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.db import insert_for
from bot.storage.owned import merge_rows
from bot.storage.schema import accounts, link_codes, members


@dataclass(frozen=True)
class MemberRow:
    id: int
    role: str
    locale: str | None
    timezone: str | None
    notify: bool
    balance: int
    earned: int
    display_name: str | None
    last_platform: str | None


@dataclass(frozen=True)
class AccountRow:
    id: int
    platform: str
    platform_user_id: str
    member_id: int
    username: str | None
    display_name: str | None
    dm_chat_id: str | None
    locale_hint: str | None
    reachable: bool
    platform_role: str | None = None

    @property
    def account_id(self) -> str:
        return f"{self.platform}:{self.platform_user_id}"


_MEMBER_COLS = [members.c[name] for name in MemberRow.__dataclass_fields__]
_ACCOUNT_COLS = [accounts.c[name] for name in AccountRow.__dataclass_fields__]


def _member(row) -> MemberRow:
    return MemberRow(**row._mapping)


def _account(row) -> AccountRow:
    return AccountRow(**row._mapping)


async def get_member(conn: AsyncConnection, member_id: int) -> MemberRow | None:
    row = (await conn.execute(sa.select(*_MEMBER_COLS).where(members.c.id == member_id))).first()
    return _member(row) if row else None


async def lock_member(conn: AsyncConnection, member_id: int) -> MemberRow | None:
    """Read a member for update: PostgreSQL locks the row; SQLite already holds the write lock."""
    query = sa.select(*_MEMBER_COLS).where(members.c.id == member_id).with_for_update()
    row = (await conn.execute(query)).first()
    return _member(row) if row else None


async def create_member(conn: AsyncConnection, now: datetime, display_name: str | None,
                        platform: str) -> int:
    result = await conn.execute(
        members.insert().values(created_at=now, display_name=display_name,
                                last_platform=platform).returning(members.c.id)
    )
    return result.scalar_one()


async def get_account(conn: AsyncConnection, platform: str, user_id: str) -> AccountRow | None:
    query = sa.select(*_ACCOUNT_COLS).where(
        accounts.c.platform == platform, accounts.c.platform_user_id == user_id
    )
    row = (await conn.execute(query)).first()
    return _account(row) if row else None



async def find_by_username(conn: AsyncConnection, platform: str,
                           username: str) -> list[AccountRow]:
    query = sa.select(*_ACCOUNT_COLS).where(
        accounts.c.platform == platform, accounts.c.username_lower == username.lower()
    ).order_by(accounts.c.id)
    return [_account(r) for r in await conn.execute(query)]


async def notice_targets(conn: AsyncConnection,
                         member_id: int) -> tuple[MemberRow | None, list[AccountRow]]:
    """A member and their accounts in one query: notices are queued on every award."""
    query = (sa.select(*_MEMBER_COLS, *[c.label(f"a_{c.name}") for c in _ACCOUNT_COLS])
             .join(accounts, accounts.c.member_id == members.c.id)
             .where(members.c.id == member_id))
    rows = (await conn.execute(query)).all()
    if not rows:
        return None, []
    member = MemberRow(**{f: rows[0]._mapping[f] for f in MemberRow.__dataclass_fields__})
    found = [AccountRow(**{f: r._mapping[f"a_{f}"] for f in AccountRow.__dataclass_fields__})
             for r in rows]
    return member, found


async def accounts_of(conn: AsyncConnection, member_id: int) -> list[AccountRow]:
    query = sa.select(*_ACCOUNT_COLS).where(accounts.c.member_id == member_id)
    return [_account(r) for r in await conn.execute(query.order_by(accounts.c.id))]


async def get_or_create_account(conn: AsyncConnection, *, platform: str, user_id: str,
                                username: str | None, display_name: str | None, now: datetime,
                                locale_hint: str | None = None) -> tuple[AccountRow, bool]:
    """The account, with a new member of its own when it is new; True when this call made it.

    Race-safe: the account insert ignores a conflict, and when another transaction created the
    account first, the member made for it here is deleted again, so no orphan stays."""
    account = await get_account(conn, platform, user_id)
    if account is not None:
        return account, False
    member_id = await create_member(conn, now, display_name, platform)
    inserted = (await conn.execute(
        insert_for(conn, accounts).values(
            platform=platform, platform_user_id=user_id, member_id=member_id, username=username,
            username_lower=username.lower() if username else None, display_name=display_name,
            created_at=now, last_seen_at=now,
            locale_hint=(locale_hint or None) and locale_hint[:35],
        ).on_conflict_do_nothing(index_elements=["platform", "platform_user_id"])
        .returning(accounts.c.id)
    )).scalar()
    if inserted is None:
        await conn.execute(members.delete().where(members.c.id == member_id))
    account = await get_account(conn, platform, user_id)
    assert account is not None  # inserted here, or committed by the one that won the race
    return account, inserted is not None


async def touch_account(conn: AsyncConnection, account_id: int, *, username: str | None,
                        display_name: str | None, now: datetime,
                        dm_chat_id: str | None = None, locale_hint: str | None = None) -> None:
    values = dict(username=username, username_lower=username.lower() if username else None,
                  display_name=display_name, last_seen_at=now, reachable=True)
    if locale_hint:
        values["locale_hint"] = locale_hint[:35]
    if dm_chat_id:
        values["dm_chat_id"] = dm_chat_id
    await conn.execute(accounts.update().where(accounts.c.id == account_id).values(**values))


async def set_last_platform(conn: AsyncConnection, member_id: int, platform: str,
                            display_name: str | None) -> None:
    values = {"last_platform": platform}
    if display_name:
        values["display_name"] = display_name
    await conn.execute(members.update().where(members.c.id == member_id).values(**values))


async def set_reachable(conn: AsyncConnection, account_id: int, reachable: bool) -> None:
    await conn.execute(
        accounts.update().where(accounts.c.id == account_id).values(reachable=reachable)
    )


async def update_member(conn: AsyncConnection, member_id: int, **values) -> None:
    await conn.execute(members.update().where(members.c.id == member_id).values(**values))


async def move_account(conn: AsyncConnection, account_id: int, member_id: int) -> None:
    await conn.execute(
        accounts.update().where(accounts.c.id == account_id).values(member_id=member_id)
    )


async def merge_members(conn: AsyncConnection, keep: MemberRow, gone: MemberRow,
                        role: str) -> None:
    """Fold `gone` into `keep`: every member-owned row (bot.storage.owned.OWNED) moves over,
    by its table's rule, and the balances add up."""
    await merge_rows(conn, keep.id, gone.id)
    await conn.execute(
        members.update().where(members.c.id == keep.id).values(
            balance=members.c.balance + gone.balance,
            earned=members.c.earned + gone.earned,
            role=role,
        )
    )
    await conn.execute(members.delete().where(members.c.id == gone.id))


@dataclass(frozen=True)
class LinkCodeRow:
    code: str
    member_id: int
    issuer_account_id: int
    issuer_role: str
    expires_at: datetime
    used_at: datetime | None
    used_by_account_id: int | None


async def insert_link_code(conn: AsyncConnection, *, code: str, member_id: int,
                           issuer_account_id: int, issuer_role: str,
                           expires_at: datetime) -> None:
    await conn.execute(link_codes.insert().values(
        code=code, member_id=member_id, issuer_account_id=issuer_account_id,
        issuer_role=issuer_role, expires_at=expires_at,
    ))


async def get_link_code(conn: AsyncConnection, code: str) -> LinkCodeRow | None:
    query = sa.select(*[link_codes.c[f] for f in LinkCodeRow.__dataclass_fields__]).where(
        link_codes.c.code == code)
    row = (await conn.execute(query)).first()
    return LinkCodeRow(**row._mapping) if row else None


async def claim_link_code(conn: AsyncConnection, code: str, account_id: int,
                          now: datetime) -> bool:
    """Use a code once: the conditional update is what makes a code single-use under races."""
    result = await conn.execute(
        link_codes.update()
        .where(link_codes.c.code == code, link_codes.c.used_at.is_(None),
               link_codes.c.expires_at > now)
        .values(used_at=now, used_by_account_id=account_id)
    )
    return bool(result.rowcount)


async def delete_expired_codes(conn: AsyncConnection, now: datetime) -> int:
    result = await conn.execute(link_codes.delete().where(link_codes.c.expires_at < now))
    return result.rowcount or 0



async def all_members(conn: AsyncConnection) -> list[MemberRow]:
    query = sa.select(*_MEMBER_COLS).order_by(members.c.id)
    return [_member(r) for r in await conn.execute(query)]


async def set_platform_role(conn: AsyncConnection, account_id: int, role: str | None) -> None:
    await conn.execute(accounts.update().where(accounts.c.id == account_id)
                       .values(platform_role=role))


async def organiser_ids(conn: AsyncConnection, config_accounts: Iterable[str]) -> list[int]:
    """Members who are organisers by a grant, by a config account (`telegram:123`) or by a
    platform role last seen on one of their accounts (a Discord role), in id order."""
    pairs = [tuple((a.lower() if a.startswith("console:") else a).split(":", 1))
             for a in config_accounts if ":" in a]
    conditions = [members.c.role == "organiser", accounts.c.platform_role == "organiser"]
    if pairs:
        conditions.append(sa.tuple_(accounts.c.platform, accounts.c.platform_user_id)
                          .in_(pairs))
    query = (sa.select(members.c.id).distinct()
             .select_from(members.outerjoin(accounts, accounts.c.member_id == members.c.id))
             .where(sa.or_(*conditions)).order_by(members.c.id))
    return [r.id for r in await conn.execute(query)]
