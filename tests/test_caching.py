"""HTTP caching: validators, 304s, the data version, CORS and HEAD."""

import datetime as dt
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
import yaml
from conftest import SEED
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.curation.tokens import Role, create_token
from app.db import make_engine
from app.importing.writer import load_paths


def test_get_carries_validators_and_the_data_version(client: TestClient) -> None:
    response = client.get("/v1/treaties/inf", headers={"Accept-Encoding": "identity"})
    assert response.headers["etag"].startswith('"')
    assert response.headers["last-modified"].endswith("GMT")
    assert response.headers["cache-control"] == "public, max-age=60"
    assert response.headers["x-data-version"] == str(client.get("/v1/meta").json()["data_version"])


def test_if_none_match_gets_a_304_without_a_body(client: TestClient) -> None:
    etag = client.get("/v1/statements?limit=2").headers["etag"]
    again = client.get("/v1/statements?limit=2", headers={"If-None-Match": etag})
    assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", etag)
    # RFC 9110 15.4.5: the caching fields a 200 has, no other representation metadata
    # (a cache would write it over the stored response's); no content to guard either.
    assert again.headers["cache-control"] == "public, max-age=60"
    assert again.headers["vary"] == "Accept, Accept-Encoding, Origin"
    assert again.headers["x-request-id"]
    for absent in ("last-modified", "x-data-version", "x-content-type-options", "content-type"):
        assert absent not in again.headers, absent
    other = client.get("/v1/statements?limit=3", headers={"If-None-Match": etag})
    assert other.status_code == 200
    assert other.headers["etag"] != etag
    csv = client.get(
        "/v1/statements?limit=2", headers={"If-None-Match": etag, "Accept": "text/csv"}
    )
    assert csv.status_code == 200


def test_a_write_by_another_process_shows_within_the_version_ttl(
    fresh_url: str, client_for: Callable[..., TestClient], tmp_path: Path
) -> None:
    client = client_for(fresh_url, version_ttl=0.3)
    before = client.get("/v1/treaties/new-start")
    version = int(before.headers["x-data-version"])
    engine = make_engine(fresh_url)
    load_paths(engine, [SEED])  # nothing changes: the version stays
    assert client.get("/v1/meta").json()["data_version"] == version
    treaties = yaml.safe_load((SEED / "treaties.yaml").read_text())
    treaties[0]["summary"] += " (edited)"
    (tmp_path / "treaties.yaml").write_text(yaml.safe_dump(treaties))
    load_paths(engine, [tmp_path / "treaties.yaml"])  # as the CLI would, from outside
    engine.dispose()
    etag = {"If-None-Match": before.headers["etag"]}
    time.sleep(0.35)  # the TTL: until then this process may still trust the version it read
    after = client.get("/v1/treaties/new-start", headers=etag)
    assert after.status_code == 200
    assert int(after.headers["x-data-version"]) == version + 1
    assert after.json()["summary"].endswith("(edited)")


def test_a_write_through_this_process_shows_at_once(
    fresh_url: str, client_for: Callable[..., TestClient]
) -> None:
    client = client_for(fresh_url, version_ttl=3600)
    before = client.get("/v1/statements?limit=1")
    engine = make_engine(fresh_url)
    with Session(engine) as session, session.begin():
        token = create_token(session, name="editor", role=Role.editor)
    engine.dispose()
    record = client.get("/v1/records/statements/" + before.json()["items"][0]["id"])
    patched = client.patch(
        record.request.url.path,
        json={"note": "edited"},
        headers={"If-Match": record.headers["etag"], "Authorization": f"Bearer {token}"},
    )
    assert patched.status_code == 200
    after = client.get("/v1/statements?limit=1", headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200
    assert int(after.headers["x-data-version"]) == int(before.headers["x-data-version"]) + 1


def test_meta_describes_the_dataset(client: TestClient) -> None:
    meta = client.get("/v1/meta").json()
    assert meta["counts"]["statements"] == 27
    assert meta["counts"]["treaties"] == 3
    assert meta["data_version"] >= 1
    assert f"data version {meta['data_version']}" in meta["citation"]
    assert meta["licence"]


def test_cors_exposes_paging_and_cache_headers(client: TestClient) -> None:
    response = client.get("/v1/statements", headers={"Origin": "https://app.example"})
    assert response.headers["access-control-allow-origin"] == "*"
    exposed = response.headers["access-control-expose-headers"]
    assert {"Link", "ETag", "X-Data-Version"} <= {h.strip() for h in exposed.split(",")}


def test_cors_with_listed_origins_names_only_those(
    shared_url: str, client_for: Callable[..., TestClient]
) -> None:
    client = client_for(shared_url, cors_origins=["https://app.example"])
    listed = client.get("/v1/treaties", headers={"Origin": "https://app.example"})
    assert listed.headers["access-control-allow-origin"] == "https://app.example"
    assert listed.headers["vary"] == "Accept, Accept-Encoding, Origin"  # a copy per origin
    other = client.get("/v1/treaties", headers={"Origin": "https://elsewhere.example"})
    assert "access-control-allow-origin" not in other.headers
    preflight = client.options(
        "/v1/treaties",
        headers={"Origin": "https://elsewhere.example", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 400


def test_options_and_405_name_every_method_of_the_path(client: TestClient) -> None:
    options = client.options("/v1/statements")
    assert options.status_code == 204
    assert options.headers["allow"] == "GET, HEAD, OPTIONS"
    refused = client.delete("/v1/statements")
    assert refused.status_code == 405
    assert refused.headers["allow"] == "GET, HEAD, OPTIONS"


def test_head_answers_like_get_without_a_body(client: TestClient) -> None:
    head = client.head("/v1/treaties/open-skies")
    get = client.get("/v1/treaties/open-skies")
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["etag"] == get.headers["etag"]


def test_if_modified_since_gets_a_304_when_nothing_changed_since(client: TestClient) -> None:
    """RFC 9110 13.1.3: Last-Modified is sent, so If-Modified-Since is answered."""
    first = client.get("/v1/treaties/inf")
    since = first.headers["last-modified"]
    again = client.get("/v1/treaties/inf", headers={"If-Modified-Since": since})
    assert (again.status_code, again.content) == (304, b"")
    assert again.headers["etag"] == first.headers["etag"].removeprefix("W/")
    older = client.get(
        "/v1/treaties/inf", headers={"If-Modified-Since": "Sun, 01 Nov 2020 00:00:00 GMT"}
    )
    assert older.status_code == 200
    for ignored in ("yesterday", ""):  # not an HTTP date: the full answer
        assert (
            client.get("/v1/treaties/inf", headers={"If-Modified-Since": ignored}).status_code
            == 200
        )
    # If-None-Match, when sent, decides alone (RFC 9110 13.2.2).
    both = {"If-Modified-Since": since, "If-None-Match": '"another"'}
    assert client.get("/v1/treaties/inf", headers=both).status_code == 200


def test_last_modified_is_no_older_than_today(client: TestClient) -> None:
    """Statuses and roles are as of today: an answer may change at midnight with no write."""
    stamp = client.get("/v1/treaties/inf").headers["last-modified"]
    modified = parsedate_to_datetime(stamp)
    assert modified.date() == dt.datetime.now(dt.UTC).date()


@pytest.mark.parametrize("coding", ["gzip", "br"])
def test_json_csv_and_ndjson_are_compressed_for_a_client_that_takes_it(
    client: TestClient, coding: str
) -> None:
    for url in (
        "/v1/treaties/new-start",
        "/v1/statements?format=csv",
        "/v1/statements?format=ndjson",
    ):
        plain = client.get(url, headers={"Accept-Encoding": "identity"})
        packed = client.get(url, headers={"Accept-Encoding": coding})
        assert "content-encoding" not in plain.headers
        assert packed.headers["content-encoding"] == coding
        assert packed.content == plain.content  # httpx decodes it
        assert packed.num_bytes_downloaded < len(plain.content) / 2, url
        assert "Accept-Encoding" in packed.headers["vary"]
        # Another representation, so another tag: the same one, weak (RFC 9110 8.8.3).
        assert packed.headers["etag"] == "W/" + plain.headers["etag"]
        revalidated = client.get(url, headers={"If-None-Match": packed.headers["etag"]})
        assert (revalidated.status_code, revalidated.headers["etag"]) == (
            304,
            packed.headers["etag"],
        )


@pytest.mark.parametrize(
    ("accept_encoding", "coding"),
    [
        ("gzip, deflate, br, zstd", "br"),
        ("gzip, br;q=0", "gzip"),
        ("br;q=0.0, *", "gzip"),
        ("deflate", None),
        ("gzip;q=0, br;q=0", None),
    ],
)
def test_the_coding_is_the_one_accept_encoding_allows(
    client: TestClient, accept_encoding: str, coding: str | None
) -> None:
    answer = client.get("/v1/treaties/new-start", headers={"Accept-Encoding": accept_encoding})
    assert answer.headers.get("content-encoding") == coding
    assert answer.json()["slug"] == "new-start"


def test_small_answers_are_not_compressed(client: TestClient) -> None:
    small = client.get("/v1/statements?limit=1&fields=id", headers={"Accept-Encoding": "gzip"})
    assert len(small.content) < 1024
    assert "content-encoding" not in small.headers


def test_the_explorer_page_answers_if_none_match(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    again = client.get("/", headers={"If-None-Match": page.headers["etag"]})
    assert (again.status_code, again.content) == (304, b"")
    since = client.get("/", headers={"If-Modified-Since": page.headers["last-modified"]})
    assert since.status_code == 304
