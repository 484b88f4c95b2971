"""A bad date is reported where it stands: file, record, key, line and field, in every file
format, for every date field of every resource, in the CLI, the import API and dry runs."""

import csv
import io
import json
import typing
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import SEED
from fastapi.testclient import TestClient
from pydantic import BaseModel
from test_curation import Curator

from app.cli import main
from app.config import get_settings
from app.dates import PartialDate, parse_partial
from app.importing.bundles import Spool, spool_paths
from app.importing.loader import SeedYamlLoader
from app.importing.resources import BY_NAME, RESOURCES

BAD = "2020-13-45"
SAYS = f"{BAD} is not a date (YYYY, YYYY-MM or YYYY-MM-DD)"


def _date_paths(model: type[BaseModel], prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every date field of a record type, nested records' too (positions.0.start_on)."""
    found = []
    for name, info in model.model_fields.items():
        args = typing.get_args(info.annotation)
        required = any(getattr(m, "func", None) is parse_partial for m in info.metadata)
        if required or PartialDate in args:
            found.append((*prefix, name))
        item = args[0] if typing.get_origin(info.annotation) is list and args else None
        if isinstance(item, type) and issubclass(item, BaseModel):
            found += _date_paths(item, (*prefix, name, 0))
    return found


DATE_FIELDS = [(r.name, path) for r in RESOURCES for path in _date_paths(r.record)]


def test_every_resource_with_dates_is_covered() -> None:
    covered = {name for name, _ in DATE_FIELDS}
    assert covered == {
        "sources", "treaties", "articles", "limits", "events", "participation", "people",
        "statements",
    }  # fmt: skip
    assert ("people", ("positions", 0, "end_by_on")) in DATE_FIELDS


def _seed_record(resource: str, path: tuple[Any, ...]) -> dict[str, Any]:
    """A seed record of the resource (one with the nested list the path needs), the date at
    `path` set to BAD."""
    text = (SEED / f"{resource}.yaml").read_text(encoding="utf-8")
    records = yaml.load(text, Loader=SeedYamlLoader)
    record = next(r for r in records if len(path) == 1 or r.get(path[0]))
    target = record
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = BAD
    return dict(record)


def _write(resource: str, record: dict[str, Any], suffix: str, directory: Path) -> Path:
    file = directory / f"{resource}{suffix}"
    if suffix == ".yaml":
        text = yaml.safe_dump([record], allow_unicode=True, sort_keys=False)
        file.write_text(text.replace(f"'{BAD}'", BAD), encoding="utf-8")  # as a person types it
    elif suffix == ".json":
        file.write_text(json.dumps([record], indent=2, ensure_ascii=False), encoding="utf-8")
    elif suffix == ".ndjson":
        line = json.dumps({"resource": resource, "record": record}, ensure_ascii=False)
        file = directory / "bundle.ndjson"
        file.write_text("\n" + line + "\n", encoding="utf-8")  # a blank first line
    else:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(record))
        writer.writeheader()
        writer.writerow({k: _cell(v) for k, v in record.items()})
        file.write_text(out.getvalue(), encoding="utf-8")
    return file


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        nested = value and isinstance(value[0], dict)
        return json.dumps(value) if nested else ";".join(map(str, value))
    return value


def _line_of(file: Path) -> int:
    """Where a reader of the file sees the bad date: its line (the row's, in CSV)."""
    lines = file.read_text(encoding="utf-8").splitlines()
    if file.suffix == ".csv":
        return 2
    return next(n for n, line in enumerate(lines, 1) if BAD in line)


@pytest.mark.parametrize("suffix", [".yaml", ".json", ".ndjson", ".csv"])
@pytest.mark.parametrize(("resource", "path"), DATE_FIELDS)
def test_a_bad_date_names_file_record_key_line_and_field(
    tmp_path: Path, resource: str, path: tuple[Any, ...], suffix: str
) -> None:
    record = _seed_record(resource, path)
    file = _write(resource, record, suffix, tmp_path)
    spool = Spool()
    try:
        spool_paths(spool, [file])
        problems = [str(p) for p in spool.problems]
    finally:
        spool.close()
    key = "/".join(str(record[k]) for k in BY_NAME[resource].key)
    field = ".".join(map(str, path))
    record_number = 2 if suffix == ".ndjson" else 1  # NDJSON counts lines
    line = _line_of(file)
    expected = f"{file}: record {record_number} ({key}), line {line}: field '{field}': {SAYS}"
    assert problems == [expected]


@pytest.fixture
def curator(fresh_url: str, client_for: Callable[[str], TestClient]) -> Curator:
    return Curator(fresh_url, client_for(fresh_url))


def test_the_cli_prints_the_line_and_writes_nothing(
    tmp_path: Path,
    empty_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    statements = (SEED / "statements.yaml").read_text(encoding="utf-8")
    bad = statements.replace("said_on: 2020-11-10", f"said_on: {BAD}", 1)
    assert bad != statements
    (tmp_path / "statements.yaml").write_text(bad, encoding="utf-8")
    line = next(n for n, text in enumerate(bad.splitlines(), 1) if BAD in text)
    monkeypatch.setenv("TREATYKB_DATABASE_URL", empty_url)
    get_settings.cache_clear()
    try:
        code = main(["load", str(tmp_path / "statements.yaml")])
    finally:
        get_settings.cache_clear()
    assert code == 1
    err = capsys.readouterr().err
    where = f"statements.yaml: record 4 (ryabkov-2020-11-10-no-basis-for-agreement), line {line}"
    assert f"{where}: field 'said_on': {SAYS}" in err


def _zip(name: str, text: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, text)
    return buffer.getvalue()


@pytest.mark.parametrize("dry_run", [False, True])
def test_the_import_api_gives_the_line_in_its_errors(curator: Curator, dry_run: bool) -> None:
    statements = (SEED / "statements.yaml").read_text(encoding="utf-8")
    bad = statements.replace("said_on: 2020-11-10", f"said_on: {BAD}", 1)
    line = next(n for n, text in enumerate(bad.splitlines(), 1) if BAD in text)
    response = curator.send(
        "POST", f"/imports?dry_run={str(dry_run).lower()}", curator.editor,
        content=_zip("statements.yaml", bad), headers={"Content-Type": "application/zip"},
    )  # fmt: skip
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    [error] = response.json()["errors"]
    assert error == {
        "file": "statements.yaml",
        "record": 4,
        "line": line,
        "key": "ryabkov-2020-11-10-no-basis-for-agreement",
        "field": "said_on",
        "message": SAYS,
    }
    assert SAYS in response.json()["detail"]


def test_a_json_body_names_the_line_of_the_field(curator: Curator) -> None:
    record = {"id": "x-1", "text": "t", "country": "US", "said_on": BAD, "sources": ["x"]}
    body = json.dumps(
        {"statements": [{"id": "x-0"} | record | {"said_on": "2020"}, record]}, indent=1
    )
    response = curator.send(
        "POST", "/imports", curator.editor, content=body,
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    assert response.status_code == 422
    errors = response.json()["errors"]
    wanted = next(n for n, text in enumerate(body.splitlines(), 1) if BAD in text)
    assert [(e["record"], e["line"], e["field"]) for e in errors] == [(2, wanted, "said_on")]
