"""The tables, as SQLAlchemy Core metadata for queries.

The database itself is built only by the migrations in `migrations/`; a test checks that the
migrated schema and this metadata agree, so neither can drift.
"""

from __future__ import annotations

import sqlalchemy as sa

from bot.storage.types import BigId, UTCDateTime

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

members = sa.Table(
    "members", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("role", sa.String(16), nullable=False, server_default="member"),
    sa.Column("locale", sa.String(16)),
    sa.Column("timezone", sa.String(64)),
    sa.Column("notify", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("balance", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("earned", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("display_name", sa.String(128)),
    sa.Column("last_platform", sa.String(16)),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.CheckConstraint("balance >= 0", name="balance_not_negative"),
    sa.Index(None, "earned"),
)

accounts = sa.Table(
    "accounts", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("platform", sa.String(16), nullable=False),
    sa.Column("platform_user_id", sa.String(64), nullable=False),
    sa.Column("member_id", sa.BigInteger, sa.ForeignKey("members.id"), nullable=False),
    sa.Column("username", sa.String(64)),
    sa.Column("username_lower", sa.String(64)),
    sa.Column("display_name", sa.String(128)),
    sa.Column("dm_chat_id", sa.String(64)),
    sa.Column("locale_hint", sa.String(35)),
    sa.Column("reachable", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("last_seen_at", UTCDateTime, nullable=False),
    # A role the platform grants this account (a Discord role), as last seen: so the
    # organisers can be listed (and told) even when no command of theirs is running.
    sa.Column("platform_role", sa.String(16)),
    sa.UniqueConstraint("platform", "platform_user_id"),
    sa.Index(None, "member_id"),
    sa.Index(None, "platform", "username_lower"),
)

link_codes = sa.Table(
    "link_codes", metadata,
    sa.Column("code", sa.String(16), primary_key=True),
    sa.Column("member_id", sa.BigInteger, sa.ForeignKey("members.id"), nullable=False),
    sa.Column("issuer_account_id", sa.BigInteger, sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Column("used_at", UTCDateTime),
    sa.Column("used_by_account_id", sa.BigInteger),
    sa.Column("issuer_role", sa.String(16), nullable=False, server_default="member"),
)

ledger = sa.Table(
    "ledger", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("member_id", sa.BigInteger, sa.ForeignKey("members.id"), nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("kind", sa.String(24), nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("ref", sa.String(64)),
    sa.Column("actor_member_id", sa.BigInteger),
    sa.Column("idem_key", sa.String(160), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("idem_key"),
    sa.CheckConstraint("amount <> 0", name="amount_not_zero"),
    sa.Index(None, "member_id", "id"),
    sa.Index(None, "created_at"),
)

outbox = sa.Table(
    "outbox", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("member_id", sa.BigInteger, sa.ForeignKey("members.id")),
    sa.Column("chat_ref", sa.String(96)),
    sa.Column("platform", sa.String(16), nullable=False),
    sa.Column("kind", sa.String(48), nullable=False),
    sa.Column("params", sa.Text, nullable=False),
    sa.Column("status", sa.String(12), nullable=False, server_default="pending"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("not_before", UTCDateTime, nullable=False),
    sa.Column("claimed_at", UTCDateTime),
    sa.Column("claimed_by", sa.String(64)),
    sa.Column("sent_at", UTCDateTime),
    sa.Column("error", sa.Text),
    sa.Column("dedupe_key", sa.String(200), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("dedupe_key"),
    sa.Index(None, "platform", "status", "not_before"),
    sa.Index(None, "member_id"),
    sa.Index(None, "status", "claimed_by"),
)

workers = sa.Table(
    "workers", metadata,
    sa.Column("name", sa.String(96), primary_key=True),
    sa.Column("platform", sa.String(16), nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("heartbeat_at", UTCDateTime, nullable=False),
)

kv = sa.Table(
    "kv", metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)


audit = sa.Table(
    "audit", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("actor_member_id", sa.BigInteger, sa.ForeignKey("members.id")),
    sa.Column("action", sa.String(48), nullable=False),
    sa.Column("target_member_id", sa.BigInteger, sa.ForeignKey("members.id")),
    sa.Column("target_ref", sa.String(32)),
    sa.Column("detail", sa.Text, nullable=False, server_default="{}"),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Index(None, "created_at"),
    sa.Index(None, "target_member_id"),
    sa.Index(None, "actor_member_id"),
)

translations = sa.Table(
    "translations", metadata,
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("object_id", sa.BigInteger, nullable=False),
    sa.Column("locale", sa.String(16), nullable=False),
    sa.Column("field", sa.String(32), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.PrimaryKeyConstraint("kind", "object_id", "locale", "field"),
)

page_filters = sa.Table(
    "page_filters", metadata,
    sa.Column("token", sa.String(16), primary_key=True),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)


bounties = sa.Table(
    "bounties", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("title", sa.String(120), nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("sponsor", sa.String(120)),
    sa.Column("track", sa.String(16), nullable=False, server_default="other"),
    sa.Column("reward", sa.BigInteger, nullable=False),
    sa.Column("deadline", UTCDateTime),
    sa.Column("winners", sa.Integer),
    sa.Column("once", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("status", sa.String(12), nullable=False, server_default="open"),
    sa.Column("approved", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_by", sa.BigInteger, sa.ForeignKey("members.id")),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("closed_at", UTCDateTime),
    sa.CheckConstraint("reward > 0", name="reward_positive"),
    sa.Index(None, "status", "id"),
)

submissions = sa.Table(
    "submissions", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("bounty_id", sa.BigInteger, sa.ForeignKey("bounties.id"), nullable=False),
    sa.Column("member_id", sa.BigInteger, sa.ForeignKey("members.id"), nullable=False),
    sa.Column("link", sa.Text, nullable=False),
    sa.Column("link_key", sa.String(255), nullable=False),
    sa.Column("note", sa.Text),
    sa.Column("state", sa.String(12), nullable=False, server_default="pending"),
    sa.Column("platform", sa.String(16)),
    sa.Column("points", sa.BigInteger),
    sa.Column("reason", sa.Text),
    sa.Column("reviewer_member_id", sa.BigInteger, sa.ForeignKey("members.id")),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("decided_at", UTCDateTime),
    sa.UniqueConstraint("bounty_id", "link_key"),
    sa.Index(None, "state", "id"),
    sa.Index(None, "member_id"),
)

approvals = sa.Table(
    "approvals", metadata,
    sa.Column("submission_id", sa.BigInteger, sa.ForeignKey("submissions.id"), nullable=False),
    sa.Column("organiser_member_id", sa.BigInteger, sa.ForeignKey("members.id"),
              nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.PrimaryKeyConstraint("submission_id", "organiser_member_id"),
)

rewards = sa.Table(
    "rewards", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("cost", sa.BigInteger, nullable=False),
    sa.Column("stock", sa.Integer),
    sa.Column("per_member", sa.Integer),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_by", sa.BigInteger, sa.ForeignKey("members.id")),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.CheckConstraint("cost > 0", name="cost_positive"),
    sa.CheckConstraint("stock IS NULL OR stock >= 0", name="stock_not_negative"),
)

orders = sa.Table(
    "orders", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("reward_id", sa.BigInteger, sa.ForeignKey("rewards.id"), nullable=False),
    sa.Column("member_id", sa.BigInteger, sa.ForeignKey("members.id"), nullable=False),
    sa.Column("cost", sa.BigInteger, nullable=False),
    sa.Column("state", sa.String(12), nullable=False, server_default="open"),
    sa.Column("platform", sa.String(16)),
    sa.Column("reason", sa.Text),
    sa.Column("idem_key", sa.String(160), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("closed_at", UTCDateTime),
    sa.Column("closed_by", sa.BigInteger, sa.ForeignKey("members.id")),
    sa.UniqueConstraint("idem_key"),
    sa.Index(None, "state", "id"),
    sa.Index(None, "member_id", "reward_id"),
)

jobs = sa.Table(
    "jobs", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("ref", sa.String(64), nullable=False),
    sa.Column("due_at", UTCDateTime, nullable=False),
    sa.Column("rule", sa.String(32)),
    sa.Column("timezone", sa.String(64)),
    sa.Column("params", sa.Text, nullable=False, server_default="{}"),
    sa.Column("state", sa.String(12), nullable=False, server_default="pending"),
    sa.Column("claimed_by", sa.String(96)),
    sa.Column("fired_at", UTCDateTime),
    sa.Column("runs", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("kind", "ref"),
    sa.Index(None, "state", "due_at"),
)

events = sa.Table(
    "events", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("title", sa.String(120), nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("start_at", UTCDateTime, nullable=False),
    sa.Column("end_at", UTCDateTime),
    sa.Column("timezone", sa.String(64), nullable=False),  # the venue's
    sa.Column("venue", sa.String(300)),
    sa.Column("capacity", sa.Integer),
    sa.Column("invite_only", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("speakers", sa.String(300)),
    sa.Column("reminders", sa.String(64), nullable=False, server_default="24h,1h"),
    sa.Column("status", sa.String(12), nullable=False, server_default="scheduled"),
    sa.Column("checkin_code", sa.String(16)),
    sa.Column("checkin_until", UTCDateTime),
    sa.Column("created_by", sa.BigInteger, sa.ForeignKey("members.id")),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("cancelled_at", UTCDateTime),
    sa.Column("cancel_reason", sa.Text),
    sa.Index(None, "status", "start_at"),
)

event_sessions = sa.Table(
    "event_sessions", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.BigInteger, sa.ForeignKey("events.id"), nullable=False),
    sa.Column("title", sa.String(120), nullable=False),
    sa.Column("track", sa.String(32), nullable=False),
    sa.Column("start_at", UTCDateTime, nullable=False),
    sa.Column("end_at", UTCDateTime),
    sa.Column("room", sa.String(120)),
    sa.Column("capacity", sa.Integer),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Index(None, "event_id"),
)

rsvps = sa.Table(
    "rsvps", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.BigInteger, sa.ForeignKey("events.id"), nullable=False),
    sa.Column("session_id", sa.BigInteger, nullable=False, server_default="0"),  # 0: the event
    sa.Column("member_id", sa.BigInteger, sa.ForeignKey("members.id"), nullable=False),
    sa.Column("state", sa.String(12), nullable=False),
    sa.Column("queued_at", UTCDateTime),  # waitlist order: when they asked for a seat
    sa.Column("offered_until", UTCDateTime),
    sa.Column("platform", sa.String(16)),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("event_id", "session_id", "member_id"),
    sa.Index(None, "event_id", "session_id", "state", "queued_at"),
    sa.Index(None, "member_id"),
)

invites = sa.Table(
    "invites", metadata,
    sa.Column("code", sa.String(16), primary_key=True),
    sa.Column("event_id", sa.BigInteger, sa.ForeignKey("events.id"), nullable=False),
    sa.Column("uses_left", sa.Integer, nullable=False),
    sa.Column("created_by", sa.BigInteger, sa.ForeignKey("members.id")),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.CheckConstraint("uses_left >= 0", name="uses_not_negative"),
)

invite_uses = sa.Table(
    "invite_uses", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("code", sa.String(16), sa.ForeignKey("invites.code"), nullable=False),
    sa.Column("event_id", sa.BigInteger, sa.ForeignKey("events.id"), nullable=False),
    sa.Column("member_id", sa.BigInteger, sa.ForeignKey("members.id"), nullable=False),
    sa.Column("used_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("event_id", "member_id"),
)

attendance = sa.Table(
    "attendance", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.BigInteger, sa.ForeignKey("events.id"), nullable=False),
    sa.Column("member_id", sa.BigInteger, sa.ForeignKey("members.id"), nullable=False),
    sa.Column("checked_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("event_id", "member_id"),
)
