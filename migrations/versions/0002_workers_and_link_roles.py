"""Delivery workers with heartbeats, and the issuer's role on link codes.

`workers`: each process's outbox deliverer writes a heartbeat every few seconds; a claim whose
owner stopped beating is released within seconds, so the one notice in doubt after a crash is
resent at once instead of after a five-minute lease. `link_codes.issuer_role`: the role the
issuer held when asking for the code (a Discord role only shows on the update itself), so a
link that would lift rights onto a member with a lower role can be refused.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from bot.storage.types import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workers",
        sa.Column("name", sa.String(96), primary_key=True),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("heartbeat_at", UTCDateTime, nullable=False),
    )
    op.add_column("link_codes", sa.Column("issuer_role", sa.String(16), nullable=False,
                                          server_default="member"))
    op.create_index("ix_outbox_status_claimed_by", "outbox", ["status", "claimed_by"])
