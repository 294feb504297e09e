"""Events (AMAs, meetups, workshops, conferences) with their track sessions, RSVPs with a
waitlist, invitation codes and their uses, and on-the-day attendance.

Seats are not a stored counter: an RSVP counts the Going rows of its event (or session) under
the event row's lock, in its own transaction, so a merge of two members (which may delete one
of their two RSVPs) can never leave a count wrong.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from bot.storage.types import BigId, UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("title", sa.String(120), nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("start_at", UTCDateTime, nullable=False),
        sa.Column("end_at", UTCDateTime),
        sa.Column("timezone", sa.String(64), nullable=False),
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
    )
    op.create_index("ix_events_status_start_at", "events", ["status", "start_at"])
    op.create_table(
        "event_sessions",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.BigInteger, sa.ForeignKey("events.id"), nullable=False),
        sa.Column("title", sa.String(120), nullable=False),
        sa.Column("track", sa.String(32), nullable=False),
        sa.Column("start_at", UTCDateTime, nullable=False),
        sa.Column("end_at", UTCDateTime),
        sa.Column("room", sa.String(120)),
        sa.Column("capacity", sa.Integer),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_event_sessions_event_id", "event_sessions", ["event_id"])
    op.create_table(
        "rsvps",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.BigInteger, sa.ForeignKey("events.id"), nullable=False),
        # 0 for the event itself, else the session's id (not NULL: a unique key must hold).
        sa.Column("session_id", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("member_id", sa.BigInteger, sa.ForeignKey("members.id"), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("queued_at", UTCDateTime),
        sa.Column("offered_until", UTCDateTime),
        sa.Column("platform", sa.String(16)),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("event_id", "session_id", "member_id",
                            name="uq_rsvps_event_id_session_id_member_id"),
    )
    op.create_index("ix_rsvps_event_id_session_id_state_queued_at", "rsvps",
                    ["event_id", "session_id", "state", "queued_at"])
    op.create_index("ix_rsvps_member_id", "rsvps", ["member_id"])
    op.create_table(
        "invites",
        sa.Column("code", sa.String(16), primary_key=True),
        sa.Column("event_id", sa.BigInteger, sa.ForeignKey("events.id"), nullable=False),
        sa.Column("uses_left", sa.Integer, nullable=False),
        sa.Column("created_by", sa.BigInteger, sa.ForeignKey("members.id")),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.CheckConstraint("uses_left >= 0", name="ck_invites_uses_not_negative"),
    )
    op.create_table(
        "invite_uses",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("code", sa.String(16), sa.ForeignKey("invites.code"), nullable=False),
        sa.Column("event_id", sa.BigInteger, sa.ForeignKey("events.id"), nullable=False),
        sa.Column("member_id", sa.BigInteger, sa.ForeignKey("members.id"), nullable=False),
        sa.Column("used_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("event_id", "member_id", name="uq_invite_uses_event_id_member_id"),
    )
    op.create_table(
        "attendance",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.BigInteger, sa.ForeignKey("events.id"), nullable=False),
        sa.Column("member_id", sa.BigInteger, sa.ForeignKey("members.id"), nullable=False),
        sa.Column("checked_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("event_id", "member_id", name="uq_attendance_event_id_member_id"),
    )
