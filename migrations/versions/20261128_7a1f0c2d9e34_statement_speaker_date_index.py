"""statement (speaker, said_on, id) index

A speaker's statements in a date range, newest first, come straight off this index in
page order: no sort of every statement the speaker made.

Revision ID: 7a1f0c2d9e34
Revises: d80c3223c637
Create Date: 2026-11-28 05:45:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "7a1f0c2d9e34"
down_revision: str | None = "d80c3223c637"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_statement_speaker_said_on_id", "statement", ["speaker_slug", "said_on", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_statement_speaker_said_on_id", table_name="statement")
