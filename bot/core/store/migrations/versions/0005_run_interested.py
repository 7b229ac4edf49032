"""How many people said they were interested in a run's scheduled event (Discord's guild
events), read when the chat ended.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04

The recap's headline puts it before the participants ("23 interested, 17 took part"). Runs
without an event (or from before this revision) have none (NULL), and their recaps leave the
figure out.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


# Plain ALTER TABLE on both dialects, as 0003: a batch operation would copy and drop ``runs``,
# which the other tables' foreign keys forbid.


def upgrade() -> None:
    op.add_column("runs", sa.Column("interested", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("runs", "interested")
