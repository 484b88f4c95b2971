"""Imports that are all or nothing, exports that round-trip, a feed a mirror can replay."""

import hashlib
import io
import json
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import SEED, Databases
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from test_curation import NEW, Curator

from app.curation import jobs
from app.db import make_engine
from app.importing.export import export_all
from app.importing.loader import SeedYamlLoader
from app.importing.resources import BY_NAME, mirrored
from app.importing.writer import delete_record, load_paths
from app.migrate import migrate, upgrade
from app.models import Change, ImportEvent, Statement, StatementTally, StatementTreaty


@pytest.fixture
def curator(fresh_url: str, client_for: Callable[[str], TestClient]) -> Curator:
    return Curator(fresh_url, client_for(fresh_url))


def exported(client: TestClient) -> dict[str, bytes]:
    archive = zipfile.ZipFile(io.BytesIO(client.get("/v1/export").content))
    return {name: archive.read(name) for name in archive.namelist()}


def test_dry_run_counts_and_writes_nothing(curator: Curator) -> None:
    bundle = {
        "statements": [NEW],
        "people": [yaml.load((SEED / "people.yaml").read_text(), Loader=SeedYamlLoader)[0]],
    }
    response = curator.send("POST", "/imports?dry_run=true", curator.editor, json=bundle)
    assert response.json() == {
        "dry_run": True,
        "counts": {
            "people": {"created": 0, "updated": 0, "unchanged": 1},
            "statements": {"created": 1, "updated": 0, "unchanged": 0},
        },
        "import_id": None,
    }
    assert curator.client.get(f"/v1/statements/{NEW['id']}").status_code == 404


def test_import_then_rerun_is_a_no_op(curator: Curator) -> None:
    first = curator.send("POST", "/imports", curator.editor, json={"statements": [NEW]})
    assert first.json()["counts"]["statements"]["created"] == 1
    before = exported(curator.client)
    again = curator.send("POST", "/imports", curator.editor, json={"statements": [NEW]})
    assert again.json()["counts"]["statements"] == {"created": 0, "updated": 0, "unchanged": 1}
    assert exported(curator.client) == before


def test_one_bad_row_leaves_the_database_byte_for_byte_unchanged(curator: Curator) -> None:
    before = exported(curator.client)
    good = NEW | {"id": "good-one"}
    bad = NEW | {"id": "bad-one", "said_on": "2021-13"}
    response = curator.send(
        "POST", "/imports", curator.editor, json={"statements": [good, bad, good | {"id": "x"}]}
    )
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert (error["file"], error["record"], error["key"], error["field"]) == (
        "statements",
        2,
        "bad-one",
        "said_on",
    )
    assert exported(curator.client) == before


def test_unknown_resources_in_a_bundle_are_named(curator: Curator) -> None:
    response = curator.send("POST", "/imports", curator.editor, json={"quotes": []})
    assert response.status_code == 422
    assert "quotes" in response.json()["detail"]


def test_export_loads_into_an_empty_database_and_exports_identically(
    curator: Curator, empty_url: str, tmp_path: Path
) -> None:
    curator.send("POST", "/records/statements", curator.editor, json=NEW)
    first = exported(curator.client)
    for name, data in first.items():
        (tmp_path / Path(name).name).write_bytes(data)
    engine = make_engine(empty_url)
    load_paths(engine, [tmp_path])
    export_all(engine, tmp_path / "again")
    engine.dispose()
    for name, data in first.items():
        assert (tmp_path / "again" / Path(name).name).read_bytes() == data, name


def _replay(engine: Engine, changes: list[dict[str, object]], tmp: Path) -> None:
    """A mirror: apply each change of the feed in order."""
    for change in changes:
        resource = BY_NAME[str(change["resource"])]
        if change["after"] is None:
            with Session(engine) as session, session.begin():
                key = tuple(str(change["key"]).split("/"))
                delete_record(session, resource, key, actor="mirror")
        else:
            path = tmp / f"{resource.name}.yaml"
            path.write_text(yaml.safe_dump([change["after"]], allow_unicode=True))
            load_paths(engine, [path], actor="mirror")


def test_the_change_feed_replays_into_a_mirror(
    curator: Curator, databases: Databases, tmp_path: Path
) -> None:
    mirror_url = databases.fresh()
    start = curator.client.get("/v1/changes", params={"sort": "-id", "limit": 1}).json()
    since = start["items"][0]["id"]
    # An import's changes are compact (no `after` kept): the feed reads it back from the
    # record's next change, or from the record.
    imported = NEW | {"id": "imported-one"}
    curator.send("POST", "/imports", curator.editor, json={"statements": [imported]})
    curator.send("POST", "/imports", curator.editor,
                 json={"statements": [imported | {"text": "Revised."}]})  # fmt: skip
    curator.send("POST", "/imports", curator.editor,
                 json={"statements": [imported | {"text": "Revised again."}]})  # fmt: skip
    curator.send("POST", "/records/statements", curator.editor, json=NEW)
    etag = curator.etag(f"/statements/{NEW['id']}")
    curator.send(
        "PATCH", f"/records/statements/{NEW['id']}", curator.editor,
        json={"text": "Corrected."}, headers={"If-Match": etag},
    )  # fmt: skip
    etag = curator.etag("/statements/lavrov-2020-11-no-coming-back")
    curator.send(
        "DELETE", "/records/statements/lavrov-2020-11-no-coming-back", curator.admin,
        headers={"If-Match": etag},
    )  # fmt: skip
    feed = curator.client.get("/v1/changes", params={"since": since}).json()["items"]
    operations = ["create", "update", "update", "create", "update", "delete"]
    assert [c["operation"] for c in feed] == operations
    texts = [c["after"]["text"] for c in feed[:3]]
    assert texts == [imported["text"], "Revised.", "Revised again."]
    assert feed[1]["before"] == feed[0]["after"]
    engine = make_engine(curator.url)
    with Session(engine) as session:
        kept = session.execute(select(Change.after).where(Change.key == "imported-one"))
        assert kept.scalars().all() == [None, None, None]
    engine.dispose()
    mirror = make_engine(mirror_url)
    _replay(mirror, feed, tmp_path)
    export_all(mirror, tmp_path / "mirror")
    mirror.dispose()
    for name, data in exported(curator.client).items():
        assert (tmp_path / "mirror" / Path(name).name).read_bytes() == data, name


def test_migrations_go_down_and_up_with_data(fresh_url: str) -> None:
    engine = make_engine(fresh_url)
    load_paths(engine, [SEED])  # seeded: timestamps, change log, competing values
    # down through history, the import events, the import jobs, the facet tallies, the filters'
    # date-ordered indexes, the audit's fields, the speaker index, the statements' link
    # copies, FTS5 hashsize, competing values, curation and search
    for _ in range(12):
        migrate(engine, "-1", down=True)
    upgrade(engine)
    with Session(engine) as session:
        statements = BY_NAME["statements"].read_many(session)
        assert len(statements) == 27
        # The upgrade copied each statement's links onto its row, as the importer writes them.
        copies = session.execute(
            select(Statement.id, Statement.treaty_slugs, Statement.source_slugs)
        )
        assert {id_: (t, s) for id_, t, s in copies} == {
            key[0]: (mirrored(r.treaties), mirrored(r.sources)) for key, r in statements.items()
        }
        assert len(BY_NAME["participation"].read_many(session)) == 41
        # ... and each statement's date onto its treaty links, which order a treaty's list.
        dated = select(StatementTreaty.said_on, Statement.said_on).join(
            Statement, col(Statement.id) == StatementTreaty.statement_id
        )
        links = session.execute(dated).all()
        assert len(links) > 20
        assert all(copy == own for copy, own in links)
        # ... and the facet counts from the statements there are.
        everything = select(StatementTally.n).where(
            StatementTally.given == "", StatementTally.facet == "said_on:year"
        )
        assert sum(session.execute(everything).scalars()) == 27
    counts = load_paths(engine, [SEED])
    # Only what the dropped tables held comes back: the records with competing values.
    assert all(c.created == 0 for c in counts.values())
    assert counts["statements"].unchanged == 27
    assert counts["limits"].updated == 2
    engine.dispose()


def _ndjson(records: list[dict[str, object]]) -> bytes:
    lines = (json.dumps({"resource": "statements", "record": r}) for r in records)
    return ("\n".join(lines) + "\n").encode()


def test_ndjson_bundle_of_thousands_streams_in(curator: Curator) -> None:
    records = [NEW | {"id": f"bulk-{i:05d}", "text": f"Statement {i}."} for i in range(2500)]
    headers = {"Content-Type": "application/x-ndjson"}
    response = curator.send(
        "POST", "/imports", curator.editor, content=_ndjson(records), headers=headers
    )
    assert response.json()["counts"]["statements"] == {
        "created": 2500,
        "updated": 0,
        "unchanged": 0,
    }
    again = curator.send(
        "POST", "/imports", curator.editor, content=_ndjson(records), headers=headers
    )
    assert again.json()["counts"]["statements"]["unchanged"] == 2500
    assert curator.client.get("/v1/statements", params={"q": "statement"}).json()["total"] >= 2500


def test_ndjson_problems_name_the_line(curator: Curator) -> None:
    body = _ndjson([NEW]) + b"not json\n" + _ndjson([NEW | {"id": "two", "said_on": "soon"}])
    response = curator.send(
        "POST", "/imports", curator.editor, content=body,
        headers={"Content-Type": "application/x-ndjson"},
    )  # fmt: skip
    assert response.status_code == 422
    lines = {(e["record"], e["field"]) for e in response.json()["errors"]}
    assert lines == {(2, None), (3, "said_on")}
    assert curator.client.get(f"/v1/statements/{NEW['id']}").status_code == 404


def test_a_zip_export_imports_into_an_empty_database(
    curator: Curator, empty_url: str, client_for: Callable[[str], TestClient]
) -> None:
    archive = curator.client.get("/v1/export").content
    target = Curator(empty_url, client_for(empty_url))
    response = target.send(
        "POST", "/imports", target.editor, content=archive,
        headers={"Content-Type": "application/zip"},
    )  # fmt: skip
    assert response.json()["counts"]["statements"]["created"] == 27
    assert exported(target.client) == exported(curator.client)


def test_a_spreadsheet_csv_in_a_zip(curator: Curator) -> None:
    buffer = io.BytesIO()
    rows = (
        "id,text,speaker,said_on,treaties,sources,note\n"
        "csv-1,From a spreadsheet.,sergei-lavrov,2021-02,new-start;inf,"
        "jpnd-2021-new-start-extension,\n"
    )
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("statements.csv", rows)
    response = curator.send(
        "POST", "/imports", curator.editor, content=buffer.getvalue(),
        headers={"Content-Type": "application/zip"},
    )  # fmt: skip
    assert response.json()["counts"]["statements"]["created"] == 1
    record = curator.client.get("/v1/records/statements/csv-1").json()
    assert record["treaties"] == ["inf", "new-start"]
    assert record["note"] is None


def test_other_media_types_are_415(curator: Curator) -> None:
    response = curator.send(
        "POST", "/imports", curator.editor, content=b"a,b", headers={"Content-Type": "text/csv"}
    )
    assert response.status_code == 415


def test_ndjson_export_round_trips_through_the_import(
    curator: Curator, empty_url: str, client_for: Callable[[str], TestClient]
) -> None:
    body = curator.client.get("/v1/export", params={"format": "ndjson"})
    assert body.headers["content-type"] == "application/x-ndjson"
    target = Curator(empty_url, client_for(empty_url))
    response = target.send(
        "POST", "/imports", target.editor, content=body.content,
        headers={"Content-Type": "application/x-ndjson"},
    )  # fmt: skip
    assert response.status_code == 200
    assert exported(target.client) == exported(curator.client)


def _finished(curator: Curator, url: str) -> dict[str, Any]:
    """The job at `url`, once it is no longer running."""
    for _ in range(600):
        job = curator.client.get(url, headers={"Authorization": f"Bearer {curator.editor}"})
        assert job.status_code == 200
        assert job.headers["cache-control"] == "no-store"
        assert "etag" not in job.headers  # its progress moves while the data version stands
        if job.json()["state"] != "running":
            return dict(job.json())
        time.sleep(0.05)
    raise AssertionError(f"{url} still running")


def _ndjson(records: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps({"resource": "statements", "record": r}).encode() + b"\n"
                    for r in records)  # fmt: skip


def test_a_large_import_is_answered_at_once_with_a_job_that_ends_with_the_counts(
    curator: Curator, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = _ndjson([NEW, NEW | {"id": "second-one"}])
    monkeypatch.setattr(jobs, "IMPORT_ASYNC_BYTES", len(body))  # "large": this one, and up
    answer = curator.send("POST", "/imports", curator.editor, content=body,
                          headers={"Content-Type": "application/x-ndjson"})  # fmt: skip
    assert answer.status_code == 202
    assert answer.json()["state"] in ("running", "done")
    job = _finished(curator, answer.headers["location"])
    assert job["state"] == "done"
    assert job["counts"]["statements"] == {"created": 2, "updated": 0, "unchanged": 0}
    assert (job["phase"], job["errors"], job["detail"]) == ("index", None, None)
    assert job["finished_at"] is not None
    assert curator.client.get("/v1/imports").json()["items"][-1]["id"] == job["import_id"]
    assert curator.client.get("/v1/statements/second-one").status_code == 200
    small = curator.send("POST", "/imports", curator.editor, json={"statements": [NEW]})
    assert small.status_code == 200  # under the threshold: the counts in the answer
    assert small.json()["counts"]["statements"]["unchanged"] == 1


def test_a_job_with_a_bad_row_fails_naming_it_and_writes_nothing(curator: Curator) -> None:
    before = exported(curator.client)
    body = _ndjson([NEW, NEW | {"id": "bad-one", "said_on": "2021-13"}])
    answer = curator.send("POST", "/imports", curator.editor, content=body, headers={
        "Content-Type": "application/x-ndjson", "Prefer": "respond-async"})  # fmt: skip
    assert answer.status_code == 202
    assert answer.headers["preference-applied"] == "respond-async"
    job = _finished(curator, answer.headers["location"])
    assert (job["state"], job["phase"], job["counts"]) == ("failed", "validate", None)
    [error] = job["errors"]
    assert (error["file"], error["line"], error["key"], error["field"]) == (
        "bundle.ndjson", 2, "bad-one", "said_on")  # fmt: skip
    assert "2021-13" in job["detail"]
    assert exported(curator.client) == before


def test_a_job_is_an_editors_and_an_unknown_one_is_a_404(curator: Curator) -> None:
    answer = curator.send("POST", "/imports", curator.editor, json={"statements": [NEW]},
                          headers={"Prefer": "respond-async"})  # fmt: skip
    url = answer.headers["location"]
    assert curator.client.get(url).status_code == 401
    _finished(curator, url)
    missing = curator.send("GET", "/imports/0123456789abcdef", curator.editor)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert "0123456789abcdef" in missing.json()["detail"]


def test_each_import_is_one_event_naming_the_changes_it_wrote(curator: Curator) -> None:
    body = _ndjson([NEW, NEW | {"id": "second-one"}])
    ndjson = {"Content-Type": "application/x-ndjson"}
    first = curator.send("POST", "/imports", curator.editor, content=body, headers=ndjson)
    single = NEW | {"id": "third-one"}  # a write of one record, between the two imports
    assert curator.send("POST", "/records/statements", curator.editor, json=single).is_success
    again = curator.send("POST", "/imports", curator.editor, content=body, headers=ndjson)
    events = curator.client.get("/v1/imports").json()["items"]
    seeded, loaded, rerun = events  # the seed's load made the first
    assert (seeded["actor"], seeded["counts"]["treaties"]["created"]) == ("cli", 3)
    assert [loaded["id"], rerun["id"]] == [first.json()["import_id"], again.json()["import_id"]]
    sha256 = hashlib.sha256(body).hexdigest()
    assert (loaded["actor"], loaded["sha256"], rerun["sha256"]) == ("editor", sha256, sha256)
    assert loaded["counts"] == {"statements": {"created": 2, "updated": 0, "unchanged": 0}}
    assert rerun["counts"] == {"statements": {"created": 0, "updated": 0, "unchanged": 2}}
    assert (rerun["first_change"], rerun["last_change"]) == (None, None)  # it changed nothing
    feed = curator.client.get("/v1/changes", params={"import_id": loaded["id"]}).json()["items"]
    assert [(c["key"], c["operation"], c["import_id"]) for c in feed] == [
        (NEW["id"], "create", loaded["id"]), ("second-one", "create", loaded["id"])]  # fmt: skip
    assert [feed[0]["id"], feed[-1]["id"]] == [loaded["first_change"], loaded["last_change"]]
    everything = curator.client.get("/v1/changes", params={"since": loaded["first_change"] - 1})
    assert [c["import_id"] for c in everything.json()["items"]] == [loaded["id"]] * 2 + [None]
    bad = curator.client.get("/v1/changes", params={"import_id": "latest"})
    assert (bad.status_code, "import_id" in bad.json()["detail"]) == (422, True)


def test_a_load_from_files_is_an_event_with_their_hash(fresh_url: str, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle.ndjson"
    bundle.write_bytes(_ndjson([NEW]))
    engine = make_engine(fresh_url)
    loaded = load_paths(engine, [bundle])
    with Session(engine) as session:
        event = session.get(ImportEvent, loaded.import_id)
        kept = session.execute(select(Change.import_id).where(Change.key == NEW["id"]))
        assert kept.scalars().all() == [loaded.import_id]
    engine.dispose()
    assert event is not None
    assert event.sha256 == hashlib.sha256(bundle.read_bytes()).hexdigest()
    assert json.loads(event.counts or "")["statements"]["created"] == 1


def test_an_import_that_changes_nothing_is_listed_at_once(curator: Curator) -> None:
    first = curator.send("POST", "/imports", curator.editor, json={"statements": [NEW]})
    listed = curator.client.get("/v1/imports")
    assert listed.json()["items"][-1]["id"] == first.json()["import_id"]
    again = curator.send("POST", "/imports", curator.editor, json={"statements": [NEW]})
    assert again.json()["counts"]["statements"]["unchanged"] == 1
    # The data version did not move: a client revalidating its copy (if it was given a
    # validator) must not be told that the list is unchanged.
    kept = {"If-None-Match": listed.headers["etag"]} if "etag" in listed.headers else {}
    relisted = curator.client.get("/v1/imports", headers=kept)
    assert relisted.status_code == 200
    assert relisted.json()["items"][-1]["id"] == again.json()["import_id"]
