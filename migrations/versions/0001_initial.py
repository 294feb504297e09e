"""Members, accounts, link codes, the points ledger, the outbox and a key-value table.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

from bot.storage.types import BigId, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "members",
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
        sa.CheckConstraint("balance >= 0", name="ck_members_balance_not_negative"),
    )
    op.create_index("ix_members_earned", "members", ["earned"])

    op.create_table(
        "accounts",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("platform_user_id", sa.String(64), nullable=False),
        sa.Column("member_id", sa.BigInteger, sa.ForeignKey("members.id",
                  name="fk_accounts_member_id_members"), nullable=False),
        sa.Column("username", sa.String(64)),
        sa.Column("username_lower", sa.String(64)),
        sa.Column("display_name", sa.String(128)),
        sa.Column("dm_chat_id", sa.String(64)),
        sa.Column("locale_hint", sa.String(35)),
        sa.Column("reachable", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("last_seen_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("platform", "platform_user_id",
                            name="uq_accounts_platform_platform_user_id"),
    )
    op.create_index("ix_accounts_member_id", "accounts", ["member_id"])
    op.create_index("ix_accounts_platform_username_lower", "accounts",
                    ["platform", "username_lower"])

    op.create_table(
        "link_codes",
        sa.Column("code", sa.String(16), primary_key=True),
        sa.Column("member_id", sa.BigInteger, sa.ForeignKey("members.id",
                  name="fk_link_codes_member_id_members"), nullable=False),
        sa.Column("issuer_account_id", sa.BigInteger, sa.ForeignKey("accounts.id",
                  name="fk_link_codes_issuer_account_id_accounts"), nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("used_at", UTCDateTime),
        sa.Column("used_by_account_id", sa.BigInteger),
    )

    op.create_table(
        "ledger",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("member_id", sa.BigInteger, sa.ForeignKey("members.id",
                  name="fk_ledger_member_id_members"), nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("ref", sa.String(64)),
        sa.Column("actor_member_id", sa.BigInteger),
        sa.Column("idem_key", sa.String(160), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("idem_key", name="uq_ledger_idem_key"),
        sa.CheckConstraint("amount <> 0", name="ck_ledger_amount_not_zero"),
    )
    op.create_index("ix_ledger_member_id_id", "ledger", ["member_id", "id"])
    op.create_index("ix_ledger_created_at", "ledger", ["created_at"])

    op.create_table(
        "outbox",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("member_id", sa.BigInteger, sa.ForeignKey("members.id",
                  name="fk_outbox_member_id_members")),
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
        sa.UniqueConstraint("dedupe_key", name="uq_outbox_dedupe_key"),
    )
    op.create_index("ix_outbox_platform_status_not_before", "outbox",
                    ["platform", "status", "not_before"])
    op.create_index("ix_outbox_member_id", "outbox", ["member_id"])

    op.create_table(
        "kv",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    raise NotImplementedError("campusbot migrations are forward-only")
