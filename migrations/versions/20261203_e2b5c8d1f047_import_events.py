"""Import events: a bulk import is one row (who, when, the bundle's SHA-256, its counts,
the range of change ids it wrote), and each change row it wrote names it

Revision ID: e2b5c8d1f047
Revises: d1f4a7b2c890
Create Date: 2026-12-03 04:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "e2b5c8d1f047"
down_revision: str | None = "d1f4a7b2c890"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    text = sqlmodel.sql.sqltypes.AutoString
    op.create_table(
        "import_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("imported_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("actor", text(length=100), nullable=False),
        sa.Column("sha256", text(length=64), nullable=False),
        sa.Column("counts", text(), nullable=True),
        sa.Column("first_change", sa.Integer(), nullable=True),
        sa.Column("last_change", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    # A nullable column with no default: on both engines, no row is rewritten.
    op.add_column("change", sa.Column("import_id", sa.Integer(), nullable=True))
    op.add_column("import_job", sa.Column("import_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    for table in ("import_job", "change"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("import_id")
    op.drop_table("import_event")
