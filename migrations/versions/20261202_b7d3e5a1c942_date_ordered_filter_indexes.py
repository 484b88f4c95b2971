"""Every statement filter read in date order from an index of its own

A treaty's newest statements were found by walking every statement newest first and
testing each for a link to the treaty: 3.4 s cold at 1M statements for a treaty with
6,607 of them, the cost of the table, not of the treaty. statement_treaty now carries
the statement's date (written with the link by the importer) under an index (treaty_slug,
said_on, statement_id), which reads a treaty's page and counts it by itself. Country and
article filters get (column, said_on, id) indexes, as speakers have; each replaces the
single-column index it starts with.

Revision ID: b7d3e5a1c942
Revises: a4c9e2f7b318
Create Date: 2026-12-02 20:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "b7d3e5a1c942"
down_revision: str | None = "a4c9e2f7b318"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REPLACED = (
    ("ix_statement_country_code", "ix_statement_country_said_on_id", "country_code"),
    ("ix_statement_article_slug", "ix_statement_article_said_on_id", "article_slug"),
)


def upgrade() -> None:
    said_on = sqlmodel.sql.sqltypes.AutoString(length=10)
    op.add_column("statement_treaty", sa.Column("said_on", said_on, nullable=True))
    op.execute(
        "UPDATE statement_treaty SET said_on = "
        "(SELECT said_on FROM statement WHERE statement.id = statement_treaty.statement_id)"
    )
    with op.batch_alter_table("statement_treaty") as batch:
        batch.alter_column("said_on", existing_type=said_on, nullable=False)
        batch.drop_index("ix_statement_treaty_treaty_slug")
        batch.create_index(
            "ix_statement_treaty_treaty_said_on", ["treaty_slug", "said_on", "statement_id"]
        )
    with op.batch_alter_table("statement") as batch:
        for old, new, column in REPLACED:
            batch.drop_index(old)
            batch.create_index(new, [column, "said_on", "id"])


def downgrade() -> None:
    with op.batch_alter_table("statement") as batch:
        for old, new, column in REPLACED:
            batch.drop_index(new)
            batch.create_index(old, [column])
    with op.batch_alter_table("statement_treaty") as batch:
        batch.drop_index("ix_statement_treaty_treaty_said_on")
        batch.create_index("ix_statement_treaty_treaty_slug", ["treaty_slug"])
        batch.drop_column("said_on")
