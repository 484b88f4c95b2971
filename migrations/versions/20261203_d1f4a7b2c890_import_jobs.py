"""Import jobs: a large bundle sent to POST /v1/imports is answered 202 at once and
loaded in the background; its row says where the load is and how it ended

Revision ID: d1f4a7b2c890
Revises: c5e8a2d4f716
Create Date: 2026-12-03 02:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "d1f4a7b2c890"
down_revision: str | None = "c5e8a2d4f716"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    text = sqlmodel.sql.sqltypes.AutoString
    op.create_table(
        "import_job",
        sa.Column("id", text(length=32), nullable=False),
        sa.Column("actor", text(length=100), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("state", text(length=10), nullable=False),
        sa.Column("phase", text(length=16), nullable=True),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=True),
        sa.Column("unit", text(length=10), nullable=False),
        sa.Column("counts", text(), nullable=True),
        sa.Column("detail", text(), nullable=True),
        sa.Column("errors", text(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("finished_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("import_job")
