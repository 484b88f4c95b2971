"""What loading shares: problems and their report, batches, YAML parsing, reference checks."""

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from app.importing.records import Record, refs_held, refs_of
from app.importing.resources import Resource

MAX_PROBLEMS = 50


class SeedYamlLoader(yaml.SafeLoader):
    """YAML 1.1 reads NO (Norway) and ON as booleans; only true/false are booleans here.
    Nor does it read dates: 2020-11-09 stays text, so that our validation sees what was
    written (2020-13-45 is our error with its line, not the YAML parser's)."""


_NOT_IMPLICIT = {"tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp"}
SeedYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in _NOT_IMPLICIT]
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
    line: int | None = None  # 1-based line of the field (or of the record) in the file

    def __str__(self) -> str:
        where = [self.file]
        if self.record is not None:
            record = f"record {self.record}" + (f" ({self.key})" if self.key else "")
            where.append(record + (f", line {self.line}" if self.line else ""))
        elif self.line:
            where.append(f"line {self.line}")
        if self.field:
            where.append(f"field '{self.field}'")
        return ": ".join([*where, self.message])


class LoadError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems[:MAX_PROBLEMS]
        super().__init__("\n".join(str(p) for p in self.problems))


class Item:
    """One record of a bundle and where it came from: the validated record, or its JSON
    form (`model_dump(mode="json")`) as a spool gives it back. Either is made from the other
    only when asked for: a bulk load of new records never rebuilds a model it validated."""

    __slots__ = ("file", "index", "_record", "_data", "_model")

    def __init__(
        self,
        file: str,
        index: int,
        record: Record | None = None,
        *,
        data: dict[str, Any] | None = None,
        model: type[Record] | None = None,
    ) -> None:
        if record is None and (data is None or model is None):
            raise TypeError("an Item needs a record, or its data and model")
        self.file, self.index = file, index
        self._record, self._data = record, data
        self._model: type[Record] = model or type(record)  # type: ignore[assignment]

    @property
    def record(self) -> Record:
        if self._record is None:
            self._record = self._model.model_validate(self._data)
        return self._record

    @property
    def data(self) -> dict[str, Any]:
        if self._data is None:
            self._data = self.record.model_dump(mode="json")
        return self._data


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class Batch:
    items: dict[str, list[Item]] = field(default_factory=dict)


def _field_path(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc)


def _raw_key(resource: Resource, entry: Any) -> str | None:
    if not isinstance(entry, dict):
        return None
    parts = [str(entry.get(k)) for k in resource.key if entry.get(k) is not None]
    return "/".join(parts) or None


def check_references(
    items: list[Item], resource: Resource, known: dict[str, set[Any]], problems: list[Problem]
) -> None:
    """Add a problem for every reference to a key that is neither stored nor in the bundle."""
    for item in items:
        if refs_held(resource.record, item.data, known):
            continue
        for loc, target, value in refs_of(resource.record, item.data):
            if value not in known[target] and len(problems) < MAX_PROBLEMS:
                label = "/".join(map(str, resource.key_in(item.data)))
                message = f"no {target} record with key {value!r}"
                problems.append(Problem(item.file, item.index, label, _field_path(loc), message))
