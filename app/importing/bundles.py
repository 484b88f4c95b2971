"""Bundles too large for memory: NDJSON lines or a zip of per-resource files (YAML, JSON,
NDJSON or CSV), validated record by record and spooled to disk per resource, then handed
to the writer in chunks. Memory holds one chunk, never the bundle.
"""

import csv
import functools
import io
import itertools
import json
import multiprocessing
import tempfile
import typing
import zipfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import orjson
import yaml
from pydantic import BaseModel, ValidationError

from app.importing.lines import LineOf, Located, NotAList, json_array_records, yaml_records
from app.importing.loader import (
    MAX_PROBLEMS,
    Item,
    LoadError,
    Problem,
    SeedYamlLoader,
    _field_path,
    _raw_key,
)
from app.importing.progress import Progress
from app.importing.resources import BY_NAME, RESOURCES, Resource

CHUNK = 1000


class Spool:
    """Validated records on disk, files per resource (one, or one per part of a file
    validated in parts), read back in order: one line each, the JSON array [file label,
    position, record's JSON form]. `directory`, if given, holds the files under their
    resource's name (a part validated in another process hands them over that way)."""

    def __init__(self, directory: Path | None = None) -> None:
        self.files: dict[str, list[IO[bytes]]] = {}
        self.problems: list[Problem] = []
        self.keys: dict[str, set[tuple[Any, ...]]] = {}
        self.count = 0
        self.directory = directory

    def add(
        self, name: str, raw: Any, label: str, index: int, line_of: LineOf | int | None = None
    ) -> None:
        """Validate and spool one record; `line_of` gives the line of a field by its path
        (or is the record's one line), looked up only for a problem."""
        resource = BY_NAME.get(name)
        if resource is None:
            known = ", ".join(r.name for r in RESOURCES)
            message = f"unknown resource {name!r}; use {known}"
            self.problem(Problem(label, index, None, None, message, _line(line_of)))
            return
        try:
            record = resource.record.model_validate(raw)
        except ValidationError as exc:
            raw_key = _raw_key(resource, raw)
            for error in exc.errors():
                field = _field_path(error["loc"]) or None
                line = _line(line_of, error["loc"])
                problem = Problem(label, index, raw_key, field, error["msg"], line)
                self.problem(problem)
            return
        key = resource.key_of(record)
        if key in self.keys.setdefault(name, set()):
            label_key = "/".join(map(str, key))
            self.problem(Problem(label, index, label_key, None, "duplicate key", _line(line_of)))
            return
        self.keys[name].add(key)
        if name not in self.files:
            if self.directory is None:
                self.files[name] = [tempfile.TemporaryFile("w+b")]
            else:
                self.files[name] = [(self.directory / name).open("w+b")]
        where = orjson.dumps([label, index])[:-1]  # JSON escapes newlines: one line each
        self.files[name][-1].write(b"%s,%s]\n" % (where, record.model_dump_json().encode()))
        self.count += 1

    def problem(self, problem: Problem) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)

    def raise_problems(self) -> None:
        if self.problems:
            raise LoadError(self.problems)

    def chunks(self, name: str) -> Iterator[list[Item]]:
        model = BY_NAME[name].record
        chunk: list[Item] = []
        for file in self.files[name]:
            file.seek(0)
            for line in file:
                # Validated on the way in: read back as data, rebuilt as a model if needed.
                label, index, data = orjson.loads(line)
                chunk.append(Item(label, index, data=data, model=model))
                if len(chunk) == CHUNK:
                    yield chunk
                    chunk = []
        if chunk:
            yield chunk

    def take(self, part: "Spool") -> None:
        """Append a part's records (with no key the records so far hold) after these, and
        its problems after theirs: what one spool would hold after its lines."""
        for problem in part.problems:
            self.problem(problem)
        for name, files in part.files.items():
            self.files.setdefault(name, []).extend(files)
        for name, keys in part.keys.items():
            self.keys.setdefault(name, set()).update(keys)
        self.count += part.count

    def close(self) -> None:
        for files in self.files.values():
            for file in files:
                file.close()


def _line(line_of: LineOf | int | None, loc: tuple[Any, ...] = ()) -> int | None:
    """The line of the field at `loc` (or of the record)."""
    return line_of(loc) if callable(line_of) else line_of


def spool_ndjson(
    spool: Spool, lines: Iterable[bytes | str], label: str, first: int = 1,
    read: Callable[[int], None] | None = None,
) -> None:  # fmt: skip
    """Lines of {"resource": "statements", "record": {...}}; the first is line `first`.
    `read` hears of the bytes read, every READ_EVERY lines."""
    size = 0
    for index, line in enumerate(lines, start=first):
        size += len(line)
        if read is not None and index % READ_EVERY == 0:
            read(size)
            size = 0
        if not line.strip():
            continue
        try:
            entry = orjson.loads(line)  # bytes as they come; invalid UTF-8 is an error too
        except ValueError as exc:
            spool.problem(Problem(label, index, None, None, f"not JSON: {exc}", index))
            continue
        if not isinstance(entry, dict) or set(entry) != {"resource", "record"}:
            message = 'expected {"resource": ..., "record": {...}}'
            spool.problem(Problem(label, index, None, None, message, index))
            continue
        spool.add(str(entry["resource"]), entry["record"], label, index, index)
    if read is not None:
        read(size)


READ_EVERY = 5_000


def _list_fields(resource: Resource) -> dict[str, bool]:
    """Fields that are lists, and whether their items are nested records (JSON in CSV)."""
    lists = {}
    for name, info in resource.record.model_fields.items():
        if typing.get_origin(info.annotation) is list:
            (item,) = typing.get_args(info.annotation)
            lists[name] = isinstance(item, type) and issubclass(item, BaseModel)
    return lists


def _csv_records(resource: Resource, text: Iterable[str]) -> Iterator[Located]:
    """CSV as exported: a list is `;`-joined slugs, a list of records is JSON; empty is absent.
    Each row with the line it starts on."""
    lists = _list_fields(resource)
    reader = csv.DictReader(text)
    _ = reader.fieldnames  # reads the header, so that line_num counts it
    while True:
        start = reader.line_num + 1
        row = next(reader, None)
        if row is None:
            return
        record: dict[str, Any] = {}
        for name, value in row.items():
            if value is None or value == "":
                continue
            if name in lists:
                record[name] = json.loads(value) if lists[name] else value.split(";")
            else:
                record[name] = value
        yield record, start


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


def files_of(paths: list[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from (
                p for p in sorted(path.iterdir()) if p.stem in BY_NAME and p.suffix in SUFFIXES
            )
        else:
            yield path


def spool_paths(
    spool: Spool, paths: list[Path], *, workers: int = 1, progress: Progress | None = None
) -> None:
    """Files and directories as the CLI takes them: <resource>.yaml|json|ndjson|csv or a zip.
    With `workers` > 1, a large NDJSON file is validated in parts, a process each.
    `progress` hears of the bytes validated."""
    files = list(files_of(paths))
    progress = progress or Progress()
    progress.phase("validate", sum(p.stat().st_size for p in files if p.is_file()), "bytes")
    done = 0
    for path in files:
        _spool_path(spool, path, workers, functools.partial(Validated, progress, done))
        done += path.stat().st_size if path.is_file() else 0
        progress.advance(done)


class Validated:
    """The bytes validated so far, this process's and its forked parts' (a counter they
    share, made before they are forked)."""

    shared: Any = None  # multiprocessing's Value while the parts of a file are validated

    def __init__(self, progress: Progress, base: int) -> None:
        self.progress, self.base = progress, base

    def __call__(self, size: int) -> None:
        self.base += size
        self.progress.advance(self.base + (self.shared.value if self.shared else 0))

    @classmethod
    def by_part(cls, size: int) -> None:
        with cls.shared.get_lock():
            cls.shared.value += size


def _spool_path(spool: Spool, path: Path, workers: int, read: Callable[[], Validated]) -> None:
    label = str(path)
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            spool_zip(spool, archive)
        return
    if path.suffix == ".ndjson" and path.stem not in BY_NAME:
        parts = min(workers, path.stat().st_size // PART_BYTES)
        if parts < 2 or not spool_in_parts(spool, path, label, parts, read()):
            with path.open("rb") as lines:
                spool_ndjson(spool, lines, label, read=read())
        return
    resource = BY_NAME.get(path.stem)
    if resource is None or path.suffix not in SUFFIXES:
        known = ", ".join(f"{r.name}.yaml" for r in RESOURCES)
        spool.problem(Problem(label, None, None, None, f"unknown resource; use {known}"))
        return
    try:
        with path.open(encoding="utf-8", newline="") as text:
            _spool_text(spool, resource, text, label, path.suffix)
    except (OSError, yaml.YAMLError, ValueError) as exc:
        spool.problem(Problem(label, None, None, None, f"cannot read: {exc}"))


PART_BYTES = 16 << 20  # the least NDJSON worth a process of its own


def spool_in_parts(
    spool: Spool, path: Path, label: str, parts: int, read: Validated | None = None
) -> bool:
    """Validate an NDJSON file in `parts` byte ranges at once, this process taking the
    first and a forked child each of the others, then append the parts in order, their
    problems too: what validating it line by line would spool. False (nothing spooled)
    when a key is held by two parts (or by a part and an earlier file): the caller then
    validates the file line by line, which reports the second as a duplicate. (A million
    statements: validation is a fifth of a load, on one core; a bad record among them is
    refused in that time, not in twice it.)"""
    if "fork" not in multiprocessing.get_all_start_methods():
        return False
    read = read or Validated(Progress(), 0)
    size = path.stat().st_size
    with path.open("rb") as file:
        cuts = [0]
        for n in range(1, parts):
            file.seek(size * n // parts)
            file.readline()  # on to the start of a line
            cuts.append(max(file.tell(), cuts[-1]))
        cuts.append(size)
    with tempfile.TemporaryDirectory(prefix="treatykb-spool-") as directory:
        jobs: list[Job] = [
            (path, label, start, end, Path(directory) / str(n))
            for n, (start, end) in enumerate(itertools.pairwise(cuts))
        ]
        done = _validated_in_parts(jobs, read)
        if _keys_overlap([spool, *done]):
            for part in done:
                part.close()
            return False
        for part in done:
            spool.take(part)  # its files are open: they outlive the directory's names
    return True


Job = tuple[Path, str, int, int, Path]  # a file, its label, a part's bytes, its folder


def _validated_in_parts(jobs: list[Job], read: Validated) -> list["_Part"]:
    """The first part validated here, each other by a forked child (forked before the
    pool starts its threads; a child reads the file, writes its folder and leaves by
    os._exit: no finalizer touches the parent's connections), the bytes each has read
    counted as they go."""
    fork = multiprocessing.get_context("fork")
    Validated.shared = fork.Value("q", 0)
    try:
        with fork.Pool(len(jobs) - 1) as pool:
            others = pool.starmap_async(_spool_part, jobs[1:])
            first = _spool_part(*jobs[0], read=read)
            while not others.ready():
                others.wait(0.5)
                read(0)
            return [first, *others.get()]
    finally:
        Validated.shared = None


def _keys_overlap(spools: list[Spool]) -> bool:
    """Whether any key of a resource is held by two of these spools."""
    for n, later in enumerate(spools[1:], start=1):
        for name, keys in later.keys.items():
            if any(not s.keys.get(name, set()).isdisjoint(keys) for s in spools[:n]):
                return True
    return False


class _Part(Spool):
    """A part's spool. From a child to the parent it travels as its files' names, and is
    reopened on arrival (handles cannot cross processes)."""

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "files": list(self.files)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        names = state.pop("files")
        self.__dict__.update(state)
        assert self.directory is not None
        self.files = {name: [(self.directory / name).open("rb")] for name in names}


def _spool_part(path: Path, label: str, start: int, end: int, folder: Path,
                read: Callable[[int], None] = Validated.by_part) -> _Part:  # fmt: skip
    """Bytes [start, end) of an NDJSON file (whole lines) spooled into `folder`."""
    folder.mkdir()
    part = _Part(folder)
    with path.open("rb") as file:
        first = 1 + sum(chunk.count(b"\n") for chunk in _read(file, start))
        spool_ndjson(part, _lines_until(file, start, end), label, first, read)
    for files in part.files.values():
        files[0].flush()  # a child leaves by os._exit, which flushes nothing
    return part


def _read(file: IO[bytes], length: int) -> Iterator[bytes]:
    while length > 0 and (chunk := file.read(min(length, 1 << 20))):
        length -= len(chunk)
        yield chunk


def _lines_until(file: IO[bytes], position: int, end: int) -> Iterator[bytes]:
    file.seek(position)
    for line in file:
        if position >= end:
            return
        position += len(line)
        yield line


def _spool_text(spool: Spool, resource: Resource, text: IO[str], label: str, suffix: str) -> None:
    try:
        for index, (record, line_of) in enumerate(_located(resource, text, suffix), start=1):
            spool.add(resource.name, record, label, index, line_of)
    except NotAList as exc:
        spool.problem(Problem(label, None, None, None, str(exc)))


def _located(resource: Resource, text: IO[str], suffix: str) -> Iterator[Located]:
    """A file's records, each with its line (or a way to find a field's line)."""
    if suffix == ".csv":
        return _csv_records(resource, text)
    if suffix == ".ndjson":
        lines = enumerate(text, start=1)
        return ((json.loads(line), number) for number, line in lines if line.strip())
    if suffix == ".json":
        return json_array_records(text.read())
    return yaml_records(text, SeedYamlLoader)
