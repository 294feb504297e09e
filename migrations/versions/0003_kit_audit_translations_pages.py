"""The shared kit of the features: the audit record, content translations, pager filters.

`audit`: every organiser action (actor, action, target, time, detail), written in the action's
own transaction. `translations`: a text of a bounty, reward, event or session in one locale.
`page_filters`: list filters too long for a 64-byte button payload (a sponsor name in
Chinese), kept server-side under a short token.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from bot.storage.types import BigId, UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("actor_member_id", sa.BigInteger, sa.ForeignKey("members.id")),
        sa.Column("action", sa.String(48), nullable=False),
        sa.Column("target_member_id", sa.BigInteger, sa.ForeignKey("members.id")),
        sa.Column("target_ref", sa.String(32)),
        sa.Column("detail", sa.Text, nullable=False, server_default="{}"),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_audit_created_at", "audit", ["created_at"])
    op.create_index("ix_audit_target_member_id", "audit", ["target_member_id"])
    op.create_index("ix_audit_actor_member_id", "audit", ["actor_member_id"])
    op.create_table(
        "translations",
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("object_id", sa.BigInteger, nullable=False),
        sa.Column("locale", sa.String(16), nullable=False),
        sa.Column("field", sa.String(32), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("kind", "object_id", "locale", "field",
                                name="pk_translations"),
    )
    op.create_table(
        "page_filters",
        sa.Column("token", sa.String(16), primary_key=True),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
