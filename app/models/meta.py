import datetime as dt

from sqlmodel import Field, SQLModel


class DataVersion(SQLModel, table=True):
    """One row: a counter every write bumps, so caches and citations can name a state."""

    __tablename__ = "data_version"

    id: int = Field(default=1, primary_key=True)
    version: int = 0
    changed_at: dt.datetime
    # The oldest version a past read can be answered at (`?as_of=`): history began, or
    # was pruned, there (app/history). Null: no history is kept yet.
    history_from: int | None = None


class DataVersionLog(SQLModel, table=True):
    """One row per data version: when it was made, by whom, and how many record changes
    it holds (those with ids up to `last_change`). `GET /v1/versions` lists them; an
    `as_of` timestamp resolves to the version in force then."""

    __tablename__ = "data_version_log"

    version: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    made_at: dt.datetime = Field(index=True)
    actor: str = Field(max_length=100)
    changes: int
    last_change: int | None = None
