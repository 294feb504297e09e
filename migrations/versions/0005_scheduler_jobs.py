"""The scheduler's jobs (the database, not APScheduler's memory, says what is due and what was
done), and the role a platform grants an account (a Discord role), so organisers can be listed.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from bot.storage.types import BigId, UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jobs",
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
        sa.UniqueConstraint("kind", "ref", name="uq_jobs_kind_ref"),
    )
    op.create_index("ix_jobs_state_due_at", "jobs", ["state", "due_at"])
    op.add_column("accounts", sa.Column("platform_role", sa.String(16)))
