"""Issue 27's figures: reads at a past data version (`as_of`) beside the same reads now.

    python -m bench.as_of --statements 1000000 \\
        --postgres postgresql://postgres@127.0.0.1:5432/postgres --before /tmp/before

For each engine: the benchmark's synthetic statements loaded by our loader into a database
of its own (bench-asof-<N>.db, bench_asof_<N>), then three corrections of a tenth of
them (every tenth statement, its text changed: 10 % changed three times), each one bulk
import (`treatykb load`), timed. Then, with the response cache off, one server at a time
on CPU 0 and wrk on CPU 1:

- storage: the history tables (rows, data and indexes) against the values they replaced
  (the change log's before-values of those changes);
- single cold requests, one after the other: 200 statements by id (a tenth of them
  changed) and every treaty's newest 50 with its total, now and at the version before the
  first correction (the reads that go through the most history);
- the same two reads under load, a different statement or treaty each request
  (by_id_varied, treaty_varied), now and at that version;
- `--before` (a checkout of the commit before issue 27) serving the same database now:
  the current reads before and after history.

Writes bench/results/as-of-<time>-<N>.json and prints the tables.
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from bench.generate import generate
from bench.run import RESULTS, SERVER_ENV, UVICORN, WORK, say, serve, settle, treaty_slugs, wrk

PORT = 8121
ROUNDS = 3
SHARE = 10  # every tenth statement is corrected


def _env(url: str) -> dict[str, str]:
    return {**os.environ, "TREATYKB_DATABASE_URL": url}


def _load(url: str, path: Path) -> float:
    started = time.perf_counter()
    treatykb = [sys.executable, "-m", "app.cli", "load", "--quiet", str(path)]
    subprocess.run(treatykb, env=_env(url), check=True, capture_output=True)
    return time.perf_counter() - started


def corrections(data: Path, round_: int) -> Path:
    """Every tenth statement of the bundle with its text corrected (round `round_`)."""
    out = WORK / f"corrections-{data.stem}-{round_}.ndjson"
    with data.open() as lines, out.open("w") as written:
        n = 0
        for line in lines:
            item = json.loads(line)
            if item["resource"] != "statements":
                continue
            if n % SHARE == 0:
                item["record"]["text"] += f" (corrected, round {round_})"
                written.write(json.dumps(item) + "\n")
            n += 1
    return out


def build(url: str, statements: int) -> dict[str, Any]:
    """The database: seed, statements, then ROUNDS corrections; each load timed."""
    data = WORK / f"statements-{statements}.ndjson"
    if not data.exists():
        generate(data, statements)
    figures: dict[str, Any] = {"seed_s": _load(url, Path("seed_data"))}
    figures["load_s"] = _load(url, data)
    figures["version_before_corrections"] = _version(url)
    figures["corrections_s"] = [_load(url, corrections(data, r)) for r in range(1, ROUNDS + 1)]
    return figures


def _version(url: str) -> int:
    from sqlalchemy import select

    from app import models as m
    from app.db import make_engine

    engine = make_engine(url)
    with engine.connect() as connection:
        version = connection.execute(select(m.DataVersion.version)).scalar_one()  # type: ignore[call-overload]
    engine.dispose()
    return int(version)


def storage(url: str, version: int) -> dict[str, Any]:
    """The history's rows and bytes (tables and indexes) against the before-values of the
    changes it keeps (what the corrected records held: the change log's JSON)."""
    from sqlalchemy import text

    from app.db import make_engine
    from app.history.tables import HISTORY_OF

    engine = make_engine(url)
    sqlite = engine.dialect.name == "sqlite"
    names = [hist.name for hist in HISTORY_OF.values()]
    with engine.connect() as connection:
        rows = {
            n: connection.execute(text(f'SELECT count(*) FROM "{n}"')).scalar_one() for n in names
        }
        if sqlite:
            sized = connection.execute(text(
                "SELECT tbl_name, sum(pgsize) FROM dbstat JOIN sqlite_master USING (name) "
                "WHERE tbl_name LIKE '%\\_\\_hist' ESCAPE '\\' GROUP BY tbl_name"
            )).all()  # fmt: skip
        else:
            sized = connection.execute(text(
                "SELECT relname, pg_total_relation_size(oid) FROM pg_class "
                "WHERE relkind = 'r' AND relname LIKE '%\\_\\_hist'"
            )).all()  # fmt: skip
        replaced = connection.execute(text(
            "SELECT count(*), sum(length(before)) FROM change WHERE before IS NOT NULL AND "
            "id > (SELECT last_change FROM data_version_log WHERE version = :v)"
        ), {"v": version}).one()  # fmt: skip
    engine.dispose()
    history = sum(int(size) for _, size in sized)
    return {
        "history_rows": {n: c for n, c in rows.items() if c},
        "history_bytes": history,
        "by_table": {name: int(size) for name, size in sized if size},
        "changes": int(replaced[0]),
        "replaced_value_bytes": int(replaced[1] or 0),
        "ratio": history / (replaced[1] or 1),
    }


def start(url: str, cwd: Path | None) -> Any:
    env = {**os.environ, "TREATYKB_DATABASE_URL": url, "TREATYKB_RESPONSE_CACHE": "false",
           **SERVER_ENV}  # fmt: skip
    server = serve([*UVICORN, "app.main:create_app", "--factory", "--port", str(PORT)], PORT,
                   env, cwd=cwd)  # fmt: skip
    base = f"http://127.0.0.1:{PORT}"
    httpx.get(base + "/v1/treaties", timeout=120).raise_for_status()  # imports, first plans
    return server


def singles(base: str, paths: list[str]) -> dict[str, float]:
    """Each path asked once, one after the other: p50, p99 and max in ms."""
    times = []
    with httpx.Client(base_url=base, timeout=300) as client:
        for path in paths:
            started = time.perf_counter()
            client.get(path).raise_for_status()
            times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {"p50": round(statistics.median(times), 2),
            "p99": round(times[min(len(times) - 1, round(0.99 * (len(times) - 1)))], 2),
            "max": round(times[-1], 2)}  # fmt: skip


def ids(statements: int) -> list[str]:
    """200 statement ids, a tenth of them corrected ones (every tenth)."""
    rng = random.Random(27)
    return [f"gen-{rng.randrange(statements):07d}" for _ in range(180)] + [
        f"gen-{SHARE * rng.randrange(statements // SHARE):07d}" for _ in range(20)
    ]


def measure_side(base: str, args: argparse.Namespace, tail: str) -> dict[str, Any]:
    """The two reads at one version (`tail`: "" now, or "&as_of=N"), single and loaded."""
    words = WORK / f"asof-ids-{args.statements}.txt"
    words.write_text("\n".join(ids(args.statements)) + "\n")
    treaties = treaty_slugs(0)
    by_id = [f"/v1/statements/{i}?{tail.lstrip('&')}" for i in ids(args.statements)]
    lists = [f"/v1/statements?treaty={t}&limit=50{tail}" for t in treaties.read_text().split()]
    result: dict[str, Any] = {"by_id_single": singles(base, by_id),
                              "treaty_single": singles(base, lists)}  # fmt: skip
    for name, template, source in (
        ("by_id_varied", f"/v1/statements/%s?{tail.lstrip('&')}", words),
        ("treaty_varied", f"/v1/statements?treaty=%s&limit=%d{tail}", treaties),
    ):
        settle(base)
        result[name] = wrk(base + "/", args.duration, args.connections, template=template,
                           words=source)  # fmt: skip
    return result


def run_engine(url: str, args: argparse.Namespace) -> dict[str, Any]:
    built = WORK / f"asof-build-{url.split(':')[0]}-{args.statements}.json"
    if args.reuse and built.exists():
        figures = json.loads(built.read_text())
    else:
        figures = build(url, args.statements)
        built.write_text(json.dumps(figures))
    past = figures["version_before_corrections"]
    figures["storage"] = storage(url, past)
    if url.startswith("sqlite"):  # the loads' WAL folded in: every server reads the same file
        import sqlite3

        with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    sides: list[tuple[str, Path | None, str]] = [
        ("now", None, ""),
        ("as_of", None, f"&as_of={past}"),
    ]
    if args.before:
        sides.append(("before_now", args.before, ""))
    for name, cwd, tail in sides:
        say(f"  {name} ...")
        server = start(url, cwd)
        try:
            figures[name] = measure_side(f"http://127.0.0.1:{PORT}", args, tail)
        finally:
            server.terminate()
            server.wait()
    return figures


def fresh_urls(args: argparse.Namespace) -> dict[str, str]:
    """The databases, emptied (or, with --reuse, as an earlier run left them)."""
    db = WORK / f"bench-asof-{args.statements}.db"
    if not args.reuse and args.only in (None, "sqlite"):
        for stale in WORK.glob(f"{db.name}*"):
            subprocess.run(["rm", "-rf", str(stale)], check=True)
    found = {"sqlite": f"sqlite:///{db}"}
    if args.postgres:
        import psycopg

        name = f"bench_asof_{args.statements}"
        if not args.reuse and args.only in (None, "postgresql"):
            with psycopg.connect(args.postgres, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
                conn.execute(f"CREATE DATABASE {name}")
        found["postgresql"] = str(httpx.URL(args.postgres).copy_with(path=f"/{name}")).replace(
            "postgresql://", "postgresql+psycopg://"
        )
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--statements", type=int, default=1_000_000)
    parser.add_argument("--postgres", default=None)
    parser.add_argument("--before", type=Path, default=None)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--only", choices=["sqlite", "postgresql"], default=None)
    parser.add_argument("--reuse", action="store_true", help="measure the databases built before")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"statements": args.statements}
    for engine, url in fresh_urls(args).items():
        if args.only and engine != args.only:
            continue
        say(f"{engine} ...")
        results[engine] = run_engine(url, args)
        say(json.dumps(results[engine], indent=1))
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"as-of-{time.strftime('%Y%m%dT%H%M%S')}-{args.statements}.json"
    out.write_text(json.dumps(results, indent=1))
    say(str(out))


if __name__ == "__main__":
    main()
