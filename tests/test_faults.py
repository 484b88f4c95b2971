"""Fault tests against real `treatykb serve` processes on loopback (CI: `pytest -m fault`).

(a) kill -9 in the middle of a large import, repeated: the database holds the whole
    import or none of it, and passes an integrity check;
(b) two server processes on one PostgreSQL, 8 clients x 200 writes with If-Match retries:
    every acknowledged write is there exactly once;
(c) PostgreSQL restarted under load: 503 problem+json during the outage, 200 after it,
    without restarting the API;
(d) kill -9 while a server replays an import into its search index: every document is
    found once after a restart;
(e) two server processes, each with its own search index: what one imports, the other finds.
"""

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlmodel import Session

from app import models as m
from app.curation.tokens import Role, create_token
from app.db import is_sqlite, make_engine
from app.meta.service import begin_write, bump_version

pytestmark = pytest.mark.fault
ROUNDS = 3
IMPORT_SIZE = 20_000


def say(line: str) -> None:
    """Figures for the CI log (run with -s)."""
    sys.stdout.write(line + "\n")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """`treatykb serve --no-migrate` in a process of its own."""

    def __init__(self, url: str, **env: str) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        environ = {
            **os.environ,
            "TREATYKB_DATABASE_URL": url,
            "TREATYKB_RATE_LIMIT_TOKEN": "1000000/60",
            "TREATYKB_RATE_LIMIT_ANONYMOUS": "1000000/60",
            **env,
        }
        command = [
            sys.executable,
            "-m",
            "app.cli",
            "serve",
            "--no-migrate",
            "--port",
            str(self.port),
        ]
        self.process = subprocess.Popen(
            command, env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.base + "/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        raise AssertionError(f"server on {self.port} did not become ready")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def _token(url: str, name: str = "fault") -> str:
    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        token = create_token(session, name=name, role=Role.editor)
    engine.dispose()
    return token


def _bundle(prefix: str, count: int) -> bytes:
    lines = (
        json.dumps(
            {
                "resource": "statements",
                "record": {
                    "id": f"{prefix}-{i:06d}",
                    "text": f"Fault-test statement {i} on verification.",
                    "speaker": "sergei-lavrov",
                    "said_on": "2020-11",
                    "treaties": ["new-start"],
                    "sources": ["jpnd-2021-new-start-extension"],
                },
            }  # fmt: skip
        )
        for i in range(count)
    )
    return ("\n".join(lines) + "\n").encode()


def _stored(url: str, prefix: str) -> dict[str, int]:
    engine = make_engine(url)
    with Session(engine) as session:
        like = f"{prefix}-%"
        counts = {
            "statements": session.scalar(
                select(func.count()).where(m.Statement.id.like(like))  # type: ignore[attr-defined]
            ),
            "links": session.scalar(
                select(func.count()).where(m.StatementTreaty.statement_id.like(like))  # type: ignore[attr-defined]
            ),
            "search": session.scalar(
                select(func.count()).where(
                    m.SearchDocument.type == "statement",
                    m.SearchDocument.key.like(like),  # type: ignore[attr-defined]
                )
            ),
            "changes": session.scalar(
                select(func.count()).where(m.Change.key.like(like))  # type: ignore[attr-defined]
            ),
        }
        if is_sqlite(engine):
            assert session.execute(text("PRAGMA integrity_check")).scalar() == "ok"
            assert session.execute(text("PRAGMA foreign_key_check")).all() == []
            fts = session.execute(
                text("INSERT INTO search_fts(search_fts, rank) VALUES('integrity-check', 1)")
            )
            assert fts is not None  # raises if the full-text index disagrees with its table
    engine.dispose()
    return {k: int(v or 0) for k, v in counts.items()}


def test_kill_9_during_an_import_leaves_all_or_nothing(fresh_url: str) -> None:
    token = _token(fresh_url)
    rng = random.Random(9)
    outcomes = []
    for round_ in range(ROUNDS):
        prefix = f"fault-r{round_}"
        body = _bundle(prefix, IMPORT_SIZE)
        server = Server(fresh_url)
        answered: list[int] = []

        def post(
            base: str = server.base, payload: bytes = body, answered: list[int] = answered
        ) -> None:
            try:
                response = httpx.post(
                    base + "/v1/imports", content=payload, timeout=120,
                    headers={"Authorization": f"Bearer {token}",
                             "Content-Type": "application/x-ndjson"},
                )  # fmt: skip
                answered.append(response.status_code)
            except httpx.TransportError:
                pass  # the server died under it: expected

        sender = threading.Thread(target=post)
        sender.start()
        time.sleep(rng.uniform(0.5, 2.5))
        server.kill()
        sender.join(timeout=30)
        stored = _stored(fresh_url, prefix)
        if stored["statements"]:
            # The whole import: every row, its link, its search document, its change entry.
            assert stored == dict.fromkeys(stored, IMPORT_SIZE), stored
        else:
            assert stored == dict.fromkeys(stored, 0), stored
        outcomes.append(("all" if stored["statements"] else "none", answered))
    say(f"kill -9 rounds ({IMPORT_SIZE:,} statements each): {[k for k, _ in outcomes]}")
    # At least one kill must have landed mid-import, or the test proved nothing.
    assert any(kind == "none" and not answered for kind, answered in outcomes), outcomes
    # And the service comes back: the next import through a new process completes.
    server = Server(fresh_url)
    try:
        response = httpx.post(
            server.base + "/v1/imports", content=_bundle("fault-after", 100), timeout=60,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"},
        )  # fmt: skip
        assert response.status_code == 200, response.text
    finally:
        server.stop()
    assert _stored(fresh_url, "fault-after")["statements"] == 100


def _import(base: str, token: str, body: bytes) -> None:
    response = httpx.post(
        base + "/v1/imports", content=body, timeout=120,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"},
    )  # fmt: skip
    assert response.status_code == 200, response.text


def _search_total(base: str, q: str) -> int:
    response = httpx.get(base + "/v1/search", params={"q": q, "limit": 1}, timeout=120)
    assert response.status_code == 200, response.text
    return int(response.json()["total"])


def _worded(word: str, count: int) -> bytes:
    """A bundle whose statements all hold `word` (and only they do)."""
    return _bundle(word, count).replace(b"Fault-test statement", f"{word} said".encode())


def test_kill_9_while_the_search_index_catches_up_loses_no_document(
    fresh_url: str, tmp_path: Any
) -> None:
    """An import committed; the first search after it replays the change log into the
    index, and the server is killed at a random moment of that (or before it began).
    The next server, on the same index directory, finds every document exactly once."""
    token = _token(fresh_url)
    index = {"TREATYKB_SEARCH_INDEX": str(tmp_path / "index")}
    rng = random.Random(26)
    interrupted = 0
    for round_ in range(ROUNDS):
        word = f"zorbulon{round_}"
        server = Server(fresh_url, **index)
        _import(server.base, token, _worded(word, IMPORT_SIZE))
        answered: list[int] = []
        searching = threading.Thread(
            target=lambda b=server.base, w=word, a=answered: _quietly(a, b, w)
        )
        searching.start()
        time.sleep(rng.uniform(0.0, 0.6))
        server.kill()
        searching.join(timeout=30)
        interrupted += not answered
        server = Server(fresh_url, **index)
        try:
            totals = [_search_total(server.base, f"zorbulon{r}") for r in range(round_ + 1)]
        finally:
            server.stop()
        assert totals == [IMPORT_SIZE] * (round_ + 1), totals
    say(f"kill -9 during the index's catch-up: {interrupted} of {ROUNDS} searches cut off")
    assert interrupted, "no kill landed before the search answered: the test proved nothing"


def _quietly(answered: list[int], base: str, word: str) -> None:
    try:
        answered.append(_search_total(base, word))
    except httpx.TransportError:
        pass  # the server died under it: expected


def test_a_write_through_one_instance_is_found_through_another(
    fresh_url: str, tmp_path: Any
) -> None:
    """Two server processes on one database, each with its own index directory: what one
    imports, the other finds at its next data version."""
    token = _token(fresh_url)
    one = Server(fresh_url, TREATYKB_SEARCH_INDEX=str(tmp_path / "one"))
    two = Server(fresh_url, TREATYKB_SEARCH_INDEX=str(tmp_path / "two"), TREATYKB_VERSION_TTL="0")
    try:
        assert _search_total(two.base, "quintessa") == 0
        _import(one.base, token, _worded("quintessa", 100))
        assert _search_total(two.base, "quintessa") == 100
        assert _search_total(one.base, "quintessa") == 100
    finally:
        one.stop()
        two.stop()


HOT = [
    "lavrov-2020-11-12-wait-until-the-dust-settles",
    "biegun-2020-11-09-a-gamble",
]
CLIENTS, WRITES = 8, 200


def _writer(
    base: str, token: str, client: int, acked: list[str], errors: list[str], refused: list[int]
) -> None:
    rng = random.Random(client)
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, timeout=30, headers=auth) as http:
        for write in range(WRITES):
            mark = f"c{client}w{write}"
            key = HOT[rng.randrange(len(HOT))]
            for _attempt in range(200):
                current = http.get(f"/v1/records/statements/{key}")
                note = current.json().get("note") or ""
                patched = http.patch(
                    f"/v1/records/statements/{key}",
                    json={"note": f"{note} {mark}".strip()},
                    headers={"If-Match": current.headers["etag"]},
                )
                if patched.status_code == 200:
                    acked.append(mark)
                    break
                refused.append(patched.status_code)
                if patched.status_code not in (412, 503):
                    errors.append(f"{mark}: {patched.status_code} {patched.text}")
                    return
            else:
                errors.append(f"{mark}: gave up after 200 attempts")
                return


def test_two_instances_lose_no_acknowledged_write(databases: Any) -> None:
    if databases.backend.name != "postgresql":
        pytest.skip("several processes share one database on PostgreSQL")
    url = databases.fresh()
    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        begin_write(session)  # a write like any other: a data version of its own
        for key in HOT:
            session.execute(text("UPDATE statement SET note = NULL WHERE id = :id"), {"id": key})
        bump_version(session)
    engine.dispose()
    servers = [Server(url), Server(url)]
    token = _token(url)
    acked: list[str] = []
    errors: list[str] = []
    refused: list[int] = []
    started = time.monotonic()
    try:
        threads = [
            threading.Thread(
                target=_writer, args=(servers[c % 2].base, token, c, acked, errors, refused)
            )
            for c in range(CLIENTS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=600)
        headers = httpx.get(servers[0].base + "/v1/statements?limit=1").headers
    finally:
        for server in servers:
            server.stop()
    assert errors == []
    assert "server" not in headers  # neither instance advertises its software
    assert len(acked) == CLIENTS * WRITES
    engine = make_engine(url)
    with Session(engine) as session:
        notes = session.execute(
            select(m.Statement.note).where(m.Statement.id.in_(HOT))  # type: ignore[attr-defined]
        ).scalars()
        stored = [mark for note in notes for mark in (note or "").split()]
        logged = session.scalar(
            select(func.count()).where(
                m.Change.resource == "statements",
                m.Change.key.in_(HOT),  # type: ignore[attr-defined]
                m.Change.operation == "update",
            )
        )
    engine.dispose()
    assert len(stored) == len(set(stored))  # none duplicated
    assert set(stored) == set(acked)  # none lost, none invented
    assert logged == CLIENTS * WRITES  # one audit entry per acknowledged write
    say(
        f"two instances: {len(acked)} writes acknowledged and stored once each, "
        f"{refused.count(412)} stale If-Match refused and retried, "
        f"{time.monotonic() - started:.0f} s"
    )


def _cluster() -> tuple[str, str]:
    versions = sorted(os.listdir("/etc/postgresql")) if os.path.isdir("/etc/postgresql") else []
    if not versions or not shutil.which("pg_ctlcluster"):
        pytest.skip("needs a local PostgreSQL cluster managed by pg_ctlcluster")
    return versions[-1], "main"


def _pg_ctl(action: str, *, check: bool = True) -> None:
    version, name = _cluster()
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, name, action, *(
            ["-m", "fast"] if action == "stop" else [])],
        check=check, capture_output=True, timeout=60,
    )  # fmt: skip


def _poll(base: str, stop: threading.Event, seen: list[tuple[int, str]]) -> None:
    with httpx.Client(base_url=base, timeout=10) as http:
        i = 0
        while not stop.is_set():
            i += 1
            try:  # a new URL each time: the answer must come from the database
                response = http.get(f"/v1/statements?limit=1&since=19{i % 90 + 10}-01-01")
                seen.append((response.status_code, response.headers.get("content-type", "")))
            except httpx.TransportError as exc:
                seen.append((0, str(exc)))
            time.sleep(0.05)


@pytest.fixture
def restartable_postgres(databases: Any) -> Iterator[str]:
    if databases.backend.name != "postgresql":
        pytest.skip("restarts the PostgreSQL server")
    _cluster()
    yield databases.fresh()
    _pg_ctl("start", check=False)  # whatever happened, leave the server running (2: it is)


def test_postgres_restart_gives_503_then_recovers(restartable_postgres: str) -> None:
    server = Server(restartable_postgres, TREATYKB_VERSION_TTL="0")
    stop = threading.Event()
    seen: list[tuple[int, str]] = []
    poller = threading.Thread(target=_poll, args=(server.base, stop, seen))
    try:
        poller.start()
        time.sleep(1)
        _pg_ctl("stop")
        time.sleep(3)
        during = len(seen)
        _pg_ctl("start")
        time.sleep(4)
        stop.set()
        poller.join(timeout=30)
    finally:
        stop.set()
        server.stop()
    statuses = [status for status, _ in seen]
    assert 0 not in statuses, seen  # the API itself never went away
    assert set(statuses) <= {200, 503}, seen
    assert 503 in statuses[:during]
    assert all(kind == "application/problem+json" for s, kind in seen if s == 503)
    assert statuses[-10:] == [200] * 10  # recovered, same process
    outage = statuses.count(503)
    say(f"restart: {len(statuses)} requests, {outage} answered 503 during the outage")
