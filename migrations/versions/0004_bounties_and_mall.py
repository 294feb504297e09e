"""Bounties with their submissions and approvals; the points mall's rewards and orders.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from bot.storage.types import BigId, UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bounties",
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
        sa.CheckConstraint("reward > 0", name="ck_bounties_reward_positive"),
    )
    op.create_index("ix_bounties_status_id", "bounties", ["status", "id"])
    op.create_table(
        "submissions",
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
        sa.UniqueConstraint("bounty_id", "link_key", name="uq_submissions_bounty_id_link_key"),
    )
    op.create_index("ix_submissions_state_id", "submissions", ["state", "id"])
    op.create_index("ix_submissions_member_id", "submissions", ["member_id"])
    op.create_table(
        "approvals",
        sa.Column("submission_id", sa.BigInteger, sa.ForeignKey("submissions.id"),
                  nullable=False),
        sa.Column("organiser_member_id", sa.BigInteger, sa.ForeignKey("members.id"),
                  nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("submission_id", "organiser_member_id", name="pk_approvals"),
    )
    op.create_table(
        "rewards",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("cost", sa.BigInteger, nullable=False),
        sa.Column("stock", sa.Integer),
        sa.Column("per_member", sa.Integer),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_by", sa.BigInteger, sa.ForeignKey("members.id")),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.CheckConstraint("cost > 0", name="ck_rewards_cost_positive"),
        sa.CheckConstraint("stock IS NULL OR stock >= 0", name="ck_rewards_stock_not_negative"),
    )
    op.create_table(
        "orders",
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
        sa.UniqueConstraint("idem_key", name="uq_orders_idem_key"),
    )
    op.create_index("ix_orders_state_id", "orders", ["state", "id"])
    op.create_index("ix_orders_member_id_reward_id", "orders", ["member_id", "reward_id"])
