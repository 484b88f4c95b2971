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


def load(db: Path, statements: int) -> dict[str, float]:
    """Build the database through the project's own loader; time it and its peak memory."""
    data = generate(WORK / f"statements-{statements}.ndjson", statements)
    env = {**os.environ, "TREATYKB_DATABASE_URL": f"sqlite:///{db}"}
    treatykb = [sys.executable, "-m", "app.cli", "load"]
    subprocess.run([*treatykb, str(ROOT / "seed_data")], env=env, check=True, capture_output=True)
    started = time.perf_counter()
    subprocess.run([*treatykb, str(data)], env=env, check=True, capture_output=True)
    seconds = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
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
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")
    WORK.mkdir(parents=True, exist_ok=True)
    db = WORK / f"bench-{args.statements}.db"
    loading = None
    if args.rebuild or not db.exists():
        for stale in WORK.glob(f"bench-{args.statements}.db*"):
            stale.unlink()
        loading = load(db, args.statements)
    results = run_workloads(db, args)
    report(args, loading, results)


def run_workloads(db: Path, args: argparse.Namespace) -> dict[str, dict[str, dict[str, float]]]:
    deep = args.statements // 2
    cursor = deep_cursor(db, deep)
    middle = f"gen-{args.statements // 2:07d}"
    ours = {
        "by_id": f"/v1/statements/{middle}",
        "treaty_detail": "/v1/treaties/new-start",
        "list_treaty": "/v1/statements?treaty=new-start&limit=50",
        "list_filtered": f"/v1/statements?speaker=sergei-lavrov&{RANGE}&limit=50",
        "search": "/v1/search?q=verification&limit=50",
        "deep_page": f"/v1/statements?limit=50&cursor={cursor}",
        "first_page": "/v1/statements?limit=50",
    }
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
    env = {
        **os.environ,
        "TREATYKB_DATABASE_URL": f"sqlite:///{db}",
        # One load generator is one client address: the limiter still counts every request,
        # with a limit it never reaches. Logging stays on (to /dev/null).
        "TREATYKB_RATE_LIMIT_ANONYMOUS": "1000000000/60",
    }
    results: dict[str, dict[str, dict[str, float]]] = {"ours": {}, "datasette": {}, "ceiling": {}}
    uvicorn = [sys.executable, "-m", "uvicorn", "--log-level", "warning", "--no-server-header"]
    server = serve([*uvicorn, "app.main:create_app", "--factory", "--port", "8101"], 8101, env)
    try:
        base = "http://127.0.0.1:8101"
        # Read the validator while the server is idle: after a slow workload it has a queue.
        etag = httpx.get(base + ours["by_id"], timeout=120).headers["etag"]
        for name, path in ours.items():
            results["ours"][name] = wrk(base + path, args.duration, args.connections)
        results["ours"]["revalidate_304"] = wrk(
            base + ours["by_id"], args.duration, args.connections, [f"If-None-Match: {etag}"]
        )
        results["ours"]["csv_export"] = csv_export(base, min(args.statements, 100_000))
    finally:
        server.terminate()
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
    started = time.perf_counter()
    with httpx.stream("GET", f"{base}/v1/statements?format=csv&limit={rows}", timeout=600) as r:
        lines = sum(chunk.count("\n") for chunk in r.iter_text())
    seconds = time.perf_counter() - started
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
    ceiling = results["ceiling"]["hello"]["rps"]
    say(f"\n{args.statements:,} statements, SQLite, one server core, wrk -c{args.connections}")
    say(f"{'workload':<16}{'ours r/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'datasette':>11}{'x':>7}"
        f"{'% ceiling':>11}{'non-2xx':>9}")  # fmt: skip
    for name, ours in results["ours"].items():
        if "rps" not in ours:
            continue
        other = results["datasette"].get(name, {})
        ratio = f"{ours['rps'] / other['rps']:.1f}" if other else "-"
        errors = ours["errors"] + other.get("errors", 0)
        share = 100 * ours["rps"] / ceiling
        say(f"{name:<16}{ours['rps']:>10.0f}{ours['p50_ms']:>9.1f}{ours['p99_ms']:>9.1f}"
            f"{other.get('rps', 0):>11.0f}{ratio:>7}{share:>10.0f}%{errors:>9}")  # fmt: skip
    say(f"{'hello (ceiling)':<16}{ceiling:>10.0f}")
    export = results["ours"]["csv_export"]
    say(f"CSV export: {export['rows']:,} rows at {export['rows_per_s']:,.0f} rows/s")
    if loading:
        rate, peak = loading["rows_per_s"], loading["peak_mib"]
        say(f"Loading: {loading['seconds']:.1f} s ({rate:,.0f} rows/s), peak {peak:.0f} MiB")


if __name__ == "__main__":
    main()
