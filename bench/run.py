"""Run the benchmark: our service, Datasette on the same file, and a bare ASGI ceiling.

    python -m bench.run --statements 100000 --duration 10

One server at a time is pinned to CPU 0 and wrk to CPU 1, so each figure is measured on
the same machine in the same run. Results print as a table and land in bench/results/.
"""

import argparse
import json
import os
import re
import resource
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from bench.generate import generate

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / ".work"
RESULTS = ROOT / "bench" / "results"
NEW_START_SQL = (
    "select s.* from statement s join statement_treaty t on t.statement_id = s.id "
    "where t.treaty_slug = 'new-start' order by s.said_on desc, s.id desc limit 50"
)
SEARCH_SQL = (
    "select d.type, d.key, d.label, snippet(search_fts, -1, '<b>', '</b>', '…', 16) as snippet "
    "from search_fts join search_document d on d.id = search_fts.rowid "
    "where search_fts match 'verification' order by rank limit 50"
)

PAGE_SQL = "select * from statement order by said_on desc, id desc limit 50"
PLAIN = "_size=50&_nocount=1&_nofacet=1"
RANGE = "since=2000-01-01&until=2009-12-31"


def sql(query: str) -> str:
    return str(httpx.QueryParams({"sql": query, "_shape": "objects"}))


def load(url: str, statements: int) -> dict[str, float]:
    """Build the database through the project's own loader; time it and its peak memory."""
    data = WORK / f"statements-{statements}.ndjson"
    if not data.exists():
        generate(data, statements)
    env = {**os.environ, "TREATYKB_DATABASE_URL": url}
    treatykb = [sys.executable, "-m", "app.cli", "load"]
    subprocess.run([*treatykb, str(ROOT / "seed_data")], env=env, check=True, capture_output=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    subprocess.run([*treatykb, str(data)], env=env, check=True, capture_output=True)
    seconds = time.perf_counter() - started
    peak_mib = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    return {"seconds": seconds, "rows_per_s": statements / seconds, "peak_mib": peak_mib}


def serve(command: list[str], port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(["taskset", "-c", "0", *command], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    for _ in range(200):
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=0.5)
            return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"server on port {port} did not start: {command}")


def wrk(url: str, duration: int, connections: int, headers: list[str] = ()) -> dict[str, float]:
    extra = [arg for h in headers for arg in ("-H", h)]
    base = ["taskset", "-c", "1", "wrk", "-t1", f"-c{connections}", "--latency", *extra]
    subprocess.run([*base, "-d2s", url], capture_output=True, check=True)  # warm-up
    out = subprocess.run(
        [*base, f"-d{duration}s", url], capture_output=True, text=True, check=True
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)

    def percentile(p: str) -> float:
        value, unit = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    return {"rps": rps, "p50_ms": percentile("50"), "p99_ms": percentile("99"),
            "errors": int(errors.group(1)) if errors else 0}  # fmt: skip


def deep_cursor(db: Path, offset: int) -> str:
    sys.path.insert(0, str(ROOT))
    from app.pagination import _encode
    from app.statements.service import NEWEST_FIRST

    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "select said_on, id from statement order by said_on desc, id desc limit 1 offset ?",
            (offset - 1,),
        ).fetchone()
    return _encode(NEWEST_FIRST, list(row))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--statements", type=int, default=1_000_000)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument(
        "--postgres",
        metavar="ADMIN_URL",
        help="also load and serve the same data on PostgreSQL (a database bench_<N> is made)",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="CI: our service only, fail on any non-2xx/3xx answer or a rate under --floor",
    )
    parser.add_argument("--floor", type=float, default=50.0)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")
    WORK.mkdir(parents=True, exist_ok=True)
    db = WORK / f"bench-{args.statements}.db"
    loading = None
    if args.rebuild or not db.exists():
        for stale in WORK.glob(f"bench-{args.statements}.db*"):
            stale.unlink()
        loading = load(f"sqlite:///{db}", args.statements)
    results = run_workloads(db, args)
    partial = {"loading": loading, "results": results}
    (WORK / f"partial-{args.statements}.json").write_text(json.dumps(partial, indent=2))
    if args.postgres:
        url, pg_loading = postgres_database(args)
        results["postgres"] = serve_ours(url, db, args)
        results["postgres_loading"] = pg_loading  # type: ignore[assignment]
    report(args, loading, results)
    if args.smoke:
        smoke_check(results["ours"], args.floor)


def our_paths(db: Path, statements: int) -> dict[str, str]:
    # 10,000 pages of 50 deep (or half way, for a smaller run).
    cursor = deep_cursor(db, min(statements // 2, 500_000))
    middle = f"gen-{statements // 2:07d}"
    return {
        "by_id": f"/v1/statements/{middle}",
        "treaty_detail": "/v1/treaties/new-start",
        "list_treaty": "/v1/statements?treaty=new-start&limit=50",
        "list_filtered": f"/v1/statements?speaker=sergei-lavrov&{RANGE}&limit=50",
        "search": "/v1/search?q=verification&limit=50",
        "deep_page": f"/v1/statements?limit=50&cursor={cursor}",
        "first_page": "/v1/statements?limit=50",
    }


def serve_ours(url: str, db: Path, args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """Our service on `url`: every workload, the 304, the CSV export."""
    ours = our_paths(db, args.statements)
    results: dict[str, dict[str, float]] = {}
    env = {**os.environ, "TREATYKB_DATABASE_URL": url, **SERVER_ENV}
    uvicorn = [sys.executable, "-m", "uvicorn", "--log-level", "warning", "--no-server-header"]
    server = serve([*uvicorn, "app.main:create_app", "--factory", "--port", "8101"], 8101, env)
    try:
        base = "http://127.0.0.1:8101"
        # Read the validator while the server is idle: after a slow workload it has a queue.
        etag = httpx.get(base + ours["by_id"], timeout=120).headers["etag"]
        for name, path in ours.items():
            results[name] = wrk(base + path, args.duration, args.connections)
        results["revalidate_304"] = wrk(
            base + ours["by_id"], args.duration, args.connections, [f"If-None-Match: {etag}"]
        )
        results["csv_export"] = csv_export(base, min(args.statements, 100_000))
    finally:
        server.terminate()
    return results


def postgres_database(args: argparse.Namespace) -> tuple[str, dict[str, float] | None]:
    """bench_<N> on the PostgreSQL server, loaded through our loader unless it exists."""
    admin = httpx.URL(args.postgres)
    name = f"bench_{args.statements}"
    url = str(admin.copy_with(path=f"/{name}"))
    import psycopg

    with psycopg.connect(args.postgres, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists and not args.rebuild:
            return url, None
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    return url, load(url, args.statements)


SERVER_ENV = {
    # One load generator is one client address: the limiter still counts every request,
    # with a limit it never reaches. Logging stays on (to /dev/null).
    "TREATYKB_RATE_LIMIT_ANONYMOUS": "1000000000/60",
}


def run_workloads(db: Path, args: argparse.Namespace) -> dict[str, dict[str, dict[str, float]]]:
    deep = min(args.statements // 2, 500_000)
    results: dict[str, dict[str, dict[str, float]]] = {"ours": {}, "datasette": {}, "ceiling": {}}
    results["ours"] = serve_ours(f"sqlite:///{db}", db, args)
    if args.smoke:
        return results
    middle = f"gen-{args.statements // 2:07d}"
    theirs = {
        "by_id": f"/{db.stem}/statement/{middle}.json",
        "treaty_detail": f"/{db.stem}/treaty/new-start.json",
        "list_treaty": f"/{db.stem}.json?" + sql(NEW_START_SQL),
        "list_filtered": f"/{db.stem}/statement.json?speaker_slug=sergei-lavrov"
        f"&said_on__gte=2000-01-01&said_on__lte=2009-12-31&_sort_desc=said_on&{PLAIN}",
        "search": f"/{db.stem}.json?" + sql(SEARCH_SQL),
        "deep_page": f"/{db.stem}.json?" + sql(f"{PAGE_SQL} offset {deep}"),
        "first_page": f"/{db.stem}/statement.json?_sort_desc=said_on&{PLAIN}",
    }
    env = {**os.environ, "TREATYKB_DATABASE_URL": f"sqlite:///{db}", **SERVER_ENV}
    uvicorn = [sys.executable, "-m", "uvicorn", "--log-level", "warning", "--no-server-header"]
    datasette = shutil.which("datasette") or str(Path(sys.executable).parent / "datasette")
    server = serve([datasette, str(db), "--port", "8102"], 8102, env)
    try:
        for name, path in theirs.items():
            results["datasette"][name] = wrk(
                "http://127.0.0.1:8102" + path, args.duration, args.connections
            )
    finally:
        server.terminate()
    server = serve([*uvicorn, "bench.hello:app", "--port", "8103"], 8103, env)
    try:
        results["ceiling"]["hello"] = wrk("http://127.0.0.1:8103/", args.duration, args.connections)
    finally:
        server.terminate()
    return results


def csv_export(base: str, rows: int) -> dict[str, float]:
    """Stream `rows` statements as CSV with curl on the load generator's core (a Python
    client on an unpinned core competes with the server and measures itself)."""
    target = WORK / "export.csv"
    url = f"{base}/v1/statements?format=csv&limit={rows}"
    started = time.perf_counter()
    subprocess.run(["taskset", "-c", "1", "curl", "-sf", "-o", str(target), url], check=True)
    seconds = time.perf_counter() - started
    with target.open("rb") as body:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: body.read(1 << 20), b""))
    target.unlink()
    return {"rows": lines - 1, "rows_per_s": (lines - 1) / seconds}


def say(line: str) -> None:
    sys.stdout.write(line + "\n")


def report(args: argparse.Namespace, loading: dict[str, float] | None, results: Any) -> None:
    RESULTS.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    payload = {
        "statements": args.statements,
        "duration_s": args.duration,
        "connections": args.connections,
        "loading": loading,
        "results": results,
    }
    (RESULTS / f"{stamp}-{args.statements}.json").write_text(json.dumps(payload, indent=2))
    ceiling = results["ceiling"].get("hello", {}).get("rps")
    postgres = results.get("postgres", {})
    say(f"\n{args.statements:,} statements, one server core, wrk -c{args.connections}, "
        f"{args.duration} s per workload")  # fmt: skip
    say(f"{'workload':<16}{'ours r/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'datasette':>11}{'x':>7}"
        f"{'% ceiling':>11}{'pg r/s':>9}{'pg p50':>9}{'non-2xx':>9}")  # fmt: skip
    for name, ours in results["ours"].items():
        if "rps" not in ours:
            continue
        other = results["datasette"].get(name, {})
        ratio = f"{ours['rps'] / other['rps']:.1f}" if other.get("rps") else "-"
        errors = ours["errors"] + other.get("errors", 0) + postgres.get(name, {}).get("errors", 0)
        share = f"{100 * ours['rps'] / ceiling:.0f}%" if ceiling else "-"
        pg = postgres.get(name, {})
        say(f"{name:<16}{ours['rps']:>10.0f}{ours['p50_ms']:>9.1f}{ours['p99_ms']:>9.1f}"
            f"{other.get('rps', 0):>11.0f}{ratio:>7}{share:>11}"
            f"{pg.get('rps', 0):>9.0f}{pg.get('p50_ms', 0):>9.1f}{errors:>9}")  # fmt: skip
    if ceiling:
        say(f"{'hello (ceiling)':<16}{ceiling:>10.0f}")
    export = results["ours"]["csv_export"]
    say(
        f"CSV export: {export['rows']:,} rows at {export['rows_per_s']:,.0f} rows/s"
        + (f" (PostgreSQL {postgres['csv_export']['rows_per_s']:,.0f})" if postgres else "")
    )
    for label, load in (("SQLite", loading), ("PostgreSQL", results.get("postgres_loading"))):
        if load:
            say(f"Loading on {label}: {load['seconds']:.1f} s ({load['rows_per_s']:,.0f} rows/s), "
                f"peak {load['peak_mib']:.0f} MiB")  # fmt: skip


def smoke_check(ours: dict[str, dict[str, float]], floor: float) -> None:
    """CI's guard against gross regressions: no errors, no workload below the floor."""
    bad = [
        f"{name}: {r['rps']:.0f} r/s, {r['errors']} non-2xx/3xx"
        for name, r in ours.items()
        if "rps" in r and (r["errors"] or r["rps"] < floor)
    ]
    if bad:
        raise SystemExit("benchmark smoke test failed: " + "; ".join(bad))
    say(f"benchmark smoke test passed: every workload above {floor:.0f} r/s, no errors")


if __name__ == "__main__":
    main()
