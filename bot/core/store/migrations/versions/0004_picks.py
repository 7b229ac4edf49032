"""Host picks in a table of their own.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03

A host's ``/highlight`` used to be stored as a reaction named ``chathost:highlight``, which
every reader of reactions had to filter out. Picks now have their own table; the upgrade
moves each such reaction into it (same message, host and time) and deletes the reaction. The
downgrade moves them back.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# The reaction name release 0003 stored a pick as; no platform emoji has a colon in its name.
HIGHLIGHT_MARK = "chathost:highlight"

_reactions = sa.table(
    "reactions",
    sa.column("message_id", sa.Integer()),
    sa.column("user_id", sa.String()),
    sa.column("user_name", sa.String()),
    sa.column("emoji", sa.String()),
    sa.column("created_at", sa.DateTime()),
)
_picks = sa.table(
    "picks",
    sa.column("message_id", sa.Integer()),
    sa.column("user_id", sa.String()),
    sa.column("user_name", sa.String()),
    sa.column("created_at", sa.DateTime()),
)
_FIELDS = ("message_id", "user_id", "user_name", "created_at")


def upgrade() -> None:
    op.create_table(
        "picks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(), nullable=False),
        sa.Column("user_name", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_id", "user_id"),
    )
    op.create_index(op.f("ix_picks_message_id"), "picks", ["message_id"], unique=False)
    op.create_index(op.f("ix_picks_user_id"), "picks", ["user_id"], unique=False)
    marks = _reactions.c.emoji == HIGHLIGHT_MARK
    moved = sa.select(*(_reactions.c[f] for f in _FIELDS)).where(marks)
    op.execute(_picks.insert().from_select(list(_FIELDS), moved))
    op.execute(_reactions.delete().where(marks))


def downgrade() -> None:
    as_reactions = sa.select(
        *(_picks.c[f] for f in _FIELDS[:3]),
        sa.literal(HIGHLIGHT_MARK, sa.String()),
        _picks.c.created_at,
    )
    fields = ["message_id", "user_id", "user_name", "emoji", "created_at"]
    op.execute(_reactions.insert().from_select(fields, as_reactions))
    op.drop_index(op.f("ix_picks_user_id"), table_name="picks")
    op.drop_index(op.f("ix_picks_message_id"), table_name="picks")
    op.drop_table("picks")
