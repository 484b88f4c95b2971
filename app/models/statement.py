import datetime as dt

from sqlmodel import Field, Index, Relationship, SQLModel

from app.models.article import Article
from app.models.base import NO_LAZY, ref, slug_key
from app.models.country import Country
from app.models.person import Person
from app.models.source import Source
from app.models.treaty import Treaty


class StatementTreaty(SQLModel, table=True):
    """A statement's link to a treaty, with the statement's date copied onto it (written
    with the link, app/importing/resources.py Link.copies): a treaty's statements are then
    read newest first, and counted, from this table's one index, however many statements
    other treaties have."""

    __tablename__ = "statement_treaty"
    __table_args__ = (
        Index("ix_statement_treaty_treaty_said_on", "treaty_slug", "said_on", "statement_id"),
    )
    statement_id: str = ref("statement.id", primary_key=True, index=False)
    treaty_slug: str = ref("treaty.slug", primary_key=True, index=False)
    said_on: str = Field(max_length=10)


class StatementSource(SQLModel, table=True):
    __tablename__ = "statement_source"
    statement_id: str = ref("statement.id", primary_key=True, index=False)
    source_slug: str = ref("source.slug", primary_key=True)


class Statement(SQLModel, table=True):
    """Words an official said, as quoted by a source, with who, when and where."""

    __tablename__ = "statement"
    __table_args__ = (
        Index("ix_statement_said_on_id", "said_on", "id"),
        Index("ix_statement_speaker_said_on_id", "speaker_slug", "said_on", "id"),
        Index("ix_statement_country_said_on_id", "country_code", "said_on", "id"),
        Index("ix_statement_article_said_on_id", "article_slug", "said_on", "id"),
    )

    id: str = slug_key()
    text: str
    # Indexed as the first column of ix_statement_speaker_said_on_id, which serves it.
    speaker_slug: str | None = ref("person.slug", nullable=True, index=False)
    speaker_role: str | None = None
    # Each indexed first in a (column, said_on, id) index: a filter on it reads a page in
    # date order and counts from that index alone.
    country_code: str | None = ref("country.code", nullable=True, index=False)
    said_on: str = Field(max_length=10)
    venue: str | None = None
    article_slug: str | None = ref("article.slug", nullable=True, index=False)
    note: str | None = None
    # Copies of the link tables' targets, sorted and ';'-joined (NULL for none), written
    # with the row (app/importing/resources.py, Link.mirror): a statement's row then holds
    # everything a list or CSV export prints, with no two index seeks per row to gather them.
    treaty_slugs: str | None = None
    source_slugs: str | None = None

    created_at: dt.datetime | None = Field(default=None, description="First written.")
    updated_at: dt.datetime | None = Field(default=None, description="Last changed.")
    speaker: Person | None = Relationship(sa_relationship_kwargs=NO_LAZY)
    country: Country | None = Relationship(sa_relationship_kwargs=NO_LAZY)
    article: Article | None = Relationship(sa_relationship_kwargs=NO_LAZY)
    treaties: list[Treaty] = Relationship(
        link_model=StatementTreaty, sa_relationship_kwargs=NO_LAZY
    )
    sources: list[Source] = Relationship(link_model=StatementSource, sa_relationship_kwargs=NO_LAZY)


class StatementTally(SQLModel, table=True):
    """How many statements have each facet value (`facet`, `value`), among all of them
    (`given` and `given_value` empty) or those with one value of one key filter (`given`
    treaty, speaker, country or article): the facet counts of a list with at most one
    such filter, read here in a few rows instead of counted over the statements. Kept by
    the one write path, in the same transaction (app/statements/tallies.py)."""

    __tablename__ = "statement_tally"
    # A context's most frequent values read backwards: a menu's top 50 read, not sorted.
    __table_args__ = (
        Index("ix_statement_tally_top", "given", "given_value", "facet", "n", "value"),
    )
    given: str = Field(primary_key=True, max_length=16)
    given_value: str = Field(primary_key=True)
    facet: str = Field(primary_key=True, max_length=16)
    value: str = Field(primary_key=True)  # '' for a date less precise than the facet
    n: int
