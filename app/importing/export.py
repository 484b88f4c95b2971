"""Write what the database holds back out in the seed-file format, one file per resource."""

from pathlib import Path

import yaml
from sqlalchemy import Engine
from sqlmodel import Session

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
