"""Statement counts per facet value, per context (all, or one treaty, speaker, country
or article): the facet counts of a list with at most one such filter

Counted over the statements, the four facets of a treaty's list took up to 3 s at 1M
statements (every statement of a large treaty joined to its row). The table is filled
here from the statements already stored, by the same GROUP BYs a bulk load runs
(app/statements/tallies.py), and kept by the write path from then on.

Revision ID: c5e8a2d4f716
Revises: b7d3e5a1c942
Create Date: 2026-12-02 23:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from app.statements.tallies import rebuild_sql

revision: str = "c5e8a2d4f716"
down_revision: str | None = "b7d3e5a1c942"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    text = sqlmodel.sql.sqltypes.AutoString
    op.create_table(
        "statement_tally",
        sa.Column("given", text(length=16), nullable=False),
        sa.Column("given_value", text(), nullable=False),
        sa.Column("facet", text(length=16), nullable=False),
        sa.Column("value", text(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("given", "given_value", "facet", "value"),
    )
    op.create_index(
        "ix_statement_tally_top",
        "statement_tally",
        ["given", "given_value", "facet", "n", "value"],
    )
    for sql in rebuild_sql():
        op.execute(sql)


def downgrade() -> None:
    op.drop_table("statement_tally")
