"""Drop statement(speaker_slug): statement(speaker_slug, said_on, id) already serves it

Every lookup by speaker (a speaker's statements, the foreign key's ON DELETE SET NULL)
is served by the leading column of ix_statement_speaker_said_on_id. The single-column
index only cost every statement written one more b-tree insert, and space.

Revision ID: 8d2a5c7e1f90
Revises: 6c4e1f2a8b53
Create Date: 2026-11-29 01:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "8d2a5c7e1f90"
down_revision: str | None = "6c4e1f2a8b53"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_statement_speaker_slug", table_name="statement")


def downgrade() -> None:
    op.create_index("ix_statement_speaker_slug", "statement", ["speaker_slug"])
