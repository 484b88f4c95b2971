"""Bundles too large for memory: NDJSON lines or a zip of per-resource files (YAML, JSON,
NDJSON or CSV), validated record by record and spooled to disk per resource, then handed
to the writer in chunks. Memory holds one chunk, never the bundle.
"""

import csv
import io
import json
import tempfile
import typing
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import orjson
import yaml
from pydantic import BaseModel, ValidationError

from app.importing.loader import (
    MAX_PROBLEMS,
    Item,
    LoadError,
    Problem,
    SeedYamlLoader,
    _field_path,
    _raw_key,
)
from app.importing.resources import BY_NAME, RESOURCES, Resource

CHUNK = 1000


class Spool:
    """Validated records on disk, a file per resource: one line each, the JSON array
    [file label, position, record's JSON form]."""

    def __init__(self) -> None:
        self.files: dict[str, IO[bytes]] = {}
        self.problems: list[Problem] = []
        self.keys: dict[str, set[tuple[Any, ...]]] = {}
        self.count = 0

    def add(self, name: str, raw: Any, label: str, index: int) -> None:
        resource = BY_NAME.get(name)
        if resource is None:
            known = ", ".join(r.name for r in RESOURCES)
            self.problem(
                Problem(label, index, None, None, f"unknown resource {name!r}; use {known}")
            )
            return
        try:
            record = resource.record.model_validate(raw)
        except ValidationError as exc:
            for error in exc.errors():
                field = _field_path(error["loc"]) or None
                self.problem(Problem(label, index, _raw_key(resource, raw), field, error["msg"]))
            return
        key = resource.key_of(record)
        if key in self.keys.setdefault(name, set()):
            self.problem(Problem(label, index, "/".join(map(str, key)), None, "duplicate key"))
            return
        self.keys[name].add(key)
        if name not in self.files:
            self.files[name] = tempfile.TemporaryFile("w+b")
        where = orjson.dumps([label, index])[:-1]  # JSON escapes newlines: one line each
        self.files[name].write(b"%s,%s]\n" % (where, record.model_dump_json().encode()))
        self.count += 1

    def problem(self, problem: Problem) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)

    def raise_problems(self) -> None:
        if self.problems:
            raise LoadError(self.problems)

    def chunks(self, name: str) -> Iterator[list[Item]]:
        file = self.files[name]
        file.seek(0)
        model = BY_NAME[name].record
        chunk: list[Item] = []
        for line in file:
            # Validated on the way in: read back as data, rebuilt as a model only if needed.
            label, index, data = orjson.loads(line)
            chunk.append(Item(label, index, data=data, model=model))
            if len(chunk) == CHUNK:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    def close(self) -> None:
        for file in self.files.values():
            file.close()


def spool_ndjson(spool: Spool, lines: Iterable[bytes | str], label: str) -> None:
    """Lines of {"resource": "statements", "record": {...}}."""
    for index, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            entry = orjson.loads(line)  # bytes as they come; invalid UTF-8 is an error too
        except ValueError as exc:
            spool.problem(Problem(label, index, None, None, f"not JSON: {exc}"))
            continue
        if not isinstance(entry, dict) or set(entry) != {"resource", "record"}:
            spool.problem(
                Problem(label, index, None, None, 'expected {"resource": ..., "record": {...}}')
            )
            continue
        spool.add(str(entry["resource"]), entry["record"], label, index)


def _list_fields(resource: Resource) -> dict[str, bool]:
    """Fields that are lists, and whether their items are nested records (JSON in CSV)."""
    lists = {}
    for name, info in resource.record.model_fields.items():
        if typing.get_origin(info.annotation) is list:
            (item,) = typing.get_args(info.annotation)
            lists[name] = isinstance(item, type) and issubclass(item, BaseModel)
    return lists


def _csv_records(resource: Resource, text: Iterable[str]) -> Iterator[dict[str, Any]]:
    """CSV as exported: a list is `;`-joined slugs, a list of records is JSON; empty is absent."""
    lists = _list_fields(resource)
    for row in csv.DictReader(text):
        record: dict[str, Any] = {}
        for name, value in row.items():
            if value is None or value == "":
                continue
            if name in lists:
                record[name] = json.loads(value) if lists[name] else value.split(";")
            else:
                record[name] = value
        yield record


def spool_zip(spool: Spool, archive: zipfile.ZipFile) -> None:
    for member in sorted(archive.namelist()):
        path = Path(member)
        if member.endswith("/") or path.name.startswith(".") or path.name == "README.md":
            continue
        name, suffix = path.stem, path.suffix.lower()
        resource = BY_NAME.get(name)
        if resource is None or suffix not in (".yaml", ".yml", ".json", ".ndjson", ".csv"):
            spool.problem(
                Problem(member, None, None, None, "not a <resource>.yaml|json|ndjson|csv file")
            )
            continue
        with archive.open(member) as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
            _spool_text(spool, resource, text, member, suffix)


SUFFIXES = (".yaml", ".yml", ".json", ".ndjson", ".csv", ".zip")


def _files(paths: list[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from (
                p for p in sorted(path.iterdir()) if p.stem in BY_NAME and p.suffix in SUFFIXES
            )
        else:
            yield path


def spool_paths(spool: Spool, paths: list[Path]) -> None:
    """Files and directories as the CLI takes them: <resource>.yaml|json|ndjson|csv or a zip."""
    for path in _files(paths):
        label = str(path)
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                spool_zip(spool, archive)
            continue
        if path.suffix == ".ndjson" and path.stem not in BY_NAME:
            with path.open("rb") as lines:
                spool_ndjson(spool, lines, label)
            continue
        resource = BY_NAME.get(path.stem)
        if resource is None or path.suffix not in SUFFIXES:
            known = ", ".join(f"{r.name}.yaml" for r in RESOURCES)
            spool.problem(Problem(label, None, None, None, f"unknown resource; use {known}"))
            continue
        try:
            with path.open(encoding="utf-8", newline="") as text:
                _spool_text(spool, resource, text, label, path.suffix)
        except (OSError, yaml.YAMLError, ValueError) as exc:
            spool.problem(Problem(label, None, None, None, f"cannot read: {exc}"))


def _spool_text(spool: Spool, resource: Resource, text: IO[str], label: str, suffix: str) -> None:
    if suffix == ".csv":
        records: Iterable[Any] = _csv_records(resource, text)
    elif suffix == ".ndjson":
        records = (json.loads(line) for line in text if line.strip())
    else:
        loaded = yaml.load(text, Loader=SeedYamlLoader)
        if not isinstance(loaded, list):
            spool.problem(Problem(label, None, None, None, "expected a list of records"))
            return
        records = loaded
    for index, record in enumerate(records, start=1):
        spool.add(resource.name, record, label, index)
