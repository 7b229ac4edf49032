"""The reach of a run: how many members its channel had when the chat ended.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24

The recap reports reach next to participants and messages; the engine reads it from the
platform once, when the run is summarised. Runs from before this revision have none (NULL),
and their recaps leave the figure out.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


# Plain ALTER TABLE on both dialects (SQLite has had DROP COLUMN since 3.35): a batch
# operation would copy and drop ``runs``, which the other tables' foreign keys forbid.


def upgrade() -> None:
    op.add_column("runs", sa.Column("reach", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("runs", "reach")
