"""Migrations are the schema: the migrated database must match the models exactly."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from app.db import make_engine
from app.migrate import include_object, pending_migrations, upgrade
from app.models import SQLModel


def test_migrated_schema_matches_the_models(empty_url: str) -> None:
    engine = make_engine(empty_url)
    with engine.connect() as connection:
        options = {"compare_type": True, "include_object": include_object}
        context = MigrationContext.configure(connection, opts=options)
        differences = compare_metadata(context, SQLModel.metadata)
    engine.dispose()
    assert differences == []


def test_upgrade_is_idempotent_and_nothing_is_pending(empty_url: str) -> None:
    engine = make_engine(empty_url)
    upgrade(engine)
    assert not pending_migrations(engine)
    engine.dispose()
