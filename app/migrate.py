"""Run the Alembic migrations from code (the CLI, `serve` and the tests all use this)."""

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, select
from sqlmodel import Session, col

from app import bundled_path
from app.db import is_sqlite
from app.models import SearchDocument, Treaty
from app.search.index import reindex_all


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(bundled_path("migrations")))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(engine: Engine, revision: str = "head", *, down: bool = False) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.connect() as connection:
        if is_sqlite(engine):
            # SQLite rebuilds a table to alter it; with foreign keys on, dropping the old copy
            # would cascade-delete every row that points at it. The pragma only works outside
            # a transaction.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        with connection.begin():
            config.attributes["connection"] = connection
            (command.downgrade if down else command.upgrade)(config, revision)
        if is_sqlite(engine):
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()


def upgrade(engine: Engine) -> None:
    migrate(engine)
    _index_existing_data(engine)


def _index_existing_data(engine: Engine) -> None:
    """A database that had records before search existed gets its search documents once."""
    with Session(engine) as session, session.begin():
        indexed = session.execute(select(col(SearchDocument.id)).limit(1)).first()
        has_data = session.execute(select(col(Treaty.slug)).limit(1)).first()
        if has_data and not indexed:
            reindex_all(session)


def pending_migrations(engine: Engine) -> bool:
    """True when the database is not at the newest revision the code knows."""
    script = ScriptDirectory.from_config(alembic_config(str(engine.url)))
    with engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    return current != set(script.get_heads())


def include_object(
    _obj: object, name: str | None, type_: str, reflected: bool, _compare_to: object
) -> bool:
    """Leave out what each backend's search index adds beside the models, and what history
    adds (app/history/tables.py, compared with its own declaration in the tests)."""
    if type_ == "table" and reflected and (name or "").startswith("search_fts"):
        return False
    if type_ == "table" and reflected and (name or "").endswith("__hist"):
        return False
    if type_ == "column" and reflected and name == "sys_from":
        return False
    return not (reflected and name in ("tsv", "ix_search_document_tsv"))
