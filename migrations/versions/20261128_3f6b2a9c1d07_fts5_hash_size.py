"""FTS5 holds 8 MiB of pending terms before writing a segment, not 1 MiB

FTS5 writes its pending terms to disk as a new segment whenever they pass `hashsize`
(default 1 MiB), and merges segments as they pile up. A bulk load's one INSERT of all
its documents (app.search.index.adds_deferred) then wrote hundreds of small segments: 200k
statements indexed in 1.44 s at 1 MiB, 0.96 s at 8 MiB, no better above. A write
transaction holds at most that much more memory. PostgreSQL has no FTS5: nothing to do.

Revision ID: 3f6b2a9c1d07
Revises: 9b3e7d41a0c5
Create Date: 2026-11-28 21:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "3f6b2a9c1d07"
down_revision: str | None = "9b3e7d41a0c5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HASH_SIZE = 8 * 1024 * 1024


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"INSERT INTO search_fts(search_fts, rank) VALUES ('hashsize', {HASH_SIZE})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DELETE FROM search_fts_config WHERE k = 'hashsize'")
