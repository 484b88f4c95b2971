"""The loader: validate everything first, write all or nothing, re-run without change."""

import datetime as dt
import gc
import io
import json
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from conftest import SEED, Databases
from fastapi.testclient import TestClient
from rich.console import Console
from sqlalchemy import Engine, event, func, select, text
from sqlmodel import Session

from app import models as m
from app.cli import main
from app.config import get_settings
from app.db import make_engine
from app.importing import bundles, writer
from app.importing.bundles import Spool, spool_paths
from app.importing.export import export_all
from app.importing.loader import LoadError
from app.importing.progress import Bars
from app.importing.writer import collection_paused, load_paths


@pytest.fixture
def engine(empty_url: str) -> Iterator[Engine]:
    engine = make_engine(empty_url)
    yield engine
    engine.dispose()


@pytest.fixture
def seed_copy(tmp_path: Path) -> Path:
    target = tmp_path / "seed"
    shutil.copytree(SEED, target)
    return target


def count(engine: Engine, model: type) -> int:
    with Session(engine) as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def edit(path: Path, index: int, **changes: object) -> None:
    records = yaml.safe_load(path.read_text(encoding="utf-8"))
    records[index].update(changes)
    path.write_text(yaml.safe_dump(records, allow_unicode=True), encoding="utf-8")


def test_load_then_reload_changes_nothing(engine: Engine) -> None:
    first = load_paths(engine, [SEED])
    assert {name: c.created for name, c in first.items()} == {
        "countries": 39, "sources": 57, "treaties": 3, "articles": 3, "limits": 7,
        "events": 46, "participation": 41, "people": 9, "statements": 27,
    }  # fmt: skip
    second = load_paths(engine, [SEED])
    assert all(c.created == c.updated == 0 for c in second.values())
    assert sum(c.unchanged for c in second.values()) == sum(c.created for c in first.values())
    assert count(engine, m.Statement) == 27
    assert count(engine, m.StatementSource) == 27


def test_loaded_records_carry_the_time_they_were_written(
    empty_url: str, engine: Engine, client_for: Callable[..., TestClient]
) -> None:
    started = dt.datetime.now(dt.UTC).replace(microsecond=0)
    load_paths(engine, [SEED])
    finished = dt.datetime.now(dt.UTC)
    client = client_for(empty_url)
    statement = client.get("/v1/statements/lavrov-2020-11-12-wait-until-the-dust-settles").json()
    change = client.get("/v1/changes", params={"resource": "statements", "limit": 1}).json()
    stamps = [statement["created_at"], statement["updated_at"], change["items"][0]["changed_at"]]
    for stamp in stamps:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z", stamp), stamp
        assert started <= dt.datetime.fromisoformat(stamp) <= finished


def test_an_edit_is_an_update_not_a_duplicate(engine: Engine, seed_copy: Path) -> None:
    load_paths(engine, [SEED])
    edit(seed_copy / "statements.yaml", 0, note="Corrected note.", treaties=["inf"])
    counts = load_paths(engine, [seed_copy])
    assert (counts["statements"].updated, counts["statements"].unchanged) == (1, 26)
    assert count(engine, m.Statement) == 27
    with Session(engine) as session:
        first_id = yaml.safe_load((seed_copy / "statements.yaml").read_text())[0]["id"]
        links = session.execute(
            select(m.StatementTreaty.treaty_slug).where(m.StatementTreaty.statement_id == first_id)
        )
        assert list(links.scalars()) == ["inf"]


@pytest.mark.parametrize(
    ("file", "index", "change", "field", "message"),
    [
        ("statements.yaml", 3, {"said_on": "2020-13"}, "said_on", "2020-13 is not a date"),
        ("statements.yaml", 0, {"speaker": "sergei-lavroff"}, "speaker", "no people record"),
        ("statements.yaml", 2, {"sources": []}, "sources", "at least 1 item"),
        ("statements.yaml", 1, {"mood": "tense"}, "mood", "Extra inputs are not permitted"),
        ("limits.yaml", 0, {"value": "many"}, "value", "valid integer"),
        (
            "treaties.yaml",
            0,
            {"aliases": [f"alias-{i}" for i in range(1001)]},
            None,  # the whole record: a bound on its list fields
            "aliases has 1001 entries; at most 1000",
        ),
        ("events.yaml", 5, {"country": "XX"}, "country", "no countries record with key 'XX'"),
        (
            "people.yaml",
            1,
            {"positions": [{"title": "x"}]},
            "positions.0.organization",
            "Field required",
        ),
    ],
)
def test_one_bad_record_writes_nothing_and_names_file_record_field(
    engine: Engine,
    seed_copy: Path,
    file: str,
    index: int,
    change: dict[str, object],
    field: str | None,
    message: str,
) -> None:
    edit(seed_copy / file, index, **change)
    with pytest.raises(LoadError) as caught:
        load_paths(engine, [seed_copy])
    problem = next(p for p in caught.value.problems if p.field == field)
    assert problem.file.endswith(file)
    assert problem.record == index + 1
    assert message in problem.message
    assert count(engine, m.Country) == count(engine, m.Statement) == 0


def test_a_failed_load_leaves_earlier_data_untouched(engine: Engine, seed_copy: Path) -> None:
    load_paths(engine, [SEED])
    edit(seed_copy / "treaties.yaml", 0, name="Renamed")
    edit(seed_copy / "statements.yaml", 0, article="no-such-article")
    with pytest.raises(LoadError):
        load_paths(engine, [seed_copy])
    with Session(engine) as session:
        assert session.get(m.Treaty, "new-start").name == "New Strategic Arms Reduction Treaty"  # type: ignore[union-attr]


def test_the_collector_is_off_while_loading_and_back_after_a_failed_load(
    engine: Engine, seed_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bool] = []
    real = writer.write_chunks

    def watched(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(writer, "write_chunks", watched)
    edit(seed_copy / "statements.yaml", 0, article="no-such-article")
    assert gc.isenabled()
    with pytest.raises(LoadError):
        load_paths(engine, [seed_copy])
    assert seen == [False]
    assert gc.isenabled()
    with collection_paused():  # loads in two threads: the first to end leaves it off
        with collection_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()  # and a collector someone else turned off stays off
    try:
        with collection_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_duplicate_keys_and_unknown_files_are_rejected(tmp_path: Path, engine: Engine) -> None:
    statements = yaml.safe_load((SEED / "statements.yaml").read_text())
    (tmp_path / "statements.yaml").write_text(yaml.safe_dump([statements[0], statements[0]]))
    (tmp_path / "treaty.yaml").write_text("[]")
    with pytest.raises(LoadError) as caught:
        load_paths(engine, [tmp_path / "statements.yaml", tmp_path / "treaty.yaml"])
    messages = [str(p) for p in caught.value.problems]
    assert any("treaty.yaml: unknown resource" in msg for msg in messages)
    assert any("record 2" in msg and "duplicate key" in msg for msg in messages)


def test_norway_is_a_country_code_not_false(engine: Engine) -> None:
    load_paths(engine, [SEED])
    with Session(engine) as session:
        assert session.get(m.Country, "NO").name == "Norway"  # type: ignore[union-attr]


def test_export_round_trips(engine: Engine, tmp_path: Path) -> None:
    load_paths(engine, [SEED])
    export_all(engine, tmp_path / "out")
    again = load_paths(engine, [tmp_path / "out"])
    assert all(c.created == c.updated == 0 for c in again.values())
    export_all(engine, tmp_path / "out2")
    for path in (tmp_path / "out").iterdir():
        assert path.read_text() == (tmp_path / "out2" / path.name).read_text()


def test_cli_load_reports_counts_and_fails_with_status_1(
    empty_url: str,
    seed_copy: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("TREATYKB_DATABASE_URL", empty_url)
    get_settings.cache_clear()
    try:
        assert main(["load", str(SEED)]) == 0
        assert "statements           27        0          0" in capsys.readouterr().out
        edit(seed_copy / "events.yaml", 0, date="2010-04-31")
        assert main(["load", str(seed_copy)]) == 1
        err = capsys.readouterr().err
        assert "Nothing was loaded" in err
        assert "events.yaml: record 1 (new-start-signature), line 1: field 'date'" in err
    finally:
        get_settings.cache_clear()


def _hits(client: TestClient, q: str) -> list[str]:
    answer = client.get("/v1/search", params={"q": q, "type": "statement", "limit": 500})
    return [hit["key"] for hit in answer.json()["items"]]


def test_one_load_that_adds_and_reindexes_the_same_statements_indexes_each_once(
    empty_url: str, engine: Engine, seed_copy: Path, client_for: Callable[..., TestClient]
) -> None:
    """A load's search documents reach the full-text index together at its end; a
    statement both written and reindexed in one load (its speaker renamed in the same
    bundle) is still indexed once, and the index stays consistent."""
    load_paths(engine, [SEED])
    statements = yaml.safe_load((seed_copy / "statements.yaml").read_text(encoding="utf-8"))
    new = {**statements[0], "id": "biegun-zorblat", "text": "The zorblat clause stands."}
    (seed_copy / "statements.yaml").write_text(yaml.safe_dump([*statements, new]))
    people = yaml.safe_load((seed_copy / "people.yaml").read_text(encoding="utf-8"))
    biegun = next(i for i, p in enumerate(people) if p["slug"] == "stephen-biegun")
    edit(seed_copy / "people.yaml", biegun, name="Stephen Quuxley Biegun")
    counts = load_paths(engine, [seed_copy])
    assert (counts["statements"].created, counts["people"].updated) == (1, 1)
    said_by_biegun = [s["id"] for s in [*statements, new] if s.get("speaker") == "stephen-biegun"]
    client = client_for(empty_url)
    assert sorted(_hits(client, "Quuxley")) == sorted(said_by_biegun)
    assert _hits(client, "zorblat") == ["biegun-zorblat"]
    if engine.dialect.name == "sqlite":  # FTS5 checks its index against the documents
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "INSERT INTO search_fts(search_fts, rank) VALUES ('integrity-check', 1)"
            )


def test_a_load_leaves_its_connection_with_the_usual_page_cache(engine: Engine) -> None:
    """The load's larger SQLite page cache goes back when it ends: a pooled connection
    keeps the default, whatever load it once ran."""
    if engine.dialect.name != "sqlite":
        pytest.skip("a SQLite page cache")
    with engine.connect() as connection:
        usual = connection.exec_driver_sql("PRAGMA cache_size").scalar()
    load_paths(engine, [SEED])
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA cache_size").scalar() == usual


def _index_sql(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        found = connection.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        )
        return set(found.scalars())


def test_a_bulk_load_builds_again_the_indexes_it_set_aside(
    engine: Engine, seed_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A load bringing more rows than a table holds drops the table's plain indexes and
    builds them at its end; a re-run leaves them; a load that fails rolls back to them,
    data untouched."""
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's bulk loads rebuild indexes; PostgreSQL keeps them")
    monkeypatch.setattr(writer, "BULK_INDEX_ROWS", 1)
    dropped: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def note(_conn: object, _cursor: object, sql: str, *_: object) -> None:
        if sql.startswith("DROP INDEX"):
            dropped.append(sql)

    migrated = _index_sql(engine)
    assert "CREATE INDEX ix_statement_said_on_id ON statement (said_on, id)" in migrated
    load_paths(engine, [SEED])
    assert 'DROP INDEX "ix_statement_said_on_id"' in dropped
    assert _index_sql(engine) == migrated
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        plan = connection.exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT id FROM statement ORDER BY said_on DESC, id DESC LIMIT 5"
        ).all()
        assert "ix_statement_said_on_id" in str(plan)
    dropped.clear()
    load_paths(engine, [SEED])  # a re-run brings no more rows than are stored
    assert dropped == []
    statements = yaml.safe_load((seed_copy / "statements.yaml").read_text(encoding="utf-8"))
    bad = {**statements[0], "id": "one-more", "article": "no-such-article"}
    (seed_copy / "statements.yaml").write_text(yaml.safe_dump([*statements, bad]))
    with pytest.raises(LoadError):
        load_paths(engine, [seed_copy])  # one statement more than stored: set aside, then back
    assert 'DROP INDEX "ix_statement_said_on_id"' in dropped
    assert _index_sql(engine) == migrated
    assert count(engine, m.Statement) == 27


def _statements_ndjson(path: Path, records: list[dict[str, object]]) -> Path:
    lines = (json.dumps({"resource": "statements", "record": r}, default=str) for r in records)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _spooled(paths: list[Path], workers: int) -> tuple[list[object], list[str]]:
    spool = Spool()
    try:
        spool_paths(spool, paths, workers=workers)
        items = [
            (item.file, item.index, item.data)
            for name in spool.files
            for chunk in spool.chunks(name)
            for item in chunk
        ]
        return items, [str(problem) for problem in spool.problems]
    finally:
        spool.close()


def _generated(count: int) -> list[dict[str, object]]:
    statement = yaml.safe_load((SEED / "statements.yaml").read_text(encoding="utf-8"))[0]
    return [{**statement, "id": f"generated-{n:05d}", "text": f"Said {n}."} for n in range(count)]


def test_a_large_ndjson_file_validated_in_parts_spools_what_one_process_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bundles, "PART_BYTES", 1)  # every file is large enough to split
    records = _generated(3000)
    path = _statements_ndjson(tmp_path / "many.ndjson", records)
    other = _statements_ndjson(tmp_path / "more.ndjson", _generated(3010)[3000:])
    one = _spooled([path, other], workers=1)
    assert len(one[0]) == 3010
    assert one[1] == []
    assert _spooled([path, other], workers=3) == one  # same records, order and line numbers
    spool = Spool()
    try:
        assert bundles.spool_in_parts(spool, path, str(path), 3)  # not fallen back
        assert [len(files) for files in spool.files.values()] == [3]
    finally:
        spool.close()
    # A problem in a later part, or a key two parts (or an earlier file) both hold, is
    # reported as reading line by line reports it: file, line, field.
    bad = [*records[:2500], {**records[2500], "said_on": "soon"}, *records[2501:]]
    bad[2800] = {**bad[2800], "id": records[10]["id"]}
    bad_path = _statements_ndjson(tmp_path / "bad.ndjson", bad)
    expected = _spooled([bad_path], workers=1)[1]
    assert expected[0].startswith(
        f"{bad_path}: record 2501 (generated-02500), line 2501: field 'said_on'"
    )
    assert expected[1] == f"{bad_path}: record 2801 (generated-00010), line 2801: duplicate key"
    assert _spooled([bad_path], workers=2)[1] == expected
    assert not bundles.spool_in_parts(Spool(), bad_path, str(bad_path), 2)
    # A bad record alone is reported from its part: no second pass line by line.
    one_bad = [*records[:2500], {**records[2500], "said_on": "soon"}, *records[2501:]]
    one_bad_path = _statements_ndjson(tmp_path / "one-bad.ndjson", one_bad)
    spool = Spool()
    try:
        assert bundles.spool_in_parts(spool, one_bad_path, str(one_bad_path), 3)
        line_by_line = _spooled([one_bad_path], workers=1)[1]
        assert [str(problem) for problem in spool.problems] == line_by_line
        assert len(line_by_line) == 1
    finally:
        spool.close()
    assert _spooled([path, path], workers=2)[1] == _spooled([path, path], workers=1)[1] != []


def test_the_cli_loads_a_large_ndjson_file_in_parts_reporting_each_phase(
    engine: Engine,
    empty_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(bundles, "PART_BYTES", 1)
    monkeypatch.setenv("TREATYKB_DATABASE_URL", empty_url)
    get_settings.cache_clear()
    path = _statements_ndjson(tmp_path / "many.ndjson", _generated(writer.REFRESH_AFTER))
    try:
        assert main(["load", "--quiet", str(SEED)]) == 0
        assert capsys.readouterr().err == ""
        assert main(["load", str(path)]) == 0
    finally:
        get_settings.cache_clear()
    # Not a terminal: a line as each phase starts and ends, with what it did, then the times.
    said = capsys.readouterr().err.splitlines()
    size = f"{path.stat().st_size / 2**20:,.1f} MiB"
    assert said[0] == f"validate: started ({size})"
    assert re.fullmatch(rf"validate: done, {re.escape(size)} in \d+\.\d s", said[1])
    assert said[2] == f"write: started ({writer.REFRESH_AFTER:,} records)"
    assert re.fullmatch(rf"write: done, {writer.REFRESH_AFTER:,} records in \d+\.\d s", said[3])
    phases = ["index", "index", "statistics", "statistics", "search", "search"]
    assert [line.split(":")[0] for line in said[4:10]] == phases  # search: the index built
    assert re.fullmatch(r"Done in [\d.]+ s: validate [\d.]+ s, write [\d.]+ s, index [\d.]+ s, "
                        r"statistics [\d.]+ s, search [\d.]+ s\.", said[-1])  # fmt: skip
    assert count(engine, m.Statement) == 27 + writer.REFRESH_AFTER
    with Session(engine) as session:
        said = session.execute(select(m.Statement.text).where(m.Statement.id == "generated-00777"))
        assert said.scalar_one() == "Said 777."
        if engine.dialect.name == "postgresql":
            # A bulk load ends with VACUUM: every page of the new rows is marked
            # all-visible, so a capped count can read the index alone.
            pages = session.execute(
                text("SELECT relallvisible, relpages FROM pg_class WHERE relname = 'statement'")
            ).one()
            assert pages.relpages > 0
            assert pages.relallvisible == pages.relpages


def _tally_rows(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as connection:
        found = connection.exec_driver_sql(
            "SELECT given, given_value, facet, value, n FROM statement_tally "
            "WHERE n > 0 ORDER BY given, given_value, facet, value"
        )
        return [tuple(row) for row in found]


def test_a_bulk_load_rebuilds_the_tallies_a_small_one_keeps(
    engine: Engine, databases: Databases, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The counts a bulk load rebuilds from the tables (one GROUP BY per pair) are the
    ones record-by-record keeping gives for the same data."""
    load_paths(engine, [SEED])  # 27 statements: kept record by record
    kept = _tally_rows(engine)
    assert ("", "", "treaty", "new-start", 12) in kept
    bulk = make_engine(databases.fresh(seeded=False))
    monkeypatch.setattr(writer, "BULK_INDEX_ROWS", 1)
    rebuilt: list[str] = []

    @event.listens_for(bulk, "before_cursor_execute")
    def note(_conn: object, _cursor: object, sql: str, *_: object) -> None:
        if sql.startswith(
            "INSERT INTO statement_tally (given, given_value, facet, value, n) SELECT"
        ):
            rebuilt.append(sql)

    load_paths(bulk, [SEED])
    assert rebuilt
    assert _tally_rows(bulk) == kept
    bulk.dispose()


def test_the_tallies_command_rebuilds_counts_changed_behind_the_service(
    engine: Engine, empty_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_paths(engine, [SEED])
    kept = _tally_rows(engine)
    with engine.begin() as connection:  # a hand edit of the database, say
        connection.exec_driver_sql("DELETE FROM statement_tally WHERE given = 'treaty'")
    assert _tally_rows(engine) != kept
    monkeypatch.setenv("TREATYKB_DATABASE_URL", empty_url)
    get_settings.cache_clear()
    try:
        assert main(["db", "tallies"]) == 0
    finally:
        get_settings.cache_clear()
    assert _tally_rows(engine) == kept


def test_a_terminal_gets_a_bar_per_phase(engine: Engine) -> None:
    """On a terminal, `treatykb load` draws a bar for each phase, with what it did."""
    screen = io.StringIO()
    bars = Bars(Console(file=screen, force_terminal=True, width=120))
    counts = load_paths(engine, [SEED], progress=bars)
    drawn = screen.getvalue()
    for phase in ("validate", "write", "index"):
        assert phase in drawn
    records = sum(c.created + c.updated + c.unchanged for c in counts.values())
    assert f"{records}/{records} records" in drawn
    assert list(bars.times) == ["validate", "write", "index"]  # the seed: no statistics
