"""Shared column helpers and the constraint naming convention Alembic relies on."""

from typing import Any

from sqlmodel import Field, SQLModel

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SLUG_LENGTH = 120

# Relationships never load implicitly: a missing selectinload is an error, not an N+1.
NO_LAZY: dict[str, Any] = {"lazy": "raise"}


def partial_date(*, index: bool = False) -> Any:
    """A date of day, month or year precision, stored as its ISO 8601 string."""
    return Field(default=None, max_length=10, index=index)


def slug_key() -> Any:
    return Field(primary_key=True, max_length=SLUG_LENGTH)


def ref(target: str, *, index: bool = True, nullable: bool = False, **kwargs: Any) -> Any:
    return Field(
        default=None if nullable else ...,
        foreign_key=target,
        max_length=SLUG_LENGTH,
        index=index,
        ondelete="SET NULL" if nullable else "CASCADE",
        **kwargs,
    )
