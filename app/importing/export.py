"""Write what the database holds back out in the seed-file format, one file per resource."""

from collections.abc import Iterator
from pathlib import Path

import yaml
from sqlalchemy import Engine, select
from sqlmodel import Session

from app.importing.records import Record
from app.importing.resources import RESOURCES


def export_all(engine: Engine, directory: Path) -> dict[str, int]:
    directory.mkdir(parents=True, exist_ok=True)
    counts = {}
    with Session(engine) as session:
        for resource in RESOURCES:
            records = resource.read_many(session)
            data = [
                record.model_dump(mode="json", exclude_defaults=True)
                for _, record in sorted(records.items())
            ]
            text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
            (directory / f"{resource.name}.yaml").write_text(text, encoding="utf-8")
            counts[resource.name] = len(data)
    return counts


def iter_records(engine: Engine, chunk: int = 1000) -> Iterator[tuple[str, Record]]:
    """Every record, resource by resource in load order, a chunk at a time."""
    with Session(engine) as session:
        for resource in RESOURCES:
            columns = [resource.column(k) for k in resource.key]
            query = select(*columns).filter_by(**resource.only).order_by(*columns)
            keys = [tuple(row) for row in session.execute(query)]
            for start in range(0, len(keys), chunk):
                records = resource.read_many(session, keys[start : start + chunk])
                for key in keys[start : start + chunk]:
                    yield resource.name, records[key]
                session.expunge_all()
