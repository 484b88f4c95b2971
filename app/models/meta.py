import datetime as dt

from sqlmodel import Field, SQLModel


class DataVersion(SQLModel, table=True):
    """One row: a counter every write bumps, so caches and citations can name a state."""

    __tablename__ = "data_version"

    id: int = Field(default=1, primary_key=True)
    version: int = 0
    changed_at: dt.datetime
