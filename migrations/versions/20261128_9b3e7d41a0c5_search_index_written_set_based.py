"""search index written set-based by the writer, not row by row by triggers

On SQLite an AFTER INSERT trigger fed FTS5 one row per statement: 90 µs a document, or
about 90 s of a million-statement load. One INSERT ... SELECT per chunk of documents does
the same indexing in about a quarter of the time. `app.search.index.reindex`, the only
writer of search_document, now keeps search_fts in step itself. PostgreSQL's generated
tsvector column is unchanged.

Revision ID: 9b3e7d41a0c5
Revises: 7a1f0c2d9e34
Create Date: 2026-11-28 14:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "9b3e7d41a0c5"
down_revision: str | None = "7a1f0c2d9e34"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGGERS = {
    "search_document_ai": """CREATE TRIGGER search_document_ai AFTER INSERT ON search_document
    BEGIN
        INSERT INTO search_fts(rowid, title, body, extra)
        VALUES (new.id, new.title, new.body, new.extra);
    END""",
    "search_document_ad": """CREATE TRIGGER search_document_ad AFTER DELETE ON search_document
    BEGIN
        INSERT INTO search_fts(search_fts, rowid, title, body, extra)
        VALUES ('delete', old.id, old.title, old.body, old.extra);
    END""",
    "search_document_au": """CREATE TRIGGER search_document_au AFTER UPDATE ON search_document
    BEGIN
        INSERT INTO search_fts(search_fts, rowid, title, body, extra)
        VALUES ('delete', old.id, old.title, old.body, old.extra);
        INSERT INTO search_fts(rowid, title, body, extra)
        VALUES (new.id, new.title, new.body, new.extra);
    END""",
}


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for sql in TRIGGERS.values():
            op.execute(sql)
