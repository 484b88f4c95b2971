from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel


class SearchDocument(SQLModel, table=True):
    """One searchable record of any type, with the metadata search filters need.

    The loader keeps these rows in step with the records (`app.search.index.write`, their
    only writer): on SQLite it feeds an external-content FTS5 table in the same statements;
    on PostgreSQL a generated tsvector column with a GIN index follows by itself (both
    created by migrations, invisible to the ORM).
    """

    __tablename__ = "search_document"
    __table_args__ = (UniqueConstraint("type", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    type: str = Field(max_length=20, index=True)
    key: str = Field(max_length=120)
    label: str = Field(
        default="", description="What a hit shows: a name or title; '' for the body."
    )
    title: str = ""
    body: str = ""
    extra: str = ""
    treaties: str = Field(default="", description="Space-delimited slugs, padded: ' inf '.")
    speaker: str | None = Field(default=None, max_length=120)
    date: str | None = Field(default=None, max_length=10)
