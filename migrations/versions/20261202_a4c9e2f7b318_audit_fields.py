"""What the 2026-12 data audit needed the records to say

- event.part_of: the act an event is a step of (a law carrying out a suspension), so that
  one act is one event and /status counts it once.
- participation.party_date_unknown: a state known to be a party whose date of becoming one
  is unknown (Sweden in the Open Skies Treaty), instead of an invented boundary.
- person_position.end_by_on and still_held_on: a bound on an end that is not known to the
  day, and the latest day a source shows the position held, so that a position without a
  known end never reads as held today.

Revision ID: a4c9e2f7b318
Revises: 8d2a5c7e1f90
Create Date: 2026-12-02 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "a4c9e2f7b318"
down_revision: str | None = "8d2a5c7e1f90"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _text(name: str, length: int) -> "sa.Column[str]":
    return sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=length), nullable=True)


def upgrade() -> None:
    op.add_column("event", _text("part_of", 120))
    op.add_column(
        "participation",
        sa.Column("party_date_unknown", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("person_position", _text("end_by_on", 10))
    op.add_column("person_position", _text("still_held_on", 10))


def downgrade() -> None:
    with op.batch_alter_table("person_position") as batch:
        batch.drop_column("still_held_on")
        batch.drop_column("end_by_on")
    with op.batch_alter_table("participation") as batch:
        batch.drop_column("party_date_unknown")
    with op.batch_alter_table("event") as batch:
        batch.drop_column("part_of")
