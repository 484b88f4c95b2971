import datetime as dt

from sqlmodel import Field, SQLModel


class ApiToken(SQLModel, table=True):
    """A curator's bearer token. Only a SHA-256 of it is kept, and a prefix to find it by."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    role: str = Field(max_length=20)
    prefix: str = Field(max_length=16, index=True)
    hash: str = Field(max_length=64)
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None


class Change(SQLModel, table=True):
    """One write to one record: who, when, what, and the record before and after (JSON).

    A deletion is a tombstone: `after` is null. The id orders the change feed.
    """

    __tablename__ = "change"

    id: int | None = Field(default=None, primary_key=True)
    changed_at: dt.datetime = Field(index=True)
    actor: str = Field(max_length=100)
    resource: str = Field(max_length=40)
    key: str = Field(max_length=250, index=True)
    operation: str = Field(max_length=10)
    before: str | None = None
    after: str | None = None
    import_id: int | None = None  # the import_event of a bulk import's rows


class ImportEvent(SQLModel, table=True):
    """One bulk import (`treatykb load`, POST /v1/imports): who, when, the SHA-256 of the
    bundle's bytes, its counts per resource (JSON), and the first and last id of the
    change rows it wrote (each carries its `import_id`; none for a re-run that changed
    nothing)."""

    __tablename__ = "import_event"

    id: int | None = Field(default=None, primary_key=True)
    imported_at: dt.datetime
    actor: str = Field(max_length=100)
    sha256: str = Field(max_length=64)
    counts: str | None = None
    first_change: int | None = None
    last_change: int | None = None


class ImportJob(SQLModel, table=True):
    """An import run in the background (app/curation/jobs.py): where it is, and how it
    ended (the counts, or the problems that stopped it; JSON)."""

    __tablename__ = "import_job"

    id: str = Field(primary_key=True, max_length=32)
    actor: str = Field(max_length=100)
    dry_run: bool
    state: str = Field(max_length=10)  # running, done, failed
    phase: str | None = Field(default=None, max_length=16)
    done: int = 0
    total: int | None = None
    unit: str = Field(default="bytes", max_length=10)
    counts: str | None = None
    import_id: int | None = None  # its import_event, once done
    detail: str | None = None
    errors: str | None = None
    created_at: dt.datetime
    finished_at: dt.datetime | None = None
