"""Delivery leases for posts and nudges, so several processes can share one database.

Revision ID: 0002
Revises: 0001
Create Date: 2026-01-21

Release 1 claimed a post and then delivered it, with a fixed grace period before anyone
retried; two processes could both retry a failed post, and a nudge whose claimer died was
lost. Now a post or nudge is delivered only by the holder of its lease (renewed while the
delivery is in flight), and nudges record when they were delivered.

Data: release-1 nudges were sent at claim time (at most once), so they are marked delivered
at their ``sent_at``; release-1 posts keep NULL leases, which the engine reads as "retry by
the old timing" (claimed_at + grace period, then back-off).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("posts") as posts:
        posts.add_column(sa.Column("lease_owner", sa.String(), nullable=True))
        posts.add_column(sa.Column("lease_until", sa.DateTime(), nullable=True))
    with op.batch_alter_table("nudges") as nudges:
        nudges.add_column(sa.Column("delivered_at", sa.DateTime(), nullable=True))
        nudges.add_column(sa.Column("lease_until", sa.DateTime(), nullable=True))
        nudges.add_column(
            sa.Column("attempts", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        nudges.add_column(
            sa.Column("gave_up", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.execute("UPDATE nudges SET delivered_at = sent_at WHERE delivered_at IS NULL")


def downgrade() -> None:
    with op.batch_alter_table("nudges") as nudges:
        nudges.drop_column("gave_up")
        nudges.drop_column("attempts")
        nudges.drop_column("lease_until")
        nudges.drop_column("delivered_at")
    with op.batch_alter_table("posts") as posts:
        posts.drop_column("lease_until")
        posts.drop_column("lease_owner")
