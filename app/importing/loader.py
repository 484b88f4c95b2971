"""Check every record of a batch, then write all of it in one transaction, or nothing."""

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from sqlmodel import Session

from app.importing.records import Record, refs_of
from app.importing.resources import BY_NAME, RESOURCES, Resource, existing_keys

MAX_PROBLEMS = 50


class SeedYamlLoader(yaml.SafeLoader):
    """YAML 1.1 reads NO (Norway) and ON as booleans; only true/false are booleans here."""


SeedYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
SeedYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


@dataclass(frozen=True)
class Problem:
    file: str
    record: int | None  # 1-based position in the file
    key: str | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = [self.file]
        if self.record is not None:
            where.append(f"record {self.record}" + (f" ({self.key})" if self.key else ""))
        if self.field:
            where.append(f"field '{self.field}'")
        return ": ".join([*where, self.message])


class LoadError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems[:MAX_PROBLEMS]
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class Item:
    file: str
    index: int
    record: Record


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class Batch:
    items: dict[str, list[Item]] = field(default_factory=dict)


def _yaml_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(p for p in sorted(path.glob("*.y*ml")) if p.stem in BY_NAME)
        else:
            files.append(path)
    return files


def _field_path(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc)


def _parse_file(path: Path, problems: list[Problem]) -> tuple[Resource, list[Any]] | None:
    resource = BY_NAME.get(path.stem)
    if resource is None:
        known = ", ".join(f"{r.name}.yaml" for r in RESOURCES)
        problems.append(Problem(str(path), None, None, None, f"unknown resource; use {known}"))
        return None
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=SeedYamlLoader)
    except (OSError, yaml.YAMLError) as exc:
        problems.append(Problem(str(path), None, None, None, f"cannot read: {exc}"))
        return None
    if not isinstance(data, list):
        problems.append(Problem(str(path), None, None, None, "expected a list of records"))
        return None
    return resource, data


def validate_records(
    resource: Resource, name: str, raw: list[Any], problems: list[Problem]
) -> list[Item]:
    items = []
    for index, entry in enumerate(raw, start=1):
        key = _raw_key(resource, entry)
        try:
            items.append(Item(name, index, resource.record.model_validate(entry)))
        except ValidationError as exc:
            for error in exc.errors():
                field_name = _field_path(error["loc"]) or None
                problems.append(Problem(name, index, key, field_name, error["msg"]))
    return items


def _raw_key(resource: Resource, entry: Any) -> str | None:
    if not isinstance(entry, dict):
        return None
    parts = [str(entry.get(k)) for k in resource.key if entry.get(k) is not None]
    return "/".join(parts) or None


def read_batch(paths: list[Path]) -> Batch:
    """Parse and validate files; raise LoadError naming every bad file, record and field."""
    problems: list[Problem] = []
    batch = Batch()
    for path in _yaml_files(paths):
        parsed = _parse_file(path, problems)
        if parsed:
            resource, raw = parsed
            items = validate_records(resource, str(path), raw, problems)
            batch.items.setdefault(resource.name, []).extend(items)
    _check_duplicates(batch, problems)
    if problems:
        raise LoadError(problems)
    return batch


def _check_duplicates(batch: Batch, problems: list[Problem]) -> None:
    for name, items in batch.items.items():
        resource = BY_NAME[name]
        seen = Counter(resource.key_of(item.record) for item in items)
        for item in items:
            key = resource.key_of(item.record)
            if seen[key] > 1:
                label = "/".join(map(str, key))
                problems.append(Problem(item.file, item.index, label, None, "duplicate key"))


def _check_references(session: Session, batch: Batch, problems: list[Problem]) -> None:
    known = {res.name: existing_keys(session, res) for res in RESOURCES}
    for name, items in batch.items.items():
        resource = BY_NAME[name]
        for item in items:
            key = resource.key_of(item.record)
            known[name].add(key[0] if len(key) == 1 else key)
            if name == "articles":
                known["sources"].add(key[0])
    for name, items in batch.items.items():
        for item in items:
            for loc, target, value in refs_of(item.record):
                if value not in known[target]:
                    label = "/".join(map(str, BY_NAME[name].key_of(item.record)))
                    message = f"no {target} record with key {value!r}"
                    problems.append(
                        Problem(item.file, item.index, label, _field_path(loc), message)
                    )
