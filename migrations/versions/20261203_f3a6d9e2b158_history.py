"""History: the record tables system-versioned (a sys_from column, a __hist twin, triggers),
a log of data versions, and the oldest version a past read can be answered at

Revision ID: f3a6d9e2b158
Revises: e2b5c8d1f047
Create Date: 2026-12-03 10:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from app.history.tables import install, uninstall

revision: str = "f3a6d9e2b158"
down_revision: str | None = "e2b5c8d1f047"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "data_version_log",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("made_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("changes", sa.Integer(), nullable=False),
        sa.Column("last_change", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("version"),
    )
    op.create_index("ix_data_version_log_made_at", "data_version_log", ["made_at"])
    op.add_column("data_version", sa.Column("history_from", sa.Integer(), nullable=True))
    # History begins at the version the database is at: its rows are that version's.
    op.execute(
        "INSERT INTO data_version_log (version, made_at, actor, changes, last_change) "
        "SELECT version, changed_at, 'history', 0, (SELECT max(id) FROM change) "
        "FROM data_version WHERE id = 1"
    )
    op.execute("UPDATE data_version SET history_from = version WHERE id = 1")
    install(op.get_bind())


def downgrade() -> None:
    uninstall(op.get_bind())
    with op.batch_alter_table("data_version") as batch:
        batch.drop_column("history_from")
    op.drop_index("ix_data_version_log_made_at", "data_version_log")
    op.drop_table("data_version_log")
